"""Train/test splits of a Dataset's interactions.

Every split returns ``(train, test)``: two Datasets with the full dataset's
users and items (one id space) whose interactions divide the original ones.

What each split guarantees, for which view (see :meth:`Dataset.distinct`):

* ``random`` splits the **distinct-pairs view**: repeats are collapsed first
  (``test.info["repeats_collapsed"]`` says how many rows), so no test pair
  is ever in train.
* ``by_time``, ``leave_last_out`` and ``global_time`` split the **event log**:
  every event lands on exactly one side, in time order, so a consumable
  bought again after the cut is a test row whose pair is also in train.
  ``test.info["repeat_rows"]`` counts such rows; the evaluation decides
  whether they count (``exclude_seen``). On data without repeats the two
  views are the same and no test pair is in train.

A model can only rank items it saw in training and users it knows from
training, so by default (``drop_cold=True``) test rows whose user or item has
no training interaction are dropped from ``test``; how many is recorded in
``test.info`` (``cold_users_dropped``, ``cold_items_dropped``,
``cold_rows_dropped``). Pass ``drop_cold=False`` to keep them for a cold-start
evaluation.

Per-user splits (``random``, ``by_time``, ``leave_last_out``) let a model train
on one user's June purchases while testing another user on their March ones:
they peek at the future. ``global_time`` cuts everyone at one moment, as a
deployed system lives: the realistic check. It is not always the lower
score: its test period has its own users and items (new items are cold and
dropped), so compare models within a split, never a number across splits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_helpers.columns import ITEM, RATING, TIMESTAMP, USER
from recsys_helpers.data import Dataset

__all__ = ["by_time", "global_time", "leave_last_out", "random", "rating_shift"]


def _check_fraction(test_fraction: float) -> None:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}.")


def _require_timestamps(ds: Dataset, how: str) -> None:
    if TIMESTAMP not in ds.interactions:
        raise ValueError(
            f"{how} needs a '{TIMESTAMP}' column; dataset {ds.name!r} has "
            f"{list(ds.interactions.columns)}. Use split.random instead."
        )


def _n_test_per_user(counts: np.ndarray, test_fraction: float) -> np.ndarray:
    """Test rows per user: round(f * n), at least 1, always leaving 1 in train."""
    n_test = np.maximum(1, np.rint(test_fraction * counts)).astype(np.int64)
    return np.minimum(n_test, counts - 1)


def _per_user_tail(order: pd.DataFrame, test_fraction: float) -> np.ndarray:
    """Mark each user's last rows of ``order`` (already sorted) as test."""
    position = order.groupby(USER, sort=False).cumcount().to_numpy()
    counts = order.groupby(USER, sort=False)[USER].transform("size").to_numpy()
    n_test = _n_test_per_user(counts, test_fraction)
    return position >= counts - n_test


def _finish(
    ds: Dataset,
    is_test: pd.Series,
    how: str,
    drop_cold: bool,
    cutoff: int | None = None,
) -> tuple[Dataset, Dataset]:
    inter = ds.interactions
    train_rows = inter.loc[~is_test]
    test_rows = inter.loc[is_test]
    info: dict[str, int | str] = {"split": how}
    if drop_cold:
        cold_user = ~test_rows[USER].isin(train_rows[USER])
        cold_item = ~test_rows[ITEM].isin(train_rows[ITEM])
        cold = cold_user | cold_item
        info["cold_users_dropped"] = int(test_rows.loc[cold_user, USER].nunique())
        info["cold_items_dropped"] = int(test_rows.loc[cold_item, ITEM].nunique())
        info["cold_rows_dropped"] = int(cold.sum())
        test_rows = test_rows.loc[~cold]
    pairs = pd.MultiIndex.from_frame(train_rows[[USER, ITEM]])
    repeat = pd.MultiIndex.from_frame(test_rows[[USER, ITEM]]).isin(pairs)
    info["repeat_rows"] = int(repeat.sum())
    if "repeats_collapsed" in ds.info:  # random() split the distinct view
        info["repeats_collapsed"] = ds.info["repeats_collapsed"]
    if test_rows.empty:
        raise ValueError(
            f"{how} left no test interactions in {ds.name!r}: too few rows "
            "per user or too small a test_fraction."
        )
    if cutoff is not None:
        info["cutoff"] = cutoff
    train = ds.with_interactions(train_rows, f"{ds.name}/train", {"split": how})
    test = ds.with_interactions(test_rows, f"{ds.name}/test", info)
    return train, test


