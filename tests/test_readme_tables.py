"""The README's benchmark tables are those the committed benchmark tables give.

``benchmarks/readme.py`` renders them from ``benchmarks/results/lesson_budget_*.csv``
and the packaged leaderboards; ``make bench`` rewrites them. Plain file reads:
nothing is executed or measured here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_readme_module():
    spec = importlib.util.spec_from_file_location(
        "benchmarks_readme", ROOT / "benchmarks" / "readme.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


readme = load_readme_module()


def test_the_readme_tables_are_the_committed_figures():
    text = readme.README.read_text(encoding="utf-8")
    rendered = readme.blocks(
        readme.budgets("shop"), readme.budgets("movielens-latest-small")
    )
    assert readme.replace_blocks(text, rendered) == text, (
        "README.md's benchmark tables drifted from the committed tables: "
        "run python benchmarks/readme.py --write"
    )


def test_the_guide_times_are_the_committed_figures():
    text = readme.GUIDE.read_text(encoding="utf-8")
    shop = readme.budgets("shop")
    movielens = readme.budgets("movielens-latest-small")
    assert readme.guide_with_times(text, shop, movielens) == text, (
        "notebooks/README.md's Time table drifted: run python benchmarks/readme.py "
        "--write"
    )


@pytest.mark.parametrize("dataset", ["shop", "movielens-latest-small"])
def test_every_lesson_is_measured(dataset):
    lessons = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    assert readme.budgets(dataset).index.tolist() == lessons


def test_a_missing_block_is_an_error_not_a_silent_skip():
    with pytest.raises(ValueError, match="0 'budgets' blocks"):
        readme.replace_blocks("no markers here", {"budgets": "| table |"})


def test_over_budget_lessons_are_named():
    table = pd.DataFrame(
        {
            "seconds": [10.0, 70.0],
            "seconds_budget": [60.0, 60.0],
            "peak_mb": [100.0, 100.0],
            "peak_mb_budget": [1536.0, 1536.0],
            "tree_mb": [100.0, 2100.0],
            "tree_mb_budget": [1536.0, 2048.0],
        },
        index=pd.Index(["01_a", "09_b"], name="lesson"),
    )
    assert readme._over(table) == (["09"], ["09"])
