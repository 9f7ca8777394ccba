"""Full-ranking evaluation time of Popularity, on shop and ml-latest-small.

Usage: ``python benchmarks/evaluation_speed.py`` (ml-latest-small needs
``RECSYS_DATA_DIR`` or a network connection; it is skipped with a message
when unavailable). Prints the median of 5 runs of fitting and of ranking all
items for every test user (split.by_time, k=10), and every metric.
"""

from __future__ import annotations

import statistics

import pandas as pd

from recsys_helpers import data, evaluation, models, split
from recsys_helpers.datasets.movielens import DatasetUnavailableError

REPEATS = 5


def main() -> None:
    pd.set_option("display.width", 200)
    for name in ("shop", "movielens-latest-small"):
        try:
            ds = data.load(name)
        except DatasetUnavailableError as error:
            print(f"{name}: skipped ({error})")
            continue
        train, test = split.by_time(ds, test_fraction=0.2)
        runs = [
            evaluation.evaluate(models.Popularity(), train, test, k=10)
            for _ in range(REPEATS)
        ]
        fit_s = statistics.median(float(r["fit_s"].iloc[0]) for r in runs)
        rank_s = statistics.median(float(r["recommend_s"].iloc[0]) for r in runs)
        users = int(runs[0]["users"].iloc[0])
        print(
            f"\n== {name}: {ds.n_users} users x {ds.n_items} items, {users} test users"
        )
        print(
            f"Popularity fit {fit_s * 1000:.1f} ms, full ranking + metrics "
            f"{rank_s * 1000:.1f} ms (median of {REPEATS})"
        )
        print(evaluation.format_leaderboard(runs[0]).T.to_string())


if __name__ == "__main__":
    main()
