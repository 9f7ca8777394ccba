"""Execute lessons headless: ``python tools/notebook_runner.py``.

``make notebooks`` re-executes notebooks in place (so stored outputs equal a
fresh run, for nbval to compare); ``make run`` executes copies into a build
folder and prints each lesson's final metrics table, the output of the cell
tagged ``final-metrics``.

Kernels run with :data:`recsys_helpers.environment.QUIET_ENV` (progress bars
off, TensorFlow's C++ logs silenced and oneDNN off, a fixed
``PYTHONHASHSEED``) and the default inline figure backend, from the
notebook's folder. A maintainer tool (nbformat and nbclient are development
dependencies), so it lives here rather than in the package.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from recsys_helpers import environment


def execute(path: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Execute a notebook top to bottom in its own folder and return it.

    Cells tagged ``raises-exception`` may fail; any other error stops the run
    with a ``CellExecutionError``.
    """
    environment.apply(environment.QUIET_ENV)
    os.environ.pop("MPLBACKEND", None)  # inline figures, as a learner sees them
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return notebook


def final_metrics(notebook: nbformat.NotebookNode) -> str | None:
    """Text output of the cell tagged ``final-metrics``, if any."""
    for cell in notebook.cells:
        if "final-metrics" in cell.get("metadata", {}).get("tags", []):
            texts = [
                out.get("text") or out.get("data", {}).get("text/plain", "")
                for out in cell.get("outputs", [])
            ]
            return "\n".join(t for t in texts if t).strip()
    return None


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--in-place", action="store_true", help="overwrite inputs")
    where.add_argument("--output-dir", type=Path, help="write executed copies here")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        start = time.perf_counter()
        notebook = execute(path)
        seconds = time.perf_counter() - start
        target = path if args.in_place else args.output_dir / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        print(f"== {path} executed in {seconds:.1f} s -> {target}")
        if not args.in_place:
            print(final_metrics(notebook) or "(no cell tagged final-metrics)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
