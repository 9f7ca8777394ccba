"""Evaluation metrics for top-k recommendation and rating prediction.

Every ranking metric here works on the same two arrays, computed once per
evaluation and shared by all metrics:

``hits``
    A boolean array of shape ``(n_users, k)``. ``hits[u, j]`` is ``True`` when the
    item at rank ``j + 1`` of user ``u``'s top-k list is relevant, i.e. in that
    user's held-out test set. A user with fewer than ``k`` recommendations has the
    end of their row padded with ``False``. Integer or float arrays of 0/1 are
    accepted and converted.
``n_relevant``
    An integer array of shape ``(n_users,)``: how many relevant (held-out) items
    user ``u`` has in total, whether or not they were recommended. It must be at
    least 1 (a user with nothing held out cannot be evaluated) and at least the
    number of hits in the row.

Every ranking metric has the same signature, ``metric(hits, n_relevant)``, even
those whose formula does not use ``n_relevant`` (precision, reciprocal rank, hit
rate): it is still validated, and it sets their ceiling. Each returns one float
per user, an array of shape ``(n_users,)``;
the reported score is usually its mean over users (MAP@k is the mean of
:func:`average_precision_at_k`, MRR@k the mean of :func:`reciprocal_rank_at_k`).
All computations are vectorised over users: there is no Python loop over users.
Inputs are never modified.

:func:`hits_from_lists` builds ``hits`` and ``n_relevant`` from plain Python lists,
for computing metrics by hand on a tiny example. :data:`RANKING_METRICS` maps a
metric name to a function of ``(hits, n_relevant)`` so evaluation code can loop
over all of them.

Beyond accuracy, :func:`catalog_coverage` and :func:`novelty` describe *which*
items are recommended; :func:`gini` and :func:`top_share` measure how
concentrated a set of counts is (interactions per item in a dataset, or
recommendations per item); :func:`rmse` and :func:`mae` score rating
predictions.
"""

from __future__ import annotations

import numbers
import operator
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "RANKING_METRICS",
    "average_precision_at_k",
    "catalog_coverage",
    "gini",
    "hit_rate_at_k",
    "hits_from_lists",
    "mae",
    "ndcg_at_k",
    "novelty",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank_at_k",
    "rmse",
    "top_share",
]


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------


def _check_hits(hits: ArrayLike) -> NDArray[np.bool_]:
    """Return ``hits`` as a new 2-D boolean array, or raise ValueError."""
    arr = np.asarray(hits)
    if arr.ndim != 2:
        raise ValueError(
            f"hits must be a 2-D array of shape (n_users, k), got {arr.ndim} "
            f"dimension(s) with shape {arr.shape}"
        )
    if arr.shape[1] < 1:
        raise ValueError(
            f"hits has k = {arr.shape[1]} columns; k (the list length) must be >= 1"
        )
    if arr.dtype == np.bool_:
        return arr.copy()
    if not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(
            f"hits must be boolean (or 0/1 integers or floats), got dtype {arr.dtype}"
        )
    bad = ~np.isin(arr, (0, 1))
    if bad.any():
        raise ValueError(
            "hits must contain only True/False or 0/1 values, got "
            f"{np.unique(arr[bad])[:5].tolist()}"
        )
    return arr.astype(np.bool_)


