"""tools/install_java.sh: installs Debian's Java only when none is found.

This machine and CI already have Java, so the install path runs against
stubs: a private PATH holding only a fake ``apt-get`` (which logs its
arguments and "installs" a fake ``java``), a fake ``id`` and ``head``;
the real ``java`` is hidden because its folder is not on that PATH.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "install_java.sh"
BASH = "/bin/bash"
CHMOD = shutil.which("chmod") or "/bin/chmod"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(BASH) and os.name == "posix"), reason="needs bash (POSIX)"
)


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def fake_bin(tmp_path):
    """A PATH with a logging apt-get, a root `id` and `head`; no java."""
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "apt-get.log"
    java = "echo 'openjdk version \"17.0.99\"' >&2"
    _stub(
        folder,
        "apt-get",
        f'echo "$@" >> "{log}"\n'
        f'if [ "$1" = install ]; then printf "#!{BASH}\\n%s\\n" "{java}" '
        f'> "{folder}/java"; {CHMOD} +x "{folder}/java"; fi',
    )
    _stub(folder, "id", "echo 0")
    _stub(folder, "head", 'read -r line; echo "$line"; cat > /dev/null')
    return folder, log


def _run(folder: Path) -> subprocess.CompletedProcess:
    env = {"PATH": str(folder), "HOME": str(folder.parent)}  # no JAVA_HOME
    return subprocess.run(
        [BASH, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


def test_installs_openjdk_17_when_java_is_missing(fake_bin):
    folder, log = fake_bin
    assert not (folder / "java").exists()
    result = _run(folder)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[0] == "update"
    assert calls[1].split()[0] == "install"
    assert "openjdk-17-jre-headless" in calls[1].split()
    assert "-y" in calls[1].split()
    assert "installed" in result.stdout


def test_skips_when_java_is_present(fake_bin):
    folder, log = fake_bin
    _stub(folder, "java", "echo 'openjdk version \"17.0.15\"' >&2")
    result = _run(folder)
    assert result.returncode == 0, result.stderr
    assert "found" in result.stdout
    assert not log.exists(), "apt-get was called although java is present"


def test_skips_when_java_home_has_java(fake_bin, tmp_path):
    folder, log = fake_bin
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    _stub(home / "bin", "java", "echo 'openjdk version \"21\"' >&2")
    env = {"PATH": str(folder), "HOME": str(tmp_path), "JAVA_HOME": str(home)}
    result = subprocess.run(
        [BASH, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert not log.exists()


def test_not_root_explains_instead_of_installing(fake_bin):
    folder, log = fake_bin
    _stub(folder, "id", "echo 1000")
    result = _run(folder)
    assert result.returncode == 1
    assert "sudo apt-get" in result.stderr
    assert "openjdk-17-jre-headless" in result.stderr
    assert not log.exists()