def random(
    ds: Dataset, test_fraction: float = 0.25, seed: int = 42, drop_cold: bool = True
) -> tuple[Dataset, Dataset]:
    """Per-user stratified random split of the distinct (user, item) pairs.

    Repeats are collapsed first (:meth:`Dataset.distinct`), so a pair is on
    one side only. Each user with n >= 2 pairs puts ``max(1, round(f n))``
    random ones (never all n) in test; users with a single pair stay in train.

    Args:
        ds: The dataset.
        test_fraction: Fraction f of each user's interactions held out.
        seed: Seed of the shuffle.
        drop_cold: Drop test rows of users or items absent from train.

    Returns:
        ``(train, test)``.
    """
    _check_fraction(test_fraction)
    rng = np.random.default_rng(seed)
    ds = ds.distinct()
    shuffled = ds.interactions.iloc[rng.permutation(len(ds.interactions))]
    is_test_shuffled = _per_user_tail(shuffled, test_fraction)
    is_test = pd.Series(is_test_shuffled, index=shuffled.index).sort_index()
    return _finish(ds, is_test, f"random({test_fraction}, seed={seed})", drop_cold)


def by_time(
    ds: Dataset, test_fraction: float = 0.2, drop_cold: bool = True
) -> tuple[Dataset, Dataset]:
    """Each user's latest interactions go to test: the course's standard split.

    Per user, the ``max(1, round(f n))`` most recent interactions (never all n)
    are held out; ties in time keep the dataset's row order.

    Args:
        ds: The dataset; needs a ``timestamp`` column.
        test_fraction: Fraction f of each user's interactions held out.
        drop_cold: Drop test rows of users or items absent from train.

    Returns:
        ``(train, test)``.
    """
    _check_fraction(test_fraction)
    _require_timestamps(ds, "by_time")
    ordered = ds.interactions.sort_values(TIMESTAMP, kind="stable")
    is_test = pd.Series(_per_user_tail(ordered, test_fraction), index=ordered.index)
    return _finish(ds, is_test.sort_index(), f"by_time({test_fraction})", drop_cold)


def leave_last_out(ds: Dataset, drop_cold: bool = True) -> tuple[Dataset, Dataset]:
    """Each user's single latest interaction goes to test (users with n >= 2).

    Args:
        ds: The dataset; needs a ``timestamp`` column.
        drop_cold: Drop test rows of users or items absent from train.

    Returns:
        ``(train, test)``.
    """
    _require_timestamps(ds, "leave_last_out")
    ordered = ds.interactions.sort_values(TIMESTAMP, kind="stable")
    position = ordered.groupby(USER, sort=False).cumcount().to_numpy()
    counts = ordered.groupby(USER, sort=False)[USER].transform("size").to_numpy()
    is_test = pd.Series((position == counts - 1) & (counts >= 2), index=ordered.index)
    return _finish(ds, is_test.sort_index(), "leave_last_out", drop_cold)


def global_time(
    ds: Dataset, test_fraction: float = 0.2, drop_cold: bool = True
) -> tuple[Dataset, Dataset]:
    """One cut-off time for everyone: the last ``f`` of all interactions is test.

    The cut-off is the timestamp below which a fraction ``1 - f`` of the
    interactions fall; everything at or after it is test. Users who only appear
    after the cut-off are cold-start users (dropped from test by default).

    Args:
        ds: The dataset; needs a ``timestamp`` column.
        test_fraction: Fraction f of all interactions held out.
        drop_cold: Drop test rows of users or items absent from train.

    Returns:
        ``(train, test)``; ``test.info["cutoff"]`` holds the cut-off time.
    """
    _check_fraction(test_fraction)
    _require_timestamps(ds, "global_time")
    times = ds.interactions[TIMESTAMP]
    cutoff = int(np.quantile(times.to_numpy(), 1.0 - test_fraction, method="higher"))
    is_test = times >= cutoff
    if is_test.all() or not is_test.any():
        raise ValueError(
            "global_time: the cut-off leaves train or test empty (too few distinct"
            " timestamps); use a smaller test_fraction or split.by_time."
        )
    return _finish(ds, is_test, f"global_time({test_fraction})", drop_cold, cutoff)


def rating_shift(ds: Dataset, test_fraction: float = 0.2) -> float:
    """Mean train rating minus mean test rating under :func:`by_time`.

    The course's standard split (``by_time(ds, test_fraction)``, cold rows
    dropped) of the event log. A realism check: users rate their early
    purchases a little higher than later ones (favourites first). On real
    data this is +0.04 (ml-latest-small) to +0.25 (another MovieLens set).
    """
    if RATING not in ds.interactions:
        raise ValueError(f"rating_shift needs a '{RATING}' column in {ds.name!r}.")
    train, test = by_time(ds, test_fraction)
    return float(train.interactions[RATING].mean() - test.interactions[RATING].mean())
