"""The README's benchmark tables, rendered from the tables the benchmarks wrote.

Usage (from the repository root; ``make bench`` runs it last)::

    python benchmarks/readme.py           # exit 1 if the README is out of date
    python benchmarks/readme.py --write   # rewrite the README's tables

Three blocks of README.md are generated, each between a
``<!-- begin: benchmarks/readme.py NAME -->`` and an
``<!-- end: benchmarks/readme.py NAME -->`` line:

* ``budgets``: every lesson's wall time and peak memory on the shop and on
  ml-latest-small against its budget, from
  ``benchmarks/results/lesson_budget_<dataset>.csv``
  (``benchmarks/lesson_budget.py --write``);
* ``leaderboard-shop`` and ``leaderboard-movielens-latest-small``: nDCG@10
  with its interval, the paired difference from Popularity, coverage and the
  cost of each fit, from the leaderboards lesson 11 reads
  (``benchmarks/leaderboard.py --write``).

The teacher's guide (notebooks/README.md) repeats the first three figures of
each lesson in its "2. Time" table; ``--write`` rewrites those cells too. A
unit test (tests/test_readme_tables.py) fails when either file drifts from
the committed tables.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_helpers.datasets import read_committed_table, read_table_file

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDE = ROOT / "notebooks" / "README.md"
RESULTS = ROOT / "benchmarks" / "results"
DATASETS = ("shop", "movielens-latest-small")
DISPLAY_NAMES = {
    "Oracle": "Oracle (the hidden truth)",
    "TwoStage": "TwoStage (ALS, then LambdaMART)",
    "SparkALS": "SparkALS (lesson 09, settings mapped from ALS)",
}
MINUS = "\u2212"


def budgets(dataset: str) -> pd.DataFrame:
    """``lesson_budget.py --write``'s table for ``dataset``, indexed by lesson."""
    path = RESULTS / f"lesson_budget_{dataset}.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path.relative_to(ROOT)} is missing: run python "
            f"benchmarks/lesson_budget.py --dataset {dataset} --write"
        )
    return read_table_file(path, index_col="lesson")


def _made_by(table: pd.DataFrame) -> str:
    """```command` (date, cores)`` from a committed table's first line."""
    command, stamp = table.attrs["made_by"].split("; ")[:2]
    return f"`{command}` ({stamp})"


def _megabytes(value: float) -> str:
    return f"{value:,.0f} MB"


def _starts_java(row: pd.Series) -> bool:
    """A lesson whose process tree has a budget of its own (Python and Java)."""
    return row["tree_mb_budget"] > row["peak_mb_budget"]


def _memory(row: pd.Series) -> str:
    """The largest process; for a Spark lesson the process tree too."""
    text = _megabytes(row["peak_mb"])
    if _starts_java(row):
        text += f"; {_megabytes(row['tree_mb'])} with the JVM"
    return text


def _lesson_label(lesson: str, row: pd.Series) -> str:
    number, _, name = lesson.partition("_")
    limits = f"{row['seconds_budget']:.0f} s, {row['peak_mb_budget'] / 1024:g} GB"
    if _starts_java(row):
        limits += f"; with Java {row['tree_mb_budget'] / 1024:g} GB"
    return f"{number} {name.replace('_', ' ')} ({limits})"


