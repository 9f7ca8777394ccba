"""No absolute path of one particular machine in the repository.

Every tracked (or new, not ignored) ``.py``, ``.md`` and ``.ipynb`` file is
read; notebooks are parsed and every string in them is checked: sources,
stored outputs (stdout, stderr, rich data, error tracebacks) and metadata.
What a stored output of one machine typically holds, and what is flagged
(the folder names are written out in words here, so this file passes too):

* home folders: ``home`` and ``Users`` (macOS) with a user name below them,
  and ``root``, at the top of the file system; ``Users`` and ``AppData`` on a
  Windows drive;
* scratch and mount folders at the top of the file system: ``tmp`` (a
  warning raised in a notebook cell names the kernel's file there,
  ``ipykernel_NNN``), ``var`` + ``folders`` (macOS's temporary folders),
  ``work``, ``mnt``, ``srv``;
* installed packages, as tracebacks name them: any path through
  ``site-packages`` or ``dist-packages``, a ``lib`` + ``python3.NN`` folder
  (the standard library) or a ``.venv``;
* the folder this repository is checked out in and its parent, and the home
  folder of the user running the test, whatever they are.

Fix a stored output by re-running the notebook with the path gone from it
(relative paths, ``Path.name``, warnings silenced or filtered), a docstring by
naming an environment variable (``RECSYS_DATA_DIR``) or a relative path. The
patterns below spell their slashes as ``[/]`` so that this file passes too.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUFFIXES = (".py", ".md", ".ipynb")
SKIPPED_DIRS = {".git", ".venv", ".venv-bench", "build", "__pycache__"}

_SEP = r"[\\/]"  # a slash or a backslash
_START = r"(?<![\w.~-])"  # not inside a longer name or a relative path
STATIC_PATTERNS: dict[str, re.Pattern[str]] = {
    "a Unix home folder": re.compile(_START + r"[/](?:home|Users)[/][^/\\\s\"'`]+[/]"),
    "root's home folder": re.compile(_START + r"[/]root(?:[/]|\b)"),
    "a Windows user folder": re.compile(
        r"\b[A-Za-z]:" + _SEP + r"+(?:Users|Documents and Settings)" + _SEP
    ),
    "a Windows AppData folder": re.compile(_SEP + r"AppData" + _SEP),
    "a temporary folder": re.compile(
        _START + r"[/](?:private[/])?(?:tmp|var[/]folders)[/]"
    ),
    "a machine's scratch folder": re.compile(_START + r"[/](?:work|mnt|srv)[/]"),
    "an installed package's path": re.compile(_SEP + r"(?:site|dist)-packages" + _SEP),
    "a Python installation's path": re.compile(
        r"\blib" + _SEP + r"python[23]\.\d+" + _SEP
    ),
    "a virtual environment's path": re.compile(r"\.venv" + _SEP + r"(?:lib|Lib)"),
}


def _folder_pattern(folder: Path) -> re.Pattern[str] | None:
    """``folder`` as an absolute path prefix, unless it is the root or too short."""
    text = str(folder)
    if len(folder.parts) < 2 or len(text) < 4:
        return None
    return re.compile(_START + re.escape(text) + r"(?=[\\/\s\"'`:)]|$)")


PATTERNS = dict(STATIC_PATTERNS)
for _label, _folder in [
    ("this checkout's path", ROOT),
    ("the checkout's parent folder", ROOT.parent),
    ("the home folder of the user running the tests", Path.home()),
]:
    _pattern = _folder_pattern(_folder)
    if _pattern is not None:
        PATTERNS[_label] = _pattern


def repository_files() -> list[Path]:
    """Tracked files and new ones git does not ignore (all files without git)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        paths = [ROOT / p for p in listed]
    except (OSError, subprocess.CalledProcessError):
        paths = [
            p
            for p in ROOT.rglob("*")
            if not SKIPPED_DIRS & set(p.relative_to(ROOT).parts)
        ]
    return sorted(
        p
        for p in set(paths)
        if p.suffix in SUFFIXES and p.is_file() and ".ipynb_checkpoints" not in p.parts
    )


