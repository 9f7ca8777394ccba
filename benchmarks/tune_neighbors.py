"""Choose UserKNN / ItemKNN hyper-parameters on a validation split of train.

The protocol is ``benchmarks/protocol.py``'s: the course's split is
``split.by_time(ds, 0.2)``; its test part is never looked at here. The
training part is split again the same way (``split.by_time(train, 0.2)``) and
every (neighbors, shrinkage) pair of the grid is fitted on the inner train
and scored by nDCG@10 on the validation part. Prints one grid per model and
dataset and the best cell, then the cell that is best over all datasets
together (the highest mean of nDCG@10 relative to each dataset's best), which
becomes the model's default.

Usage (from the repository root)::

    RECSYS_DATA_DIR=/path/to/data .venv/bin/python benchmarks/tune_neighbors.py
    .venv/bin/python benchmarks/tune_neighbors.py --datasets shop
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import protocol

from recsys_helpers.data import Dataset
from recsys_helpers.models import ItemKNN, UserKNN

NEIGHBORS = [5, 10, 20, 50, 100, 200, 400]
SHRINKAGE = [0.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
MODELS = {"UserKNN": UserKNN, "ItemKNN": ItemKNN}


def validation_grid(
    inner: Dataset, validation: Dataset, model_name: str
) -> pd.DataFrame:
    grid = pd.DataFrame(
        index=pd.Index(NEIGHBORS, name="neighbors"),
        columns=pd.Index(SHRINKAGE, name="shrinkage"),
        dtype=float,
    )
    for k in NEIGHBORS:
        for s in SHRINKAGE:
            model = MODELS[model_name](neighbors=k, shrinkage=s)
            grid.loc[k, s] = protocol.validation_ndcg(model, inner, validation)
    return grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", default=["shop", "movielens-latest-small"]
    )
    args = parser.parse_args()
    pd.set_option("display.width", 120)
    relative: dict[str, list[pd.DataFrame]] = {m: [] for m in MODELS}
    for name in args.datasets:
        inner, validation = protocol.validation_split(name)
        for model_name in MODELS:
            start = time.perf_counter()
            grid = validation_grid(inner, validation, model_name)
            relative[model_name].append(grid / grid.max().max())
            k, s = grid.stack().idxmax()
            protocol.print_table(f"== {name} / {model_name}: validation nDCG@10", grid)
            print(
                f"best: neighbors={k}, shrinkage={s}, nDCG@10={grid.loc[k, s]:.4f} "
                f"({time.perf_counter() - start:.0f} s)"
            )
    for model_name, grids in relative.items():
        mean = sum(grids) / len(grids)
        k, s = mean.stack().idxmax()
        title = f"== {model_name}: nDCG@10 / best nDCG@10, mean over datasets"
        protocol.print_table(title, mean, digits=3)
        print(f"default: neighbors={k}, shrinkage={s} ({mean.loc[k, s]:.3f} of best)")


if __name__ == "__main__":
    main()