def _check_n_relevant(
    n_relevant: ArrayLike, hits: NDArray[np.bool_]
) -> NDArray[np.int64]:
    """Return ``n_relevant`` as a new 1-D int64 array consistent with ``hits``."""
    arr = np.asarray(n_relevant)
    if arr.ndim != 1:
        raise ValueError(
            f"n_relevant must be a 1-D array of shape (n_users,), got {arr.ndim} "
            f"dimension(s) with shape {arr.shape}"
        )
    if arr.shape[0] != hits.shape[0]:
        raise ValueError(
            f"n_relevant has {arr.shape[0]} users but hits has {hits.shape[0]} "
            "rows; there must be one count per user"
        )
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise ValueError(
                f"n_relevant must contain whole numbers, got {arr[bad][:5].tolist()}"
            )
    elif not np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_:
        raise ValueError(f"n_relevant must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if (arr < 1).any():
        bad = np.flatnonzero(arr < 1)
        raise ValueError(
            "every evaluated user needs n_relevant >= 1 (a user with no held-out "
            f"items cannot be scored); users at rows {bad[:10].tolist()} have "
            f"n_relevant {arr[bad[:10]].tolist()}"
        )
    n_hits = hits.sum(axis=1)
    if (arr < n_hits).any():
        bad = np.flatnonzero(arr < n_hits)
        raise ValueError(
            "n_relevant must be at least the number of hits of each user; rows "
            f"{bad[:10].tolist()} have n_relevant {arr[bad[:10]].tolist()} but "
            f"{n_hits[bad[:10]].tolist()} hits"
        )
    return arr


def _check_positive_int(value: int, name: str) -> int:
    """Return ``value`` as an int >= 1, or raise ValueError naming it."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    try:
        as_int = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a positive integer, got {value!r}") from None
    if as_int < 1:
        raise ValueError(f"{name} must be >= 1, got {as_int}")
    return as_int


def _check_item_matrix(recommended_items: ArrayLike, n_items: int) -> NDArray:
    """Return the recommended (non-padding) item indices as a flat int array."""
    arr = np.asarray(recommended_items)
    if arr.ndim != 2:
        raise ValueError(
            "recommended_items must be a 2-D array of shape (n_users, k), got "
            f"{arr.ndim} dimension(s) with shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_:
        raise ValueError(
            f"recommended_items must hold integer item indices, got dtype {arr.dtype}"
        )
    items = arr[arr != -1]
    if items.size and (items.min() < 0 or items.max() >= n_items):
        raise ValueError(
            "recommended_items must hold item indices in 0..n_items-1 "
            f"(= 0..{n_items - 1}) or -1 for padding; found values from "
            f"{items.min()} to {items.max()}"
        )
    return items


def _check_ratings(
    y_true: ArrayLike, y_pred: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return both rating arrays as flat float arrays of equal, non-zero length."""
    true = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if true.shape != pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape, got {true.shape} and "
            f"{pred.shape}"
        )
    if true.size == 0:
        raise ValueError("y_true and y_pred are empty; there is nothing to score")
    for name, values in (("y_true", true), ("y_pred", pred)):
        if np.isnan(values).any():
            raise ValueError(
                f"{name} contains {int(np.isnan(values).sum())} NaN value(s); "
                "drop or fill them before scoring"
            )
        if np.isinf(values).any():
            raise ValueError(
                f"{name} contains {int(np.isinf(values).sum())} infinite value(s)"
            )
    return true.ravel(), pred.ravel()


def _check_counts(counts: ArrayLike) -> NDArray[np.float64]:
    """Return ``counts`` as a new 1-D float array of finite values >= 0."""
    arr = np.asarray(counts)
    if arr.ndim != 1:
        raise ValueError(
            f"counts must be a 1-D array, got {arr.ndim} dimension(s) with shape "
            f"{arr.shape}"
        )
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"counts must be numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        bad = arr[~np.isfinite(arr)]
        raise ValueError(f"counts must be finite, got {bad[:5].tolist()}")
    if (arr < 0).any():
        raise ValueError(f"counts must be >= 0, got {arr[arr < 0][:5].tolist()}")
    return arr


def _discounts(k: int) -> NDArray[np.float64]:
    """Return the log2 rank discounts ``1 / log2(j + 1)`` for ranks ``j = 1..k``."""
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


# ---------------------------------------------------------------------------
# Building hits by hand
# ---------------------------------------------------------------------------


