"""Choose the default regularisation of EASE on validation data.

Protocol (``benchmarks/protocol.py``; never touches test): for each dataset,
``train, _ = split.by_time(ds, 0.2)`` (the course's split), then a validation
split carved from train, ``fit_part, valid = split.by_time(train, 0.2)``.
Every ``lambda`` is fitted on ``fit_part`` and scored by mean nDCG@10 on
``valid``. One value must serve both datasets, so values are ranked by the
mean over datasets of nDCG@10 relative to that dataset's best ("1.000" = best
on both).

Usage::

    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/tune_ease.py
    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/tune_ease.py --quick
    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/tune_ease.py --timing

Needs ml-latest-small in ``RECSYS_DATA_DIR`` (or the user cache, or a
network connection); without it only ``shop`` is tuned. Takes a few minutes
on 2 cores (one EASE fit on ml-latest-small is a 9,742 x 9,742 inverse).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import protocol

from recsys_helpers.models import EASE


def relative_table(scores: dict[float, dict[str, float]]) -> pd.DataFrame:
    """Scores per value, plus their mean relative to each dataset's best."""
    table = pd.DataFrame(scores).T
    table.index.name = "regularization"
    table["relative"] = (table / table.max()).mean(axis=1)
    return table.sort_values("relative", ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller grid")
    parser.add_argument(
        "--timing",
        action="store_true",
        help="only time one fit with the defaults on ml-latest-small's train split",
    )
    args = parser.parse_args()
    if args.timing:
        protocol.time_one_fit(EASE())
        return
    splits = protocol.validation_splits(
        ["movielens-latest-small"], skip_unavailable=True
    )
    splits["shop"] = protocol.validation_split("shop")
    grid = [100.0, 300.0, 1000.0]
    if not args.quick:
        grid = [10.0, 30.0, 100.0, 200.0, 300.0, 500.0, 1000.0, 3000.0]
    start = time.perf_counter()
    scores = {}
    for lam in grid:
        scores[lam] = {
            name: protocol.validation_ndcg(EASE(regularization=lam), *parts)
            for name, parts in splits.items()
        }
        shown = " ".join(f"{n}={v:.4f}" for n, v in scores[lam].items())
        print(f"  regularization={lam:g}: {shown}", flush=True)
    title = "EASE, validation nDCG@10 (best first):"
    protocol.print_table(title, relative_table(scores))
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
