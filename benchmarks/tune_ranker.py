"""Choose the rankers' hyper-parameters of ``ranking.TwoStage`` on validation.

The protocol is ``benchmarks/protocol.py``'s: the course's split is
``split.by_time(ds, 0.2)``; its test part is never looked at here. The
training part is split again the same way (``split.by_time(train, 0.2)``):
each setting is a ``TwoStage`` fitted on the inner train (which splits it once
more, by time, for its own labels) and scored by nDCG@10 on the validation
part. Prints one table per ranker (and one for the number of candidates) with
the fit time; the best row of each becomes the default.

Usage (from the repository root)::

    .venv/bin/python benchmarks/tune_ranker.py                 # shop
    RECSYS_DATA_DIR=/path/to/data .venv/bin/python benchmarks/tune_ranker.py \
        --datasets shop movielens-latest-small
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import protocol

from recsys_helpers.data import Dataset
from recsys_helpers.ranking import DeepCross, LambdaMART, LogisticRanker, TwoStage

GRIDS = {
    "logistic": [LogisticRanker(C=c) for c in (0.01, 0.1, 1.0, 10.0)],
    "lambdamart": [
        LambdaMART(n_estimators=n, num_leaves=leaves, min_child_samples=child)
        for n in (25, 50, 100, 200)
        for leaves in (3, 7, 15)
        for child in (20, 100)
    ],
    "deepcross": [
        DeepCross(epochs=e, projection_dim=p) for e in (2, 5, 10) for p in (4, 8)
    ],
}
CANDIDATES = (25, 50, 100, 200)


def _row(inner: Dataset, valid: Dataset, model: TwoStage) -> dict[str, float]:
    start = time.perf_counter()
    ndcg = protocol.validation_ndcg(model, inner, valid)
    return {"ndcg@10": ndcg, "fit_and_rank_s": time.perf_counter() - start}


def ranker_table(inner: Dataset, valid: Dataset, name: str) -> pd.DataFrame:
    """One row per setting of a ranker (its non-default parameters)."""
    rows = {}
    for ranker in GRIDS[name]:
        label = repr(ranker)
        rows[label] = _row(inner, valid, TwoStage("ALS", ranker))
    return pd.DataFrame.from_dict(rows, orient="index")


def candidates_table(inner: Dataset, valid: Dataset, ranker: str) -> pd.DataFrame:
    """nDCG@10 against the number of candidates, for one ranker by name."""
    rows = {
        n: _row(inner, valid, TwoStage("ALS", ranker, candidates=n)) for n in CANDIDATES
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("candidates")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["shop"])
    parser.add_argument("--rankers", nargs="+", default=list(GRIDS))
    args = parser.parse_args()
    pd.set_option("display.width", 140)
    pd.set_option("display.max_colwidth", 90)
    for dataset in args.datasets:
        inner, valid = protocol.validation_split(dataset)
        for name in args.rankers:
            table = ranker_table(inner, valid, name)
            protocol.print_table(f"{dataset}: {name}", table)
        table = candidates_table(inner, valid, "logistic")
        protocol.print_table(f"{dataset}: candidates (logistic)", table)


if __name__ == "__main__":
    main()
