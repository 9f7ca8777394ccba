"""Summary statistics of shop beside the real datasets available.

Usage: ``python benchmarks/dataset_stats.py``. The synthetic shop must look like
real data (sparse, long-tailed popularity and activity), not like uniform noise:
a uniform-random dataset of the same size is printed as a reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_helpers import data
from recsys_helpers.datasets.movielens import DatasetUnavailableError


def uniform_like(ds: data.Dataset, seed: int = 0) -> data.Dataset:
    """Same users, items and number of interactions, drawn uniformly."""
    rng = np.random.default_rng(seed)
    n = len(ds.interactions)
    cells = rng.choice(ds.n_users * ds.n_items, size=n, replace=False)
    frame = pd.DataFrame(
        {
            "user_id": ds.user_ids[cells // ds.n_items],
            "item_id": ds.item_ids[cells % ds.n_items],
        }
    )
    return data.Dataset.from_frames(frame, ds.items, ds.users, name="uniform noise")


def main() -> None:
    shop = data.load("shop")
    columns = [shop.summary(), uniform_like(shop).summary()]
    for name in ("movielens-latest-small", "movielens-100k"):
        try:
            columns.append(data.load(name).summary())
        except DatasetUnavailableError as error:
            print(f"{name}: skipped ({str(error).splitlines()[0]})")
    print(pd.concat(columns, axis=1).round(3).to_string())


if __name__ == "__main__":
    main()
