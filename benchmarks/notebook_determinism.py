"""Do two executions of a notebook store identical outputs?

Usage::

    python benchmarks/notebook_determinism.py [notebooks ...]

Executes each notebook twice (as ``make notebooks`` does) into temporary
copies and compares every code cell's outputs: stdout, text, HTML and images
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


def compare(path: Path) -> tuple[int, int, list[int]]:
    """(compared cells, ignored cells that differed, indices that differ)."""
    first, second = execute(path), execute(path)
    compared, ignored, differing = 0, 0, []
    for index, (a, b) in enumerate(zip(first.cells, second.cells, strict=True)):
        if a.cell_type != "code":
            continue
        same = cell_outputs(a) == cell_outputs(b)
        if a.source.lstrip().startswith("# NBVAL_IGNORE_OUTPUT"):
            ignored += not same
            continue
        compared += 1
        if not same:
            differing.append(index)
    return compared, ignored, differing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    notebooks = args.notebooks or sorted((ROOT / "notebooks").rglob("[0-9]*.ipynb"))
    failures = 0
    for path in notebooks:
        compared, ignored, differing = compare(path)
        status = "identical" if not differing else f"DIFFER in cells {differing}"
        print(
            f"{path.resolve().relative_to(ROOT)}: {compared} compared cells {status}; "
            f"{ignored} ignored cell(s) differed"
        )
        failures += bool(differing)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
