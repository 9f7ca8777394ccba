"""Neighbourhood models: user-based and item-based collaborative filtering.

Both models work on the binary users x items matrix X of the training data
(x_ui = 1 if user u interacted with item i) and share one similarity, cosine
with shrinkage. For two rows a and b of a binary matrix,

    sim(a, b) = |a ∩ b| / (sqrt(|a| |b|) + s),

where |a ∩ b| is the number of 1s they share and s >= 0 is the shrinkage.
With s = 0 this is plain cosine, in [0, 1]; s > 0 pulls similarities that
rest on few co-occurrences towards 0 (two users who share their single item
have cosine 1, which is weak evidence), so the range is [0, 1).

Only each row's k largest similarities are kept (its *neighbours*), in a
sparse matrix: a dense item-item matrix of ml-latest-small (9.7k items) alone
would take ~760 MB. Similarities are computed from sparse products (X.T @ X or
X @ X.T) one block of rows at a time, each block cut to its top k with a
vectorised partial sort, so peak memory is bounded by the block size.

The defaults were chosen on a validation split carved from the training data
(``split.by_time(train, 0.2)`` of ``split.by_time(ds, 0.2)``), on ``shop`` and
``movielens-latest-small``, by ``benchmarks/tune_neighbors.py``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender
from recsys_helpers.models.params import check_int, check_number

__all__ = ["ItemKNN", "UserKNN", "cosine_top_k"]

# Cells of one dense similarity block (float64): 4M cells = 32 MB.
_BLOCK_CELLS = 4_000_000


def cosine_top_k(
    a: sp.csr_matrix,
    b: sp.csr_matrix,
    neighbors: int,
    shrinkage: float = 0.0,
    exclude_self: bool = True,
) -> sp.csr_matrix:
    """Top-k cosine-with-shrinkage similarities between the rows of a and b.

    sim(a_r, b_c) = (a_r · b_c) / (sqrt(|a_r| |b_c|) + s) for binary rows,
    where |a_r| is the number of 1s in a_r. Each row r keeps its ``neighbors``
    largest positive similarities and any tied with the k-th largest, so the
    result never depends on how a sort orders equal values.

    Args:
        a: Binary CSR matrix (n_a, d).
        b: Binary CSR matrix (n_b, d), e.g. ``a`` itself.
        neighbors: k >= 1, similarities kept per row.
        shrinkage: s >= 0.
        exclude_self: Never keep column r in row r (when ``a`` is ``b``).

    Returns:
        CSR matrix (n_a, n_b): per row the k largest positive values (more
        only on ties with the k-th), all in (0, 1].

    Raises:
        ValueError: If ``neighbors`` is not a positive integer or
            ``shrinkage`` is not a finite number >= 0 (the message names the
            argument and its value).
    """
    check_int("", "neighbors", neighbors)
    check_number("", "shrinkage", shrinkage)
    a = sp.csr_matrix(a, dtype=np.float64)
    b = sp.csr_matrix(b, dtype=np.float64)
    b_t = b.T.tocsr()
    count_a = np.diff(a.indptr).astype(np.float64)
    count_b = np.diff(b.indptr).astype(np.float64)
    n_a, n_b = a.shape[0], b_t.shape[1]
    k = min(neighbors, n_b)
    block = max(1, _BLOCK_CELLS // max(1, n_b))
    parts = []
    for start in range(0, n_a, block):  # blocks of rows, not single rows
        stop = min(n_a, start + block)
        overlap = (a[start:stop] @ b_t).toarray()
        # sqrt of the exact integer product: equal similarities, equal bits
        denominator = np.sqrt(np.outer(count_a[start:stop], count_b)) + shrinkage
        sim = np.divide(
            overlap, denominator, out=np.zeros_like(overlap), where=denominator > 0
        )
        if exclude_self:
            own = np.arange(start, stop)
            inside = own < n_b
            sim[own[inside] - start, own[inside]] = 0.0
        parts.append(_keep_top_k(sim, k))
    result = sp.vstack(parts, format="csr")
    result.sort_indices()
    return result


def _keep_top_k(block: np.ndarray, k: int) -> sp.csr_matrix:
    """Each row's k largest positive entries (and any tied with the k-th)."""
    kth = (
        -np.partition(-block, k - 1, axis=1)[:, k - 1 : k] if k < block.shape[1] else 0
    )
    rows, cols = np.nonzero((block >= kth) & (block > 0))
    return sp.csr_matrix((block[rows, cols], (rows, cols)), shape=block.shape)