def _over(table: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Lesson numbers over their time budget, and over a memory budget."""
    slow = table.index[table["seconds"] > table["seconds_budget"]]
    heavy = table.index[
        (table["peak_mb"] > table["peak_mb_budget"])
        | (table["tree_mb"] > table["tree_mb_budget"])
    ]
    return [name[:2] for name in slow], [name[:2] for name in heavy]


def _listing(numbers: list[str]) -> str:
    return ", ".join(numbers) if numbers else "none"


def budget_block(shop: pd.DataFrame, movielens: pd.DataFrame) -> str:
    """The lesson-budget table and what it says about the budgets."""
    lines = [
        "| lesson (budget) | wall time on shop | peak memory on shop "
        "| wall time on ml-latest-small | peak memory on ml-latest-small |",
        "|---|---|---|---|---|",
    ]
    for lesson, row in shop.iterrows():
        other = movielens.loc[lesson]
        lines.append(
            f"| {_lesson_label(lesson, row)} | {row['seconds']:.1f} s "
            f"| {_memory(row)} | {other['seconds']:.1f} s | {_memory(other)} |"
        )
    lines.append(
        f"| whole course (10 min) | {shop['seconds'].sum():.0f} s | "
        f"| {movielens['seconds'].sum():.0f} s | |"
    )
    shop_slow, shop_heavy = _over(shop)
    ml_slow, ml_heavy = _over(movielens)
    lines += [
        "",
        f"Over the time budget on the shop: {_listing(shop_slow)}; over a memory "
        f"budget: {_listing(shop_heavy)}. On ml-latest-small, over the shop's time "
        f"budget: {_listing(ml_slow)}; over a memory budget: {_listing(ml_heavy)}.",
        "",
        f"Made by {_made_by(shop)} and {_made_by(movielens)}.",
    ]
    return "\n".join(lines)


def _fixed(value: float) -> str:
    """Three decimals, rounded as pandas prints them (numpy, half to even)."""
    return f"{np.round(value, 3):.3f}"


def _signed(value: float) -> str:
    return f"{np.round(value, 3):+.3f}".replace("-", MINUS)


def leaderboard_block(dataset: str) -> str:
    """One published leaderboard as a README table."""
    table = read_committed_table(f"leaderboard_{dataset}.csv", index_col="model")
    lines = [
        "| model | nDCG@10 | vs Popularity (paired 95% CI) | coverage@10 "
        "| fit: seconds, MB |",
        "|---|---|---|---|---|",
    ]
    for model, row in table.iterrows():
        ndcg = (
            f"{_fixed(row['ndcg@10'])} [{_fixed(row['ndcg@10_low'])}, "
            f"{_fixed(row['ndcg@10_high'])}]"
        )
        versus = ""
        if model != "Popularity":
            versus = (
                f"{_signed(row['vs_popularity_difference'])} "
                f"[{_signed(row['vs_popularity_low'])}, "
                f"{_signed(row['vs_popularity_high'])}]"
            )
            if row["vs_popularity_verdict"] != "wins":
                versus += f" ({row['vs_popularity_verdict']})"
        fit = f"{row['fit_s']:.2f} s, {row['fit_mb']:,.0f} MB"
        lines.append(
            f"| {DISPLAY_NAMES.get(model, model)} | {ndcg} | {versus} "
            f"| {_fixed(row['coverage@10'])} | {fit} |"
        )
    lines += ["", f"Made by {_made_by(table)}."]
    return "\n".join(lines)


def blocks(shop: pd.DataFrame, movielens: pd.DataFrame) -> dict[str, str]:
    """Every generated block of the README, by name, from the two budget tables."""
    rendered = {"budgets": budget_block(shop, movielens)}
    for dataset in DATASETS:
        rendered[f"leaderboard-{dataset}"] = leaderboard_block(dataset)
    return rendered


def _escaped(body: str) -> str:
    """``body`` as a literal regular-expression replacement."""
    return body.replace("\\", "\\\\")


def replace_blocks(text: str, rendered: dict[str, str]) -> str:
    """``text`` with each named block's body replaced; every block must exist."""
    for name, body in rendered.items():
        pattern = re.compile(
            rf"(<!-- begin: benchmarks/readme\.py {re.escape(name)} -->\n)"
            rf".*?"
            rf"(<!-- end: benchmarks/readme\.py {re.escape(name)} -->)",
            re.S,
        )
        text, found = pattern.subn(rf"\g<1>{_escaped(body)}\n\g<2>", text)
        if found != 1:
            raise ValueError(f"README.md has {found} '{name}' blocks, expected 1")
    return text


def notebook_size(lesson: str) -> tuple[int, int]:
    """Words of a lesson's Markdown cells and the number of its code cells."""
    cells = json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text())["cells"]
    words = sum(
        len("".join(cell["source"]).split())
        for cell in cells
        if cell["cell_type"] == "markdown"
    )
    return words, sum(cell["cell_type"] == "code" for cell in cells)


def _to_five(minutes: float) -> int:
    return int(5 * round(minutes / 5))


def teaching_minutes(words: int, code_cells: int, seconds: float, exercises: int):
    """The guide's estimate: (presenting only, with every exercise) in minutes.

    120 words a minute, half a minute per code cell, the run time on the
    shop, and 10 minutes per exercise; both ends rounded to 5 minutes.
    """
    presenting = words / 120 + code_cells * 0.5 + seconds / 60
    return _to_five(presenting), _to_five(presenting + 10 * exercises)


def guide_with_times(text: str, shop: pd.DataFrame, movielens: pd.DataFrame) -> str:
    """The guide's "2. Time" rows from the budget tables and the notebooks.

    Each row: lesson | run on shop | peak memory on shop | run on
    ml-latest-small | stated reading time (kept) | Markdown words | code cells |
    exercises (kept, "checked + discussion") | teaching estimate.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        cells = line.split("|")
        if len(cells) != 11 or not re.fullmatch(r" \d\d ", cells[1]):
            continue
        number = cells[1].strip()
        matches = [lesson for lesson in shop.index if lesson.startswith(number + "_")]
        if len(matches) != 1:
            continue
        row, other = shop.loc[matches[0]], movielens.loc[matches[0]]
        words, code_cells = notebook_size(matches[0])
        exercises = sum(int(part) for part in cells[8].split("+"))
        low, high = teaching_minutes(words, code_cells, row["seconds"], exercises)
        cells[2:5] = [
            f" {row['seconds']:.1f} s ",
            f" {_memory(row)} ",
            f" {other['seconds']:.1f} s ",
        ]
        cells[6:8] = [f" {words:,} ", f" {code_cells} "]
        cells[9] = f" {low}\u2013{high} min "
        lines[index] = "|".join(cells)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the files")
    args = parser.parse_args()
    shop, movielens = budgets("shop"), budgets("movielens-latest-small")
    rendered = blocks(shop, movielens)
    files = {
        README: replace_blocks(README.read_text(encoding="utf-8"), rendered),
        GUIDE: guide_with_times(GUIDE.read_text(encoding="utf-8"), shop, movielens),
    }
    stale = [path for path, text in files.items() if path.read_text() != text]
    for path in stale:
        if args.write:
            path.write_text(files[path], encoding="utf-8")
        print(f"{'rewrote' if args.write else 'out of date:'} {path.relative_to(ROOT)}")
    if not stale:
        print("README.md and notebooks/README.md agree with the committed tables")
    print(rendered["budgets"])
    return 1 if stale and not args.write else 0


if __name__ == "__main__":
    raise SystemExit(main())
