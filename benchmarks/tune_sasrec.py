"""Choose SASRec's hyper-parameters on a validation split carved from train.

SASRec's task is the next item, so the protocol is ``benchmarks/protocol.py``'s
with ``split.leave_last_out`` in place of ``split.by_time``, and the test split
is never used: for each dataset, ``split.leave_last_out(ds)`` gives (train,
test); ``split.leave_last_out(train)`` gives (fit, validation), and every
configuration is fitted on ``fit`` and scored by nDCG@10 (full ranking, ``fit``'s
items excluded) on the validation users, beside Popularity, Transitions and
ALS. The fit time of each configuration is printed too: the defaults must keep
a fit on shop under about 30 s on a quiet 2-core machine (lesson 11 fits every
model); an epoch on ml-latest-small costs several seconds (a softmax over 9,742
items at every position), so the epochs there stay few.

Usage::

    .venv/bin/python benchmarks/tune_sasrec.py shop
    .venv/bin/python benchmarks/tune_sasrec.py shop --grid "epochs=30,60"

    RECSYS_DATA_DIR=... .venv/bin/python benchmarks/tune_sasrec.py \\
        movielens-latest-small --grid "epochs=5,10"

``--grid`` varies one or more parameters around the defaults (a full product,
``;`` between parameters, ``,`` between values, each a Python literal);
without it a one-at-a-time sweep runs.
"""

from __future__ import annotations

import argparse
import itertools
import time

import pandas as pd
import protocol
from tune_two_tower import parse_grid

from recsys_helpers import environment, evaluation, models, split
from recsys_helpers.data import Dataset

# before TensorFlow is imported; values already set (by the caller) win
environment.apply(environment.QUIET_ENV, override=False)

SWEEP = {
    "dropout": [0.0, 0.5],
    "epochs": [15, 60],
    "learning_rate": [0.001, 0.005],
    "max_len": [20, 100],
    "embedding_dim": [32, 128],
    "blocks": [1, 3],
    "loss": ["bce"],
}


def configurations(grid: dict[str, list] | None) -> list[dict]:
    """The product of ``grid``, or the defaults then :data:`SWEEP` one at a time."""
    if grid:
        keys = list(grid)
        return [
            dict(zip(keys, values, strict=True))
            for values in itertools.product(*grid.values())
        ]
    return [{}] + [{key: v} for key, values in SWEEP.items() for v in values]


def validation_split(name: str) -> tuple[Dataset, Dataset]:
    """``(fit, valid)``: leave-last-out inside the train part of leave-last-out."""
    train, _ = split.leave_last_out(protocol.load_dataset(name))  # test unused
    return split.leave_last_out(train)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--grid", type=parse_grid, default=None)
    args = parser.parse_args()
    for name in args.datasets:
        fit, valid = validation_split(name)
        baselines = {
            "Popularity": models.Popularity(),
            "Transitions": models.Transitions(),
            "ALS": models.ALS(),
        }
        rows = [
            evaluation.evaluate(model, fit, valid, name=label)
            for label, model in baselines.items()
        ]
        for config in configurations(args.grid):
            start = time.perf_counter()
            result = evaluation.evaluate(
                models.SASRec(**config), fit, valid, name=str(config or "defaults")
            )
            rows.append(result)
            print(
                f"{name} {config or 'defaults'}: "
                f"ndcg@10={result['ndcg@10'].iloc[0]:.4f} "
                f"(fit {result['fit_s'].iloc[0]:.1f} s, "
                f"all {time.perf_counter() - start:.1f} s)",
                flush=True,
            )
        table = pd.concat(rows).sort_values("ndcg@10", ascending=False)
        shown = evaluation.format_leaderboard(table)[["ndcg@10", "hit_rate@10"]]
        protocol.print_table(f"{name}, validation (leave_last_out inside train)", shown)


if __name__ == "__main__":
    main()
