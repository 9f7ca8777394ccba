"""Do repeated executions of a notebook store identical outputs?

Usage::

    python benchmarks/notebook_determinism.py [--runs 3] [notebooks ...]

Executes each notebook ``--runs`` times (default 3; as ``make notebooks``
does) into temporary copies and compares every code cell's outputs with the
first run's: stdout, text, HTML and images
(stderr, which nbval does not compare either, is left out). Cells
whose first line is ``# NBVAL_IGNORE_OUTPUT`` (timings, numbers from
TensorFlow training) are reported separately, since they may legitimately
differ. Exits non-zero when a compared cell differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tools/ is not installed: it is not the package's

from tools.notebook_runner import execute  # noqa: E402  (after the path)

COMPARED = ("text/plain", "text/html", "image/png")


def cell_outputs(cell: dict) -> list:
    """The parts of a cell's outputs that a regression test could compare."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            # stderr is not compared (as in nbval's conftest): warnings there
            # name the kernel's temporary files, which differ on every run
            if output["name"] == "stdout":
                parts.append(("stdout", output["text"]))
        elif output["output_type"] in ("execute_result", "display_data"):
            data = output.get("data", {})
            parts.append(tuple((key, data[key]) for key in COMPARED if key in data))
        elif output["output_type"] == "error":
            parts.append(("error", output["ename"], output["evalue"]))
    return parts


def compare(path: Path, runs: int) -> tuple[int, int, list[int]]:
    """(compared cells, ignored cells that differed, indices that differ)."""
    first, *others = [execute(path) for _ in range(runs)]
    compared, ignored, differing = 0, 0, []
    for index, cell in enumerate(first.cells):
        if cell.cell_type != "code":
            continue
        same = all(
            cell_outputs(cell) == cell_outputs(other.cells[index]) for other in others
        )
        if cell.source.lstrip().startswith("# NBVAL_IGNORE_OUTPUT"):
            ignored += not same
            continue
        compared += 1
        if not same:
            differing.append(index)
    return compared, ignored, differing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="executions, >= 2")
    args = parser.parse_args()
    if args.runs < 2:
        parser.error(f"--runs must be at least 2 to compare anything, got {args.runs}")
    notebooks = args.notebooks or sorted((ROOT / "notebooks").rglob("[0-9]*.ipynb"))
    failures = 0
    for path in notebooks:
        compared, ignored, differing = compare(path, args.runs)
        status = (
            f"identical over {args.runs} runs"
            if not differing
            else f"DIFFER in cells {differing}"
        )
        print(
            f"{path.resolve().relative_to(ROOT)}: {compared} compared cells {status}; "
            f"{ignored} ignored cell(s) differed"
        )
        failures += bool(differing)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
