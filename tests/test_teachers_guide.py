"""The teacher's guide (notebooks/README.md) keeps up with the course.

It must name every lesson notebook and draw each one in its Mermaid graph; every
exercise check it names (written `module.check_name`) must exist in
``recsys_helpers.exercises.<module>``; every check a lesson runs, and every
check the exercise modules export, must be in it; and its run times and peak
memory on the shop must be the README's lesson-budget table. Plain file reads
and imports only: no notebook is executed, no network.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
GUIDE = NOTEBOOKS / "README.md"
README = ROOT / "README.md"
EXERCISES = ROOT / "recsys_helpers" / "exercises"

LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
EXERCISE_MODULES = sorted(
    p.stem for p in EXERCISES.glob("*.py") if not p.stem.startswith("_")
)

# A check named in the guide: `module.check_name` in backticks.
NAMED_CHECK = re.compile(r"`([a-z_]+)\.(check_\w+)`")
EXERCISES_IMPORT = re.compile(
    r"from recsys_helpers\.exercises import (\w+)(?: as (\w+))?"
)
MERMAID = re.compile(r"```mermaid\n(.*?)```", re.DOTALL)
NODE = re.compile(r"\bL(\d\d)\[")
EDGE_END = re.compile(r"\bL(\d\d)\b")
TIME_CELL = re.compile(r"^[\d.,]+ s\b")


def guide_text() -> str:
    assert GUIDE.is_file(), "notebooks/README.md (the teacher's guide) is missing"
    return GUIDE.read_text(encoding="utf-8")


def named_checks() -> set[tuple[str, str]]:
    return set(NAMED_CHECK.findall(guide_text()))


def mermaid_graph() -> str:
    blocks = MERMAID.findall(guide_text())
    assert len(blocks) == 1, f"expected one ```mermaid block, found {len(blocks)}"
    return blocks[0]


def lesson_number(path: Path) -> str:
    return path.name[:2]


def code_of(notebook: Path) -> str:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def section(text: str, heading: str) -> str:
    """The text under the ``## `` heading that starts with ``heading``."""
    match = re.search(
        rf"^## {re.escape(heading)}.*?$(.*?)(?=^## |\Z)", text, re.M | re.S
    )
    assert match, f"no section '## {heading}' in the guide"
    return match.group(1)


def time_rows(text: str) -> dict[str, list[str]]:
    """Table rows whose first cell starts with a lesson number and whose second
    cell is a time in seconds, keyed by the lesson number."""
    rows = {}
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if (
            len(cells) >= 4
            and re.match(r"^\d\d\b", cells[0])
            and TIME_CELL.match(cells[1])
        ):
            rows[cells[0][:2]] = cells
    return rows


def test_the_lessons_and_exercise_modules_are_found():
    assert len(LESSONS) >= 12
    assert "getting_started" in EXERCISE_MODULES


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_the_guide_names_every_lesson(lesson):
    assert lesson.name in guide_text(), f"the guide does not name {lesson.name}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_is_in_the_mermaid_graph(lesson):
    number = lesson_number(lesson)
    graph = mermaid_graph()
    assert number in NODE.findall(graph), f"no node L{number}[...] in the graph"
    assert re.search(rf"\bL{number}\b(?!\[)", graph), (
        f"lesson {number} has a node but no arrow in the graph"
    )


def test_the_graph_names_only_lessons_that_exist():
    existing = {lesson_number(p) for p in LESSONS}
    drawn = set(EDGE_END.findall(mermaid_graph()))
    assert drawn <= existing, f"the graph draws missing lessons: {drawn - existing}"


def test_every_check_the_guide_names_exists():
    checks = named_checks()
    assert checks, "the guide names no `module.check_name`"
    missing = []
    for module_name, function in sorted(checks):
        if module_name not in EXERCISE_MODULES:
            missing.append(f"{module_name}.{function} (no such exercises module)")
            continue
        module = importlib.import_module(f"recsys_helpers.exercises.{module_name}")
        if not callable(getattr(module, function, None)):
            missing.append(f"{module_name}.{function}")
    assert not missing, "the guide names checks that do not exist: " + ", ".join(
        missing
    )


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_check_a_lesson_runs_is_in_the_guide(lesson):
    code = code_of(lesson)
    imports = EXERCISES_IMPORT.findall(code)
    assert imports, f"{lesson.name} imports no recsys_helpers.exercises module"
    checks = named_checks()
    for module_name, alias in imports:
        called = set(re.findall(rf"\b{alias or module_name}\.(check_\w+)\(", code))
        assert called, f"{lesson.name} calls no check of {module_name}"
        absent = sorted(f for f in called if (module_name, f) not in checks)
        assert not absent, (
            f"{lesson.name} runs checks the guide does not name: "
            + ", ".join(f"{module_name}.{f}" for f in absent)
        )


@pytest.mark.parametrize("module_name", EXERCISE_MODULES)
def test_every_exported_check_is_in_the_guide(module_name):
    module = importlib.import_module(f"recsys_helpers.exercises.{module_name}")
    exported = [n for n in getattr(module, "__all__", ()) if n.startswith("check_")]
    checks = named_checks()
    absent = [n for n in exported if (module_name, n) not in checks]
    assert not absent, f"the guide does not name {module_name}.{absent}"


def test_the_run_times_are_the_readmes():
    readme = time_rows(README.read_text(encoding="utf-8"))
    guide = time_rows(section(guide_text(), "2. Time"))
    lessons = {lesson_number(p) for p in LESSONS}
    assert lessons <= set(readme), "the README's budget table misses a lesson"
    for number in sorted(lessons):
        assert number in guide, f"lesson {number} has no row in the guide's Time"
        # Run on shop, peak memory on shop, run on ml-latest-small.
        assert guide[number][1:4] == readme[number][1:4], (
            f"lesson {number}: the guide says {guide[number][1:4]}, "
            f"the README's budget table {readme[number][1:4]}"
        )