def _strings(node: object, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a parsed JSON document, with where it is."""
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, list):
        if node and all(isinstance(item, str) for item in node):
            yield where, "".join(node)  # a multi-line source or text
        else:
            for index, item in enumerate(node):
                yield from _strings(item, f"{where}[{index}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{where}.{key}" if where else str(key))


def _texts(path: Path) -> Iterator[tuple[str, str]]:
    """``(where, text)`` pieces of a file to check."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            notebook = json.loads(text)
        except json.JSONDecodeError:
            yield "(not JSON)", text
            return
        for index, cell in enumerate(notebook.get("cells", [])):
            kind = cell.get("cell_type", "cell")
            yield from _strings(cell, f"cell {index} ({kind})")
        yield from _strings(notebook.get("metadata", {}), "metadata")
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            yield f"line {number}", line


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # colours in stored tracebacks


def machine_paths(path: Path) -> list[str]:
    """One message per line of ``path`` that names a path of one machine."""
    found = []
    for where, text in _texts(path):
        lines = _ANSI.sub("", text).splitlines()
        for number, line in enumerate(lines, start=1):
            labels = [label for label, p in PATTERNS.items() if p.search(line)]
            if labels:
                place = where if len(lines) == 1 else f"{where}, line {number}"
                found.append(f"{place}: {'; '.join(labels)}: {line.strip()[:160]}")
    return found


FILES = repository_files()


def test_the_files_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in FILES}
    assert {"README.md", "tests/test_hygiene.py"} <= names
    assert any(name.endswith(".ipynb") for name in names)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_path_of_one_machine(path):
    found = machine_paths(path)
    assert not found, (
        f"{path.relative_to(ROOT)} names {len(found)} path(s) of one machine:\n"
        + "\n".join(found[:20])
    )


# Written with "|" for the separator, so that this file does not name them.
@pytest.mark.parametrize(
    ("text", "sep"),
    [
        ("see |home|alice|course|data", "/"),
        ("open |Users|bob|Downloads|ml.zip", "/"),
        ('File "|usr|lib|python3.11|asyncio|events.py", line 80', "/"),
        ("|opt|conda|lib|python3.11|site-packages|keras|x.py:12: UserWarning", "/"),
        ("|tmp|ipykernel_4242|3100.py:3: FutureWarning: ...", "/"),
        ("RECSYS_DATA_DIR=|work|shared|data", "/"),
        ("cached in |root|.cache|recsys", "/"),
        ("HOME=|root", "/"),
        ("C:|Users|carol|AppData|Local|Temp|x.py", "\\"),
        ("C:|Users|carol|project", "/"),
        (".venv|lib|python3.11|site-packages|pandas|core|frame.py", "/"),
        ("|var|folders|xy|T|tmpabc|file", "/"),
    ],
)
def test_the_patterns_see_paths_of_one_machine(text, sep):
    text = text.replace("|", sep)
    assert any(p.search(text) for p in STATIC_PATTERNS.values()), text


@pytest.mark.parametrize(
    "text",
    [
        "RECSYS_DATA_DIR=/path/to/folder make lab",
        "executable_path=/usr/bin/chromium",
        "https://github.com/someone/tmp/blob/main/x.py",
        "notebooks/solutions/00_getting_started_solutions.ipynb",
        "the user's home folder, ~/.cache/recsys",
        "benchmarks/tune_als.py chose the defaults",
        "rootless and /rooted/ are other words",
    ],
)
def test_the_patterns_let_portable_text_pass(text):
    assert not [label for label, p in STATIC_PATTERNS.items() if p.search(text)], text


def test_the_checkout_folder_is_a_pattern_too():
    text = f"wrote {ROOT / 'build' / 'x.ipynb'}"
    assert any(p.search(text) for p in PATTERNS.values())
