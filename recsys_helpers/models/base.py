"""The small base class every recommender in the course shares.

A model follows scikit-learn's conventions: ``__init__`` only stores
hyper-parameters, :meth:`Recommender.fit` learns from a training
:class:`~recsys_helpers.data.Dataset` and returns ``self``, learned state ends
in ``_``, and every random choice takes a ``random_state``.

A subclass implements two methods:

* ``_fit(train)``: learn from ``train`` (``self.user_items_``, the binary
  users x items CSR matrix of ``train``, is already set);
* ``_score(rows)``: a float array (len(rows), n_items) of scores for the users
  at matrix rows ``rows``; higher means "recommend sooner".

The base class turns scores into rankings: seen items excluded, ties broken by
item order (so results never depend on sort internals), unknown or mistyped
user ids rejected with a clear error.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from recsys_helpers.columns import ITEM, RANK, SCORE, USER
from recsys_helpers.data import Dataset

__all__ = ["Recommender"]


class Recommender(BaseEstimator):
    """Base class: ``fit`` / ``score`` / ``recommend``.

    Class attributes:
        serves_cold_users: True if the model can score a known user with no
            training interactions (e.g. Popularity); otherwise such users
            raise ``ValueError`` rather than getting a meaningless ranking.
    """

    serves_cold_users: bool = False

    # ------------------------------------------------------------- to extend
    def _fit(self, train: Dataset) -> None:
        raise NotImplementedError

    def _score(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------ public API
    def fit(self, train: Dataset) -> Self:
        """Learn from the training interactions.

        Args:
            train: A Dataset (e.g. the first half of a split). It is not
                modified.

        Returns:
            self, fitted.

        Raises:
            TypeError, ValueError: Bad data or hyper-parameters. A failed fit
                leaves the model unfitted (no learned state from this or an
                earlier fit), never half-fitted.
        """
        self._forget()
        if not isinstance(train, Dataset):
            raise TypeError(
                f"fit expects a recsys_helpers Dataset, got {type(train).__name__};"
                " wrap frames with data.Dataset.from_frames(...)."
            )
        if train.interactions.empty:
            raise ValueError("cannot fit on a dataset without interactions.")
        try:
            self.train_ = train
            self.user_items_ = train.to_csr()
            self._fit(train)
        except BaseException:
            self._forget()
            raise
        return self

    def release(self) -> Self:
        """Delete the learned state: the model is unfitted again, its memory freed.

        Returns:
            self, unfitted (``fit`` it again before use).
        """
        self._forget()
        return self

    def _forget(self) -> None:
        """Remove every learned attribute (public names ending in ``_``)."""
        for name in [
            n for n in vars(self) if n.endswith("_") and not n.startswith("_")
        ]:
            delattr(self, name)

    def score(self, user_ids: Any) -> np.ndarray:
        """Scores of every catalogue item for each user.

        Args:
            user_ids: One id or a sequence of ids of users in the dataset.

        Returns:
            Float array (len(user_ids), n_items), columns in ``items`` order.
        """
        return self.score_rows(self._rows(user_ids))

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        """Like :meth:`score`, for matrix row indices instead of ids."""
        self._check_fitted()
        rows = np.asarray(rows, dtype=np.int64)
        if not self.serves_cold_users:
            cold = np.diff(self.user_items_.indptr)[rows] == 0
            if cold.any():
                ids = self.train_.user_ids[rows[cold]][:5].tolist()
                raise ValueError(
                    f"user(s) {ids} have no training interactions: "
                    f"{type(self).__name__} cannot score cold-start users "
                    "(Popularity can)."
                )
        # a copy: callers (top_k_rows) write -inf into it, never into model state
        scores = np.array(self._score(rows), dtype=np.float64)
        expected = (rows.size, self.train_.n_items)
        if scores.shape != expected:
            raise RuntimeError(f"_score returned {scores.shape}, expected {expected}.")
        if np.isnan(scores).any():
            raise RuntimeError(f"{type(self).__name__} produced NaN scores.")
        return scores

    def top_k_rows(
        self, rows: np.ndarray, k: int, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and scores for users at matrix rows ``rows``.

        Args:
            rows: User row indices.
            k: List length, 1 <= k <= n_items.
            exclude_seen: Remove the user's training items from the ranking.

        Returns:
            ``(items, scores)``, both shaped (len(rows), k). When a user has
            fewer than k rankable items the tail is padded with item -1 and
            score -inf.
        """
        self._check_fitted()
        n_items = self.train_.n_items
        if not 1 <= k <= n_items:
            raise ValueError(f"k must be between 1 and the {n_items} items, got {k}.")
        scores = self.score_rows(rows)
        if exclude_seen:
            seen = self.user_items_[np.asarray(rows, dtype=np.int64)]
            seen_rows, seen_cols = seen.nonzero()
            scores[seen_rows, seen_cols] = -np.inf
        return _top_k(scores, k)

    def recommend(
        self, user_ids: Any, n: int = 10, exclude_seen: bool = True
    ) -> pd.DataFrame:
        """Top-n recommendations per user.

        Args:
            user_ids: One id or a sequence of ids of users in the dataset.
            n: How many items per user (at most the catalogue size).
            exclude_seen: Never recommend what the user already has in train.

        Returns:
            DataFrame with columns user_id, item_id, score, rank (1 = best),
            sorted by user (in the given order) then rank. A user with fewer
            than n unseen items gets fewer rows.
        """
        rows = self._rows(user_ids)
        n_items = self.train_.n_items
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"n must be an integer, got {n!r}.")
        if not 1 <= n <= n_items:
            raise ValueError(f"n must be between 1 and the {n_items} items, got {n}.")
        items, scores = self.top_k_rows(rows, n, exclude_seen=exclude_seen)
        keep = items >= 0
        user_col = np.repeat(self.train_.user_ids[rows], n).reshape(items.shape)
        ranks = np.broadcast_to(np.arange(1, n + 1), items.shape)
        return pd.DataFrame(
            {
                USER: user_col[keep],
                ITEM: self.train_.item_ids[items[keep]],
                SCORE: scores[keep],
                RANK: ranks[keep],
            }
        )

    # --------------------------------------------------------------- helpers
    def _rows(self, user_ids: Any) -> np.ndarray:
        self._check_fitted()
        return self.train_.user_index(user_ids)

    def _check_fitted(self) -> None:
        if not hasattr(self, "train_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit().")

    @property
    def item_counts_(self) -> np.ndarray:
        """Training interactions per item (number of users), in item order."""
        return np.asarray(self.user_items_.sum(axis=0)).ravel()


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k largest scores per row; ties by index.

    Uses a partial partition first (O(n) per row) and sorts only the
    candidates, so a catalogue of 10,000 items costs little.
    """
    n_rows, n_items = scores.shape
    if k < n_items:
        kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]
        candidates = scores >= kth
    else:
        candidates = np.ones_like(scores, dtype=bool)
    items = np.full((n_rows, k), -1, dtype=np.int64)
    values = np.full((n_rows, k), -np.inf)
    for_rows, for_cols = np.nonzero(candidates)
    cand_scores = scores[for_rows, for_cols]
    # sort by row, then score descending, then item index ascending
    order = np.lexsort((for_cols, -cand_scores, for_rows))
    for_rows, for_cols, cand_scores = (
        for_rows[order],
        for_cols[order],
        cand_scores[order],
    )
    starts = np.searchsorted(for_rows, np.arange(n_rows))
    position = np.arange(for_rows.size) - starts[for_rows]
    take = (position < k) & (cand_scores > -np.inf)  # +inf is a valid top score
    items[for_rows[take], position[take]] = for_cols[take]
    values[for_rows[take], position[take]] = cand_scores[take]
    return items, values
