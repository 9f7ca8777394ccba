"""Choose TwoTower's hyper-parameters on a validation split carved from train.

The protocol is ``benchmarks/protocol.py``'s and the test split is never
used: for each dataset, ``split.by_time(ds, 0.2)`` gives (train, test);
``split.by_time(train, 0.2)`` gives (fit, validation), and every
configuration is scored by nDCG@10 on the validation part.

Usage::

    .venv/bin/python benchmarks/tune_two_tower.py shop movielens-latest-small
    .venv/bin/python benchmarks/tune_two_tower.py shop --grid "temperature=0.05,0.1"

``--grid`` varies one or more parameters around the defaults (a full
product of the values listed; ``;`` separates parameters, ``,`` values, each
value a Python literal: ``"embedding_dim=32,64;temperature=0.05,0.1"``);
without it a small one-at-a-time sweep runs.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import time

import pandas as pd
import protocol

from recsys_helpers import environment, evaluation, models

# before TensorFlow is imported; values already set (by the caller) win
environment.apply(environment.QUIET_ENV, override=False)

SWEEP = {
    "embedding_dim": [32, 64, 128],
    "temperature": [0.05, 0.1, 0.2],
    "epochs": [5, 10, 20],
    "batch_size": [256, 512, 1024],
    "learning_rate": [0.002, 0.005, 0.01],
}


def parse_grid(text: str) -> dict[str, list]:
    """``"a=1,2;b=0.1"`` -> ``{"a": [1, 2], "b": [0.1]}`` (an argparse type)."""
    grid = {}
    for part in text.split(";"):
        key, sep, values = part.partition("=")
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(f"expected name=value,...: {part!r}")
        try:
            grid[key.strip()] = [ast.literal_eval(v.strip()) for v in values.split(",")]
        except (ValueError, SyntaxError) as error:
            raise argparse.ArgumentTypeError(
                f"{part!r}: values must be Python literals (64, 0.1, 'adam', True)"
            ) from error
    return grid


def configurations(grid: dict[str, list] | None) -> list[dict]:
    if grid:
        keys = list(grid)
        return [
            dict(zip(keys, vals, strict=True))
            for vals in itertools.product(*grid.values())
        ]
    configs = [{}]
    for key, values in SWEEP.items():
        configs += [{key: v} for v in values]
    return configs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--grid", type=parse_grid, default=None)
    args = parser.parse_args()
    grid = args.grid
    for name in args.datasets:
        fit, valid = protocol.validation_split(name)
        rows = [evaluation.evaluate(models.Popularity(), fit, valid, name="Popularity")]
        seen = set()
        for config in configurations(grid):
            key = tuple(sorted(config.items()))
            if key in seen:
                continue
            seen.add(key)
            start = time.perf_counter()
            result = evaluation.evaluate(
                models.TwoTower(**config), fit, valid, name=str(config or "defaults")
            )
            rows.append(result)
            print(
                f"{name} {config or 'defaults'}: "
                f"ndcg@10={result['ndcg@10'].iloc[0]:.4f} "
                f"({time.perf_counter() - start:.1f} s)",
                flush=True,
            )
        table = pd.concat(rows).sort_values("ndcg@10", ascending=False)
        shown = evaluation.format_leaderboard(table)[["ndcg@10", "recall@10"]]
        protocol.print_table(None, shown)


if __name__ == "__main__":
    main()
