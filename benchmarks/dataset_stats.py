"""Realism figures of the shop beside the real datasets available.

Usage::

    python benchmarks/dataset_stats.py [--write FILE]

``--write recsys_helpers/datasets/reference_figures.csv`` refreshes the
figures shipped with the package.

The simulated shop must look like real data (sparse, long-tailed popularity
and activity, ratings that shift a little over time), not like uniform noise:
a uniform-random dataset of the same size is printed as a reference. The
committed output (``recsys_helpers/datasets/reference_figures.csv``, read by
``data.reference_figures()``) is what lesson 00 quotes for ml-latest-small, so
the lesson runs offline.

Targets for the shop (tested in ``tests/test_shop.py``): item Gini 0.55-0.75,
density <= 0.05, activity p90/median >= 2.5, rating shift under
``split.by_time`` between +0.04 and +0.25.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_helpers import data, split
from recsys_helpers.datasets.movielens import DatasetUnavailableError

FIGURES = [
    "users",
    "items",
    "events",
    "repeat_events",
    "interactions",
    "density",
    "interactions_per_user_median",
    "activity_p90_over_median",
    "item_gini",
    "top_10pct_items_share",
    "rating_shift_by_time",
]


def uniform_like(ds: data.Dataset, seed: int = 0) -> data.Dataset:
    """Same users, items and number of distinct pairs, drawn uniformly."""
    rng = np.random.default_rng(seed)
    n = len(ds.distinct().interactions)
    cells = rng.choice(ds.n_users * ds.n_items, size=n, replace=False)
    frame = pd.DataFrame(
        {
            "user_id": ds.user_ids[cells // ds.n_items],
            "item_id": ds.item_ids[cells % ds.n_items],
        }
    )
    return data.Dataset.from_frames(frame, ds.items, ds.users, name="uniform noise")


def realism(ds: data.Dataset) -> pd.Series:
    """The summary figures plus the rating shift (NaN without ratings)."""
    figures = ds.summary()
    has_ratings = "rating" in ds.interactions
    figures["rating_shift_by_time"] = split.rating_shift(ds) if has_ratings else np.nan
    return figures[FIGURES]


def table() -> pd.DataFrame:
    """One column per dataset that can be loaded here."""
    shop = data.load("shop")
    columns = [realism(shop), realism(uniform_like(shop))]
    for name in ("movielens-latest-small", "movielens-100k"):
        try:
            columns.append(realism(data.load(name)))
        except DatasetUnavailableError as error:
            print(f"{name}: skipped ({str(error).splitlines()[0]})")
    return pd.concat(columns, axis=1).round(3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="also write the table as CSV here")
    args = parser.parse_args()
    figures = table()
    print(figures.to_string())
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        figures.to_csv(args.write, index_label="figure")


if __name__ == "__main__":
    main()
