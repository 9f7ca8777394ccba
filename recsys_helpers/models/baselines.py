"""Baselines every model must beat, and the ceiling none can pass.

* :class:`Random`: the floor. Any model that does not beat it learned nothing.
* :class:`Popularity`: the bar. Recommends the most bought items to everyone;
  on real data it is surprisingly hard to beat.
* :class:`Oracle`: the ceiling, on the simulated shop only. It ranks by the
  hidden truth the shop drew each purchase from: the probability of each
  item being the user's next purchase.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_helpers.columns import TIMESTAMP, USER
from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender
from recsys_helpers.models.params import check_number

__all__ = ["Oracle", "Popularity", "Random"]


class Popularity(Recommender):
    """Score every item by how many training users interacted with it.

    score(u, i) = |{v : (v, i) in train}|, the same for every user; ties go to
    the item listed first. With ``recent_days`` only the last ``recent_days``
    days of training count (before the latest training timestamp), with the
    all-time count as a tie-breaker: what sells *now*. Serves cold-start users
    (it needs no history).

    Args:
        recent_days: None for all time, else a window in days (> 0); needs
            a ``timestamp`` column.
    """

    serves_cold_users = True

    def __init__(self, recent_days: float | None = None) -> None:
        self.recent_days = recent_days

    def _fit(self, train: Dataset) -> None:
        counts = self.item_counts_.astype(np.float64)
        if self.recent_days is not None:
            recent = _recent_counts(train, self.recent_days)
            counts = recent + counts / (counts.max() + 1)  # all-time breaks ties
        self.counts_ = counts

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts_, (rows.size, self.counts_.size)).copy()


def _recent_counts(train: Dataset, recent_days: float) -> np.ndarray:
    """Distinct users per item in the last ``recent_days`` days of ``train``."""
    check_number("Popularity", "recent_days", recent_days, strict=True)
    if TIMESTAMP not in train.interactions:
        raise ValueError(
            f"recent_days={recent_days} needs a '{TIMESTAMP}' column; "
            f"{train.name!r} has {list(train.interactions.columns)}."
        )
    inter = train.interactions
    since = inter[TIMESTAMP].max() - recent_days * 86_400
    recent = inter.loc[inter[TIMESTAMP] > since]
    window = train.with_interactions(recent, train.name, {})
    return np.diff(window.to_csr().tocsc().indptr).astype(np.float64)


class Random(Recommender):
    """Score items uniformly at random, reproducibly.

    score(u, i) = hash(random_state, u, i) / 2**64, uniform in [0, 1). The
    score of a (user, item) pair does not depend on which other users are
    scored with it, so results do not change with evaluation chunk sizes.

    Args:
        random_state: Seed of the hash.
    """

    serves_cold_users = True

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state

    def _fit(self, train: Dataset) -> None:
        self.n_items_ = train.n_items

    def _score(self, rows: np.ndarray) -> np.ndarray:
        keys = rows.astype(np.uint64)[:, None] * np.uint64(self.n_items_) + np.arange(
            self.n_items_, dtype=np.uint64
        )
        return _splitmix64(keys + np.uint64(self.random_state) * np.uint64(2**32)) / (
            2.0**64
        )


class Oracle(Recommender):
    """Rank by the hidden truth (the simulated ``shop`` only).

    score(u, i) = P(next purchase of u is i | time t_u, u's training history),
    from :meth:`ShopTruth.next_item_proba`, where t_u is the user's first
    timestamp in ``at`` (e.g. the test set: the moment the test period starts
    for that user) or, by default, one second after the user's last training
    event. No model can be expected to beat it on the next purchase; the gap
    to it is what is left to learn.

    Args:
        at: A Dataset (or frame with ``user_id`` and ``timestamp``) whose
            earliest timestamp per user sets the time of the ranking; users
            absent from it use the default.
    """

    serves_cold_users = True

    def __init__(self, at: Dataset | pd.DataFrame | None = None) -> None:
        self.at = at

    def _fit(self, train: Dataset) -> None:
        if train.truth is None:
            raise ValueError(
                f"Oracle needs the hidden truth of a simulated dataset; "
                f"{train.name!r} has none (use data.load('shop'))."
            )
        if TIMESTAMP not in train.interactions:
            raise ValueError("Oracle needs a 'timestamp' column.")
        inter = train.interactions
        when = inter.groupby(USER)[TIMESTAMP].max() + 1
        when = when.reindex(train.user_ids).fillna(inter[TIMESTAMP].max() + 1)
        if self.at is not None:
            frame = self.at.interactions if isinstance(self.at, Dataset) else self.at
            first = frame.groupby(USER)[TIMESTAMP].min()
            when.update(first[first.index.isin(when.index)])
        self.when_ = when.to_numpy(dtype=np.int64)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return self.train_.truth.next_item_proba(
            self.train_.user_ids[rows], self.when_[rows], self.train_.interactions
        )


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a fast, well-mixed 64-bit hash (wrapping math)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (x ^ (x >> np.uint64(31))).astype(np.float64)
