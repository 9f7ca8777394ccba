"""Choose the default hyper-parameters of BPR on validation data.

Protocol (``benchmarks/protocol.py``; never touches test): for each dataset,
``train, _ = split.by_time(ds, 0.2)`` (the course's split), then a validation
split carved from train, ``fit_part, valid = split.by_time(train, 0.2)``.
Every setting is fitted on ``fit_part`` and scored by mean nDCG@10 on
``valid``. One setting must serve both datasets, so settings are ranked by the
mean over datasets of nDCG@10 relative to that dataset's best ("1.000" = best
on both).

Stage 1 crosses the Adagrad learning rate with the L2 penalty (64 factors,
30 epochs, batches of 1024); stage 2 varies the number of epochs and
factors at the best of stage 1.

Usage::

    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/tune_bpr.py
    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/tune_bpr.py --quick
    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/tune_bpr.py --timing

Needs ml-latest-small in ``RECSYS_DATA_DIR`` (or the user cache, or a
network connection); without it only ``shop`` is tuned. Takes about ten
minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import itertools
import time

import pandas as pd
import protocol

from recsys_helpers.models import BPR


def relative_table(scores: dict[tuple, dict[str, float]], keys: list[str]):
    """Scores per setting, plus their mean relative to each dataset's best."""
    table = pd.DataFrame(scores).T
    table.index.names = keys
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
        protocol.time_one_fit(BPR())
        return
    splits = protocol.validation_splits(
        ["movielens-latest-small"], skip_unavailable=True
    )
    splits["shop"] = protocol.validation_split("shop")
    start = time.perf_counter()

    def run(**params) -> dict[str, float]:
        result = {
            name: protocol.validation_ndcg(BPR(**params), *parts)
            for name, parts in splits.items()
        }
        shown = " ".join(f"{n}={v:.4f}" for n, v in result.items())
        print(f"  {params}: {shown}", flush=True)
        return result

    rates = [0.05] if args.quick else [0.05, 0.1]
    penalties = [1e-2, 3e-2] if args.quick else [1e-3, 1e-2, 3e-2, 1e-1]
    scores = {
        (lr, reg): run(learning_rate=lr, regularization=reg, batch_size=1024)
        for lr, reg in itertools.product(rates, penalties)
    }
    table = relative_table(scores, ["learning_rate", "regularization"])
    protocol.print_table("BPR, 64 factors, 30 epochs (best first):", table)
    best_lr, best_reg = table.index[0]

    shape = (
        [(30, 32), (60, 64)]
        if args.quick
        else [(15, 64), (60, 64), (30, 32), (30, 128)]
    )
    scores = {
        (epochs, factors): run(
            learning_rate=best_lr,
            regularization=best_reg,
            batch_size=1024,
            epochs=epochs,
            factors=factors,
        )
        for epochs, factors in shape
    }
    scores[(30, 64)] = {name: table.loc[(best_lr, best_reg), name] for name in splits}
    title = f"BPR learning_rate={best_lr} regularization={best_reg}:"
    protocol.print_table(title, relative_table(scores, ["epochs", "factors"]))
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