class ItemKNN(Recommender):
    """Item-based k-nearest neighbours ("people who bought this also bought").

    Similarity of items i and j, from the sets U_i, U_j of users who bought
    them, cosine with shrinkage s:

        sim(i, j) = |U_i ∩ U_j| / (sqrt(|U_i| |U_j|) + s),   in [0, 1).

    N_k(j) holds the k items most similar to j (j itself excluded; items tied
    with the k-th are kept too, so no sort order decides). Each item
    j the user has votes for its neighbours, weighted by similarity:

        score(u, i) = sum_{j in I_u, i in N_k(j)} sim(j, i),   >= 0,

    i.e. scores = X @ S_k, with S_k the sparse item x item matrix of the
    kept similarities (Deshpande & Karypis, 2004).

    Args:
        neighbors: k, neighbours kept per item (>= 1). Small k keeps only
            strong evidence; large k adds weak, popular co-occurrences.
            Default 10.
        shrinkage: s >= 0; damps similarities resting on few shared users.
            Default 20.

    The defaults come from ``benchmarks/tune_neighbors.py``: validation
    nDCG@10 averaged over ``shop`` and ``movielens-latest-small``, relative to
    each one's best. On the shop with a clock the best cell is k=5, s=20
    (0.994 of best); these defaults score 0.981, and lesson 02's paired test
    of the best k against them on validation is a tie, so they were kept.

    Attributes:
        similarity_: CSR (n_items, n_items), row j = sim(j, ·) over N_k(j).
    """

    def __init__(self, neighbors: int = 10, shrinkage: float = 20.0) -> None:
        self.neighbors = neighbors
        self.shrinkage = shrinkage

    def _fit(self, train: Dataset) -> None:
        check_int("ItemKNN", "neighbors", self.neighbors)
        check_number("ItemKNN", "shrinkage", self.shrinkage)
        items_users = self.user_items_.T.tocsr()
        self.similarity_ = cosine_top_k(
            items_users, items_users, self.neighbors, self.shrinkage
        )

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return (self.user_items_[rows] @ self.similarity_).toarray()


class UserKNN(Recommender):
    """User-based k-nearest neighbours ("users like you bought").

    Similarity of users u and v, from their item sets I_u and I_v, cosine with
    shrinkage s:

        sim(u, v) = |I_u ∩ I_v| / (sqrt(|I_u| |I_v|) + s),   in [0, 1).

    N_k(u) holds the k users most similar to u (u excluded; users tied with
    the k-th are kept too). Every neighbour
    votes for the items they bought, weighted by similarity:

        score(u, i) = sum_{v in N_k(u)} sim(u, v) x_vi,   >= 0,

    i.e. scores = W_k @ X with W_k the sparse user x user matrix of the kept
    similarities. Unlike the seed notebook's union of neighbours' item sets,
    this keeps the evidence: an item bought by several close neighbours
    outranks one bought by a single distant one.

    Args:
        neighbors: k, neighbours kept per user (>= 1). Default 50.
        shrinkage: s >= 0; damps similarities resting on few shared items.
            Default 50.

    The defaults come from ``benchmarks/tune_neighbors.py``: validation
    nDCG@10 averaged over ``shop`` and ``movielens-latest-small``, relative to
    each one's best. On the shop with a clock the best cell is k=50, s=5
    (0.980 of best); these defaults score 0.967, and lesson 02's paired test
    of the best k against them on validation is a tie, so they were kept.

    Attributes:
        similarity_: CSR (n_users, n_users), row u = sim(u, ·) over N_k(u).
    """

    def __init__(self, neighbors: int = 50, shrinkage: float = 50.0) -> None:
        self.neighbors = neighbors
        self.shrinkage = shrinkage

    def _fit(self, train: Dataset) -> None:
        check_int("UserKNN", "neighbors", self.neighbors)
        check_number("UserKNN", "shrinkage", self.shrinkage)
        self.similarity_ = cosine_top_k(
            self.user_items_, self.user_items_, self.neighbors, self.shrinkage
        )

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return (self.similarity_[rows] @ self.user_items_).toarray()
