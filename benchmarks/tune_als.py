"""Choose the default hyper-parameters of ALS and PureSVD on validation data.

Protocol (never touches test): for each dataset, ``train, _ =
split.by_time(ds, 0.2)`` (the course's split), then a validation split carved
from train, ``fit_part, valid = split.by_time(train, 0.2)``. Every setting is
fitted on ``fit_part`` and scored by mean nDCG@10 on ``valid``. One setting
must serve both datasets, so settings are ranked by the mean over datasets of
nDCG@10 relative to that dataset's best ("1.000" = best on both).

Usage::

    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/tune_als.py
    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/tune_als.py --quick

Needs ml-latest-small in ``RECSYS_DATA_DIR`` (default /work/shared/data);
without it only ``shop`` is tuned. Takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import pandas as pd

from recsys_helpers import data, evaluation, split
from recsys_helpers.models import ALS, PureSVD

DATA_DIR = os.environ.get("RECSYS_DATA_DIR", "/work/shared/data")


def validation_split(name: str):
    ds = data.load(name, data_dir=DATA_DIR)
    train, _ = split.by_time(ds, test_fraction=0.2)
    return split.by_time(train, test_fraction=0.2)


def ndcg(model, fit_part, valid) -> float:
    model.fit(fit_part)
    frame, _ = evaluation.per_user_metrics(model, fit_part, valid, k=10)
    return float(frame["ndcg"].mean())


def relative_table(scores: dict[tuple, dict[str, float]], keys: list[str]):
    table = pd.DataFrame(scores).T
    table.index.names = keys
    relative = table / table.max()
    table["relative"] = relative.mean(axis=1)
    return table.sort_values("relative", ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller grid")
    args = parser.parse_args()
    names = ["shop"]
    try:
        splits = {"movielens-latest-small": validation_split("movielens-latest-small")}
    except Exception as error:
        print(f"ml-latest-small not available ({error}); tuning on shop only.")
        splits = {}
    splits["shop"] = validation_split("shop")
    names = list(splits)

    # stage 1: confidence and regularisation at 64 factors, 15 iterations
    regs = [0.1, 1.0, 10.0, 30.0, 100.0] if not args.quick else [1.0, 10.0]
    alphas = [1.0, 3.0, 10.0, 30.0, 100.0] if not args.quick else [3.0, 10.0]
    start = time.perf_counter()

    def run(**params) -> dict[str, float]:
        result = {name: ndcg(ALS(**params), *splits[name]) for name in names}
        shown = " ".join(f"{n}={v:.4f}" for n, v in result.items())
        print(f"  {params}: {shown}", flush=True)
        return result

    scores = {
        (reg, alpha): run(factors=64, regularization=reg, alpha=alpha, iterations=15)
        for reg, alpha in itertools.product(regs, alphas)
    }
    table = relative_table(scores, ["regularization", "alpha"])
    print("\nALS, factors=64, iterations=15, validation nDCG@10 (best first):")
    print(table.head(10).round(4).to_string())
    best_reg, best_alpha = table.index[0]

    # stage 2: factors at the best confidence and regularisation
    factor_scores = {
        (f,): run(factors=f, regularization=best_reg, alpha=best_alpha, iterations=15)
        for f in ([16, 32, 64, 128] if not args.quick else [32, 64])
    }
    table = relative_table(factor_scores, ["factors"])
    print(f"\nALS regularization={best_reg} alpha={best_alpha}, iterations=15:")
    print(table.round(4).to_string())
    best_f = table.index[0][0]

    # stage 3: iterations
    iteration_scores = {
        (it,): run(
            factors=best_f, regularization=best_reg, alpha=best_alpha, iterations=it
        )
        for it in ([5, 10, 15, 25] if not args.quick else [10, 15])
    }
    print(f"\nALS factors={best_f} regularization={best_reg} alpha={best_alpha}:")
    print(relative_table(iteration_scores, ["iterations"]).round(4).to_string())

    svd_scores = {
        (k,): {name: ndcg(PureSVD(factors=k), *splits[name]) for name in names}
        for k in [4, 8, 16, 32, 64, 128, 256]
    }
    print("\nPureSVD, validation nDCG@10:")
    print(relative_table(svd_scores, ["factors"]).round(4).to_string())
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