def hits_from_lists(
    recommended: Sequence[Sequence[Hashable]],
    relevant: Sequence[Collection[Hashable]],
    k: int,
) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Build ``hits`` and ``n_relevant`` from ranked lists and relevant sets.

    A helper for small worked examples: each user's ranked list is cut to its
    first ``k`` items, each item is marked as a hit if it is in the user's set of
    relevant items, and lists shorter than ``k`` are padded with ``False``.

    Example:
        >>> hits, n_rel = hits_from_lists([["a", "b", "c"]], [{"a", "c"}], k=3)
        >>> hits
        array([[ True, False,  True]])
        >>> n_rel
        array([2])

    Args:
        recommended: One ranked list of item ids per user, best item first.
        relevant: One collection (usually a set) of relevant item ids per user,
            e.g. the user's held-out test items.
        k: The list length to evaluate (the "k" of "@k"); must be >= 1.

    Returns:
        A tuple ``(hits, n_relevant)``: a boolean array of shape ``(n_users, k)``
        and an int array of shape ``(n_users,)`` holding ``len(relevant[u])``.

    Raises:
        ValueError: If ``k < 1``, if ``recommended`` and ``relevant`` have
            different lengths, if a user has no relevant items, or if a ranked
            list contains the same item twice.
    """
    k = _check_positive_int(k, "k")
    if isinstance(recommended, str) or isinstance(relevant, str):
        raise ValueError("recommended and relevant must be lists, not strings")
    if len(recommended) != len(relevant):
        raise ValueError(
            f"recommended has {len(recommended)} users but relevant has "
            f"{len(relevant)}; pass one ranked list and one relevant set per user"
        )
    n_users = len(recommended)
    hits = np.zeros((n_users, k), dtype=np.bool_)
    n_relevant = np.zeros(n_users, dtype=np.int64)
    for u, (ranked, rel) in enumerate(zip(recommended, relevant, strict=True)):
        if isinstance(ranked, str) or isinstance(rel, str):
            raise ValueError(
                f"user {u}: each ranked list and relevant set must be a collection "
                "of item ids, not a string"
            )
        ranked_list = list(ranked)
        if len(set(ranked_list)) != len(ranked_list):
            dupes = [item for item, n in Counter(ranked_list).items() if n > 1]
            raise ValueError(
                f"user {u}: the ranked list contains duplicate items {dupes}; "
                "a recommendation list must not repeat an item"
            )
        rel_set = set(rel)
        if not rel_set:
            raise ValueError(
                f"user {u} has no relevant items; users with an empty test set "
                "cannot be evaluated and must be left out"
            )
        top = ranked_list[:k]
        hits[u, : len(top)] = [item in rel_set for item in top]
        n_relevant[u] = len(rel_set)
    return hits, n_relevant


# ---------------------------------------------------------------------------
# Ranking metrics, one value per user
# ---------------------------------------------------------------------------


def precision_at_k(hits: ArrayLike, n_relevant: ArrayLike) -> NDArray[np.float64]:
    r"""Compute precision@k, the fraction of the top-k list that is relevant.

    .. math::

        P@k(u) = \frac{1}{k} \sum_{j=1}^{k} hit_{u,j}

    The denominator is always ``k``, even when a user's list is padded because
    fewer than ``k`` items could be recommended: an empty slot counts as a miss.

    Range [0, 1]. Ceiling ``min(1, n_rel / k)``: a user with fewer than ``k``
    relevant items cannot fill the list with hits, so precision@k can only reach
    1 for users with at least ``k`` relevant items. ``n_relevant`` does not enter
    the formula; it is validated like every metric's.

    Args:
        hits: Boolean array of shape ``(n_users, k)``, ``hits[u, j]`` true if the
            item at rank ``j + 1`` is relevant.
        n_relevant: Int array of shape ``(n_users,)``, the number of relevant
            (held-out) items of each user, >= 1.

    Returns:
        Float array of shape ``(n_users,)``, precision@k of each user.

    Raises:
        ValueError: If the inputs have the wrong shape or values (see the module
            docstring), e.g. ``hits`` not 2-D or holding values other than
            True/False or 0/1.
    """
    h = _check_hits(hits)
    _check_n_relevant(n_relevant, h)
    return h.sum(axis=1) / h.shape[1]


def recall_at_k(hits: ArrayLike, n_relevant: ArrayLike) -> NDArray[np.float64]:
    r"""Compute recall@k, the fraction of the relevant items found in the top k.

    .. math::

        R@k(u) = \frac{1}{n_{rel}(u)} \sum_{j=1}^{k} hit_{u,j}

    Range [0, 1]. Ceiling ``min(1, k / n_rel)``: recall@k **cannot reach 1 when a
    user has more than k relevant items**, since at most ``k`` of them fit in the
    list. Comparing recall across users with very different test-set sizes, or
    across values of ``k``, should keep this in mind.

    Args:
        hits: Boolean array of shape ``(n_users, k)``, ``hits[u, j]`` true if the
            item at rank ``j + 1`` is relevant.
        n_relevant: Int array of shape ``(n_users,)``, the number of relevant
            (held-out) items of each user, >= 1.

    Returns:
        Float array of shape ``(n_users,)``, recall@k of each user.

    Raises:
        ValueError: If the inputs have the wrong shape or values (see the module
            docstring), e.g. ``n_relevant < 1`` or fewer than the user's hits.
    """
    h = _check_hits(hits)
    n_rel = _check_n_relevant(n_relevant, h)
    return h.sum(axis=1) / n_rel


def ndcg_at_k(hits: ArrayLike, n_relevant: ArrayLike) -> NDArray[np.float64]:
    r"""Compute normalised discounted cumulative gain at k, with binary gains.

    Each hit is worth a gain of 1, discounted by the log of its rank, and the
    total is divided by the best total any list of length ``k`` could reach:

    .. math::

        DCG@k(u)  = \sum_{j=1}^{k} \frac{hit_{u,j}}{\log_2(j + 1)}

        IDCG@k(u) = \sum_{j=1}^{\min(k, n_{rel}(u))} \frac{1}{\log_2(j + 1)}

        nDCG@k(u) = DCG@k(u) / IDCG@k(u)

    The ideal list puts all relevant items first, so it has ``min(k, n_rel)``
    hits; this is what makes nDCG reach 1 for a perfect list even when the user
    has more than ``k`` relevant items. A hit at rank 1 is worth 1, at rank 2
    0.63, at rank 3 0.5, at rank 10 0.29.

    Range [0, 1]. Ceiling 1, reached exactly when the first ``min(k, n_rel)``
    positions are all hits.

    Args:
        hits: Boolean array of shape ``(n_users, k)``, ``hits[u, j]`` true if the
            item at rank ``j + 1`` is relevant.
        n_relevant: Int array of shape ``(n_users,)``, the number of relevant
            (held-out) items of each user, >= 1.

    Returns:
        Float array of shape ``(n_users,)``, nDCG@k of each user.

    Raises:
        ValueError: If the inputs have the wrong shape or values (see the module
            docstring).
    """
    h = _check_hits(hits)
    n_rel = _check_n_relevant(n_relevant, h)
    k = h.shape[1]
    discounts = _discounts(k)
    dcg = h @ discounts
    # ideal_dcg[m - 1] = DCG of a list whose first m positions are hits.
    ideal_dcg = np.cumsum(discounts)
    idcg = ideal_dcg[np.minimum(n_rel, k) - 1]
    return dcg / idcg


def average_precision_at_k(
    hits: ArrayLike, n_relevant: ArrayLike
) -> NDArray[np.float64]:
    r"""Compute average precision at k; MAP@k is its mean over users.

    Precision is measured at the rank of each hit, summed, and divided by the
    number of hits a perfect list of length ``k`` would have:

    .. math::

        AP@k(u) = \frac{1}{\min(k, n_{rel}(u))}
                  \sum_{j=1}^{k} P@j(u) \cdot hit_{u,j}

        MAP@k = \frac{1}{|U|} \sum_{u \in U} AP@k(u)

    **Denominator.** This module divides by ``min(k, n_rel)`` so that a perfect
    list (the first ``min(k, n_rel)`` positions all hits) scores exactly 1, like
    nDCG. Libraries differ here, so AP values are only comparable with the same
    convention: dividing by ``n_rel`` (the classic IR definition, e.g.
    ``trec_eval``) caps AP@k at ``k / n_rel`` when ``n_rel > k``; dividing by
    the number of hits in the list scores a list with a single hit at rank 1 as
    1.0 however many relevant items were missed.

    Range [0, 1]. Ceiling 1.

    Args:
        hits: Boolean array of shape ``(n_users, k)``, ``hits[u, j]`` true if the
            item at rank ``j + 1`` is relevant.
        n_relevant: Int array of shape ``(n_users,)``, the number of relevant
            (held-out) items of each user, >= 1.

    Returns:
        Float array of shape ``(n_users,)``, AP@k of each user.

    Raises:
        ValueError: If the inputs have the wrong shape or values (see the module
            docstring).
    """
    h = _check_hits(hits)
    n_rel = _check_n_relevant(n_relevant, h)
    k = h.shape[1]
    ranks = np.arange(1, k + 1, dtype=np.float64)
    precision_at_each_rank = np.cumsum(h, axis=1) / ranks
    summed = (precision_at_each_rank * h).sum(axis=1)
    return summed / np.minimum(n_rel, k)


def reciprocal_rank_at_k(hits: ArrayLike, n_relevant: ArrayLike) -> NDArray[np.float64]:
    r"""Compute the reciprocal rank of the first hit; MRR@k is its mean over users.

    .. math::

        RR@k(u) = 1 / \min\{j : hit_{u,j}\}, or 0 if the top k has no hit

    Only the first hit counts: it measures how far down the list a user must
    look before finding something relevant.

    Range [0, 1], taking the values 0, 1/k, ..., 1/2, 1. Ceiling 1 (a hit at
    rank 1) for every user. ``n_relevant`` does not enter the formula; it is
    validated like every metric's.

    Args:
        hits: Boolean array of shape ``(n_users, k)``, ``hits[u, j]`` true if the
            item at rank ``j + 1`` is relevant.
        n_relevant: Int array of shape ``(n_users,)``, the number of relevant
            (held-out) items of each user, >= 1.

    Returns:
        Float array of shape ``(n_users,)``, RR@k of each user.

    Raises:
        ValueError: If the inputs have the wrong shape or values (see the module
            docstring).
    """
    h = _check_hits(hits)
    _check_n_relevant(n_relevant, h)
    any_hit = h.any(axis=1)
    first_rank = h.argmax(axis=1) + 1  # argmax is 0 for an all-False row
    return np.where(any_hit, 1.0 / first_rank, 0.0)


def hit_rate_at_k(hits: ArrayLike, n_relevant: ArrayLike) -> NDArray[np.float64]:
    r"""Compute the hit rate at k: 1 if the top-k list has any hit, else 0.

    .. math::

        HR@k(u) = 1 if \sum_{j=1}^{k} hit_{u,j} > 0, else 0

    Its mean over users is the fraction of users who got at least one relevant
    item. With a single held-out item per user (leave-one-out) it equals
    recall@k.

    Range {0, 1}. Ceiling 1 for every user. ``n_relevant`` does not enter the
    formula; it is validated like every metric's.

    Args:
        hits: Boolean array of shape ``(n_users, k)``, ``hits[u, j]`` true if the
            item at rank ``j + 1`` is relevant.
        n_relevant: Int array of shape ``(n_users,)``, the number of relevant
            (held-out) items of each user, >= 1.

    Returns:
        Float array of shape ``(n_users,)`` of 0.0 and 1.0.

    Raises:
        ValueError: If the inputs have the wrong shape or values (see the module
            docstring).
    """
    h = _check_hits(hits)
    _check_n_relevant(n_relevant, h)
    return h.any(axis=1).astype(np.float64)


RankingMetric = Callable[[ArrayLike, ArrayLike], NDArray[np.float64]]

RANKING_METRICS: dict[str, RankingMetric] = {
    "precision": precision_at_k,
    "recall": recall_at_k,
    "ndcg": ndcg_at_k,
    "map": average_precision_at_k,
    "mrr": reciprocal_rank_at_k,
    "hit_rate": hit_rate_at_k,
}
"""Every ranking metric as a function of ``(hits, n_relevant)``, by name.

