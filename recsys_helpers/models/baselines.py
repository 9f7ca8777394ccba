"""Baselines every model must beat, and the ceiling none can pass.

* :class:`Random`: the floor. Any model that does not beat it learned nothing.
* :class:`Popularity`: the bar. Recommends the most bought items to everyone;
  on real data it is surprisingly hard to beat.
* :class:`Oracle`: the ceiling, on synthetic data only. It ranks by the
  hidden true affinity the ``shop`` generator drew purchases from.
"""

from __future__ import annotations

import numpy as np

from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender

__all__ = ["Oracle", "Popularity", "Random"]


class Popularity(Recommender):
    """Score every item by how many training users interacted with it.

    score(u, i) = |{v : (v, i) in train}|, the same for every user; ties go to
    the item listed first. Serves cold-start users (it needs no history).
    """

    serves_cold_users = True

    def _fit(self, train: Dataset) -> None:
        self.counts_ = self.item_counts_.astype(np.float64)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts_, (rows.size, self.counts_.size)).copy()


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
    """Rank by the hidden true affinity (synthetic ``shop`` only).

    score(u, i) = a(u, i), the probability weight the generator used. No
    model can be expected to beat it; the gap to it is what is left to learn.
    """

    serves_cold_users = True

    def _fit(self, train: Dataset) -> None:
        if train.affinity is None:
            raise ValueError(
                f"Oracle needs the hidden affinity of a synthetic dataset; "
                f"{train.name!r} has none (use data.load('shop'))."
            )
        self.affinity_ = train.affinity

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return self.affinity_[rows]


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a fast, well-mixed 64-bit hash (wrapping math)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (x ^ (x >> np.uint64(31))).astype(np.float64)
