"""Models that use the order of a user's purchases.

:class:`Transitions` is the first-order baseline of the sequential lesson
(``06_sequential``): "people who bought X next bought Y".
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_helpers.columns import ITEM, TIMESTAMP, USER
from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender

__all__ = ["Transitions", "ordered_events", "user_sequences"]


def ordered_events(train: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """User rows and item indices of every training event, user by user in time.

    Events are sorted by user, then timestamp (stable: ties, and data without
    a ``timestamp``, keep the event log's order). Repeats are kept.

    Returns:
        ``(users, items)``: two int64 arrays, one entry per event.
    """
    inter = train.interactions
    if TIMESTAMP in inter:
        inter = inter.sort_values([USER, TIMESTAMP], kind="stable")
    else:
        inter = inter.sort_values(USER, kind="stable")
    users = train.user_index(inter[USER].to_numpy())
    items = train.item_index(inter[ITEM].to_numpy())
    return users, items


def user_sequences(train: Dataset) -> list[np.ndarray]:
    """Each user's training items (indices) in time order, repeats kept.

    Returns:
        One int64 array per user row of ``train`` (empty for a user without
        training events).
    """
    users, items = ordered_events(train)
    order = np.argsort(users, kind="stable")  # users are sorted by id, not by row
    users, items = users[order], items[order]
    bounds = np.searchsorted(users, np.arange(train.n_users + 1))
    return [items[bounds[u] : bounds[u + 1]] for u in range(train.n_users)]


class Transitions(Recommender):
    """First-order "what follows what": next-item counts from the last item.

    Each user's training events are put in time order (the event log's order
    when there is no timestamp); every consecutive pair (a, b) adds one to
    ``C[a, b]``, repeats included (a consumable bought again is a transition
    a -> a). For a user whose last training item is ``l``:

        score(u, i) = C[l, i] + popularity(i) / (max popularity + 1)

    so items that followed ``l`` rank first, by count, and the rest (and every
    item when ``l`` has no successor) fall back to popularity, which never
    outweighs one observed transition. Cost: one pass over the events; the
    counts are a sparse items x items matrix.
    """

    def _fit(self, train: Dataset) -> None:
        users, items = ordered_events(train)
        same_user = users[1:] == users[:-1]
        n = train.n_items
        self.transitions_ = sp.csr_matrix(
            (np.ones(same_user.sum()), (items[:-1][same_user], items[1:][same_user])),
            shape=(n, n),
        )
        self.last_item_ = np.full(train.n_users, -1, dtype=np.int64)
        last = np.append(~same_user, True)  # each user's final (latest) event
        self.last_item_[users[last]] = items[last]
        popularity = self.item_counts_.astype(np.float64)
        self.fallback_ = popularity / (popularity.max() + 1)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        last = self.last_item_[rows]
        scores = self.transitions_[last].toarray()
        return scores + self.fallback_[None, :]