Each returns one value per user; average over users for the reported score
(``"map"`` and ``"mrr"`` are named after those means). For example::

    scores = {name: fn(hits, n_rel).mean() for name, fn in RANKING_METRICS.items()}
"""


# ---------------------------------------------------------------------------
# Beyond accuracy: which items are recommended
# ---------------------------------------------------------------------------


def catalog_coverage(recommended_items: ArrayLike, n_items: int) -> float:
    r"""Compute catalogue coverage, the fraction of items recommended to anyone.

    .. math::

        coverage = |\bigcup_u L_u| / n_{items}

    where ``L_u`` is the set of items in user ``u``'s top-k list. Also called
    aggregate diversity. A recommender that shows everybody the same popular
    items has coverage close to ``k / n_items``.

    Range [0, 1]. Ceiling ``min(1, n_users * k / n_items)``: the lists together
    hold at most ``n_users * k`` distinct items.

    Args:
        recommended_items: Int array of shape ``(n_users, k)`` of item indices
            in ``0..n_items-1``; ``-1`` marks padding and is ignored.
        n_items: Size of the catalogue, >= 1.

    Returns:
        The coverage as a float.

    Raises:
        ValueError: If ``recommended_items`` is not a 2-D integer array, holds an
            index outside ``-1..n_items-1``, or if ``n_items < 1``.
    """
    n_items = _check_positive_int(n_items, "n_items")
    items = _check_item_matrix(recommended_items, n_items)
    return float(np.unique(items).size / n_items)


def novelty(
    recommended_items: ArrayLike, item_counts: ArrayLike, n_users: int
) -> float:
    r"""Compute novelty, the mean self-information of the recommended items.

    Following Zhou et al. (2010), an item seen by a fraction ``p_i`` of the
    training users carries ``-log2(p_i)`` bits of self-information: recommending
    an item everybody knows tells the user little. Novelty is the mean over all
    recommended (non-padding) items of all users:

    .. math::

        p_i = (count_i + 1) / (n_{users} + 1)

        novelty = \frac{1}{|R|} \sum_{(u, i) \in R} -\log_2 p_i

    where ``R`` holds every (user, item) pair of the top-k lists. The ``+ 1``
    smoothing keeps an item never seen in training (``count_i = 0``) finite
    instead of infinitely novel: it gets ``log2(n_users + 1)`` bits, as if one
    extra user had seen it.

    Higher means less popular items are recommended. Range
    ``[0, log2(n_users + 1)]``: 0 when every recommended item was seen by all
    training users, the maximum when none was seen by anyone.

    Args:
        recommended_items: Int array of shape ``(n_users, k)`` of item indices
            in ``0..n_items-1``; ``-1`` marks padding and is ignored.
        item_counts: Int array of shape ``(n_items,)``: how many training users
            interacted with each item, between 0 and ``n_users``.
        n_users: Number of users in the training data, >= 1.

    Returns:
        The novelty in bits, as a float.

    Raises:
        ValueError: If ``recommended_items`` is not a 2-D integer array or holds
            an index outside ``-1..n_items-1``, if ``item_counts`` is not a 1-D
            array of counts in ``0..n_users``, or if no item is recommended.
    """
    n_train_users = _check_positive_int(n_users, "n_users")
    counts = np.asarray(item_counts)
    if counts.ndim != 1:
        raise ValueError(
            "item_counts must be a 1-D array of shape (n_items,), got shape "
            f"{counts.shape}"
        )
    if np.issubdtype(counts.dtype, np.floating):
        bad = ~np.isfinite(counts) | (counts != np.round(counts))
        if bad.any():
            raise ValueError(
                "item_counts must contain whole numbers, got "
                f"{counts[bad][:5].tolist()}"
            )
    elif not np.issubdtype(counts.dtype, np.integer) or counts.dtype == np.bool_:
        raise ValueError(f"item_counts must be integers, got dtype {counts.dtype}")
    if counts.size and (counts.min() < 0 or counts.max() > n_train_users):
        raise ValueError(
            f"item_counts must lie in 0..n_users (= 0..{n_train_users}); found "
            f"values from {counts.min()} to {counts.max()}"
        )
    items = _check_item_matrix(recommended_items, counts.shape[0])
    if items.size == 0:
        raise ValueError(
            "recommended_items holds no items (only padding); novelty is undefined"
        )
    p = (counts.astype(np.float64) + 1.0) / (n_train_users + 1.0)
    return float(np.mean(-np.log2(p[items])))


# ---------------------------------------------------------------------------
# Concentration: how unequally counts are spread over items
# ---------------------------------------------------------------------------


def gini(counts: ArrayLike) -> float:
    r"""Compute the Gini coefficient of non-negative counts.

    With the ``n`` counts sorted ascending, :math:`x_{(1)} \le \dots \le x_{(n)}`:

    .. math::

        G = \frac{\sum_{i=1}^{n} (2i - n - 1)\, x_{(i)}}{n \sum_{i=1}^{n} x_i}

    Applied to interactions per item it measures popularity bias: 0 when every
    item is equally popular, close to 1 when a few items take everything.
    Applied to how often each item is recommended it measures how concentrated
    a recommender's lists are. It does not change when every count is
    multiplied by the same factor.

    Range ``[0, 1 - 1/n]``: 0 when all counts are equal; the ceiling
    ``1 - 1/n`` when a single item holds every count. Returns 0.0 for an empty
    or all-zero input (nothing is concentrated).

    Example:
        >>> gini([1, 1, 1, 1])
        0.0
        >>> gini([0, 0, 0, 4])
        0.75

    Args:
        counts: 1-D array of non-negative counts, e.g. interactions per item.

    Returns:
        The Gini coefficient as a float.

    Raises:
        ValueError: If ``counts`` is not 1-D or holds negative, NaN or infinite
            values.
    """
    x = np.sort(_check_counts(counts))
    n = x.size
    if n == 0 or x.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * x) / (n * x.sum()))


def top_share(counts: ArrayLike, fraction: float) -> float:
    r"""Compute the share of the total held by the largest ``fraction`` of counts.

    With the counts sorted descending and ``m = max(1, round(fraction * n))``:

    .. math::

        share = \sum_{i=1}^{m} x_{(i)} \Big/ \sum_{i=1}^{n} x_i

    ``top_share(interactions_per_item, 0.1)`` is the share of all interactions
    that go to the 10% most popular items (the "head" of the long tail).

    Range ``[m / n, 1]``: the floor ``m / n`` (about ``fraction``) when all
    counts are equal; the ceiling 1 when the top ``m`` items hold everything.
    Returns 0.0 for an empty or all-zero input.

    Example:
        >>> top_share([5, 3, 1, 1], 0.25)
        0.5

    Args:
        counts: 1-D array of non-negative counts, e.g. interactions per item.
        fraction: Share of the items to call the top, in (0, 1]; at least one
            item is always taken.

    Returns:
        The share as a float.

    Raises:
        ValueError: If ``counts`` is not 1-D or holds negative, NaN or infinite
            values, or if ``fraction`` is not in (0, 1].
    """
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, numbers.Real)
        or not 0 < fraction <= 1
    ):
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    x = np.sort(_check_counts(counts))[::-1]
    total = x.sum()
    if total == 0:
        return 0.0
    top = max(1, round(fraction * x.size))
    return float(x[:top].sum() / total)


# ---------------------------------------------------------------------------
# Rating prediction
# ---------------------------------------------------------------------------


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Compute the root mean squared error of rating predictions.

    .. math::

        RMSE = \sqrt{\frac{1}{n} \sum_{i=1}^{n} (\hat{r}_i - r_i)^2}

    In the units of the ratings (e.g. stars). Squaring punishes a few large
    errors more than many small ones, so RMSE >= MAE always.

    Range [0, inf). Lower is better; 0 is a perfect prediction.

    Args:
        y_true: The observed ratings, any shape.
        y_pred: The predicted ratings, same shape as ``y_true``.

    Returns:
        The RMSE as a float.

    Raises:
        ValueError: If the shapes differ, the inputs are empty, or either holds
            NaN or infinite values.
    """
    true, pred = _check_ratings(y_true, y_pred)
    return float(np.sqrt(np.mean((pred - true) ** 2)))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Compute the mean absolute error of rating predictions.

    .. math::

        MAE = \frac{1}{n} \sum_{i=1}^{n} |\hat{r}_i - r_i|

    In the units of the ratings (e.g. stars): the average distance between the
    prediction and the true rating.

    Range [0, inf). Lower is better; 0 is a perfect prediction.

    Args:
        y_true: The observed ratings, any shape.
        y_pred: The predicted ratings, same shape as ``y_true``.

    Returns:
        The MAE as a float.

    Raises:
        ValueError: If the shapes differ, the inputs are empty, or either holds
            NaN or infinite values.
    """
    true, pred = _check_ratings(y_true, y_pred)
    return float(np.mean(np.abs(pred - true)))
