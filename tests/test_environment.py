"""The set-up files agree with each other, and stored notebooks are clean."""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools import lock

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p
    for p in (ROOT / "notebooks").rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)


def test_environment_yml_is_generated_from_the_lock():
    assert (ROOT / "environment.yml").read_text() == lock.environment_text(), (
        "environment.yml drifted from requirements-lock.txt: run `make lock`"
    )


def test_environment_pins_python_for_binder():
    assert f"  - python={lock.PYTHON}\n" in (ROOT / "environment.yml").read_text()


@pytest.mark.parametrize(
    "platform",
    [
        lock.BINDER_PLATFORM,
        {
            **lock.BINDER_PLATFORM,
            "sys_platform": "darwin",
            "platform_machine": "arm64",
            "platform_system": "Darwin",
        },
        {
            **lock.BINDER_PLATFORM,
            "sys_platform": "win32",
            "platform_machine": "AMD64",
            "platform_system": "Windows",
            "os_name": "nt",
        },
    ],
    ids=["linux-x86_64", "macos-arm64", "windows"],
)
def test_lock_satisfies_pyproject_on_each_platform(platform):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    pins = lock.locked_pins(platform)
    checked = 0
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate(platform):
            continue
        assert requirement.name in pins, f"{requirement.name} is not in the lock"
        assert requirement.specifier.contains(pins[requirement.name]), (
            f"lock pins {requirement.name}=={pins[requirement.name]}, "
            f"pyproject wants {requirement.specifier}"
        )
        checked += 1
    assert checked >= 10
    # TensorFlow reaches every platform, CPU-only wheels where they exist
    assert {"tensorflow", "tensorflow-cpu"} & set(pins)


def test_importing_the_package_does_not_import_tensorflow():
    code = (
        "import sys, recsys_helpers; from recsys_helpers import models; "
        "models.Popularity; print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean(path):
    notebook = json.loads(path.read_text())
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    code = [
        c
        for c in notebook["cells"]
        if c["cell_type"] == "code" and "".join(c["source"]).strip()
    ]
    counts = [c["execution_count"] for c in code]
    assert None not in counts, "a code cell was never executed: run `make notebooks`"
    assert counts == list(range(1, len(code) + 1)), (
        "cells were not run top to bottom once"
    )
    for cell in code:
        tags = cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        assert not errors or "raises-exception" in tags, "unexpected error output"


def test_no_checkpoints_or_data_files_are_tracked():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [p for p in tracked if ".ipynb_checkpoints" in p]
    forbidden = {"ratings.csv", "movies.csv", "tags.csv", "u.data", "u.item", "u.user"}
    assert not [p for p in tracked if Path(p).name in forbidden]


# Maintainers' tools: in the lock (make installs them) but never on Binder.
DEV_ONLY = {
    "playwright",
    "greenlet",  # playwright's
    "ruff",
    "hypothesis",
    "sortedcontainers",  # hypothesis's
    "pytest-timeout",
    "uv",
}
# What a learner and a teacher run on Binder: the lessons, JupyterLab, nbval.
ON_BINDER = {"jupyterlab", "ipykernel", "pytest", "nbval", "tensorflow-cpu", "pooch"}


def _environment_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("      - "):
            name, version = line.removeprefix("      - ").split("==")
            pins[name] = version
    return pins


def test_binder_environment_has_no_developer_tools():
    pins = _environment_pins()
    assert pins, "environment.yml lists no pip packages"
    assert not DEV_ONLY & set(pins), f"dev-only on Binder: {DEV_ONLY & set(pins)}"
    assert set(pins) >= ON_BINDER, f"missing on Binder: {ON_BINDER - set(pins)}"
    assert pins == {n: v for n, v in lock.locked_pins().items() if n in pins}


def test_binder_environment_is_closed_under_dependencies():
    """Every dependency (installed metadata) of a Binder package is on Binder.

    Cross-checks tools/lock.py's reading of the lock's ``# via`` comments
    against the packages' own metadata.
    """
    from importlib import metadata

    pins = _environment_pins()
    checked, missing = 0, []
    for name, version in pins.items():
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if dist.version != version:
            continue  # another version here: its metadata proves nothing
        for line in dist.requires or []:
            requirement = Requirement(line)
            environment = {**lock.BINDER_PLATFORM, "extra": ""}
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            checked += 1
            if canonicalize_name(requirement.name) not in pins:
                missing.append(f"{name} needs {requirement}")
    assert not missing, missing
    assert checked > 50
