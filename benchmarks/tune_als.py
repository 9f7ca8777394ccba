"""Choose the default hyper-parameters of ALS and PureSVD on validation data.

Protocol (``benchmarks/protocol.py``; never touches test): for each dataset,
``train, _ = split.by_time(ds, 0.2)`` (the course's split), then a validation
split carved from train, ``fit_part, valid = split.by_time(train, 0.2)``.
Every setting is fitted on ``fit_part`` and scored by mean nDCG@10 on
``valid``. One setting must serve both datasets, so settings are ranked by the
mean over datasets of nDCG@10 relative to that dataset's best ("1.000" = best
on both).

Usage::

    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/tune_als.py
    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/tune_als.py --quick

Needs ml-latest-small in ``RECSYS_DATA_DIR`` (or the user cache, or a
network connection); without it only ``shop`` is tuned. Takes a few minutes
on 2 cores.
"""

from __future__ import annotations

import argparse
import itertools
import time

import pandas as pd
import protocol

from recsys_helpers.models import ALS, PureSVD


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
    splits = protocol.validation_splits(
        ["movielens-latest-small"], skip_unavailable=True
    )
    splits["shop"] = protocol.validation_split("shop")
    names = list(splits)

    # stage 1: confidence and regularisation at 64 factors, 15 iterations
    regs = [0.1, 1.0, 10.0, 30.0, 100.0] if not args.quick else [1.0, 10.0]
    alphas = [1.0, 3.0, 10.0, 30.0, 100.0] if not args.quick else [3.0, 10.0]
    start = time.perf_counter()

    def run(**params) -> dict[str, float]:
        result = {
            name: protocol.validation_ndcg(ALS(**params), *splits[name])
            for name in names
        }
        shown = " ".join(f"{n}={v:.4f}" for n, v in result.items())
        print(f"  {params}: {shown}", flush=True)
        return result

    scores = {
        (reg, alpha): run(factors=64, regularization=reg, alpha=alpha, iterations=15)
        for reg, alpha in itertools.product(regs, alphas)
    }
    table = relative_table(scores, ["regularization", "alpha"])
    title = "ALS, factors=64, iterations=15, validation nDCG@10 (best first):"
    protocol.print_table(title, table.head(10))
    best_reg, best_alpha = table.index[0]

    # stage 2: factors at the best confidence and regularisation
    factor_scores = {
        (f,): run(factors=f, regularization=best_reg, alpha=best_alpha, iterations=15)
        for f in ([16, 32, 64, 128] if not args.quick else [32, 64])
    }
    table = relative_table(factor_scores, ["factors"])
    title = f"ALS regularization={best_reg} alpha={best_alpha}, iterations=15:"
    protocol.print_table(title, table)
    best_f = table.index[0][0]

    # stage 3: iterations
    iteration_scores = {
        (it,): run(
            factors=best_f, regularization=best_reg, alpha=best_alpha, iterations=it
        )
        for it in ([5, 10, 15, 25] if not args.quick else [10, 15])
    }
    title = f"ALS factors={best_f} regularization={best_reg} alpha={best_alpha}:"
    protocol.print_table(title, relative_table(iteration_scores, ["iterations"]))

    svd_scores = {
        (k,): {
            name: protocol.validation_ndcg(PureSVD(factors=k), *splits[name])
            for name in names
        }
        for k in [4, 8, 16, 32, 64, 128, 256]
    }
    title = "PureSVD, validation nDCG@10:"
    protocol.print_table(title, relative_table(svd_scores, ["factors"]))
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
