"""From a fitted model to an answer in milliseconds: indexes and an HTTP service.

Two halves, used by lesson ``08_serving``:

**Indexes over item vectors.** A factorisation model (``models.ALS``: user
vectors ``user_factors_`` and item vectors ``item_factors_``) scores user
``u`` and item ``i`` by the inner product ``x_u . y_i``, so "the top-k items"
is a *maximum inner product search* over the item vectors:

* :class:`ExactIndex`: every score, ``O(n_items d)`` per query, numpy;
* :class:`HNSWIndex`: faiss's hierarchical navigable small-world graph
  (Malkov and Yashunin 2018); ``ef_search`` candidates are kept during the
  greedy walk: more is slower and closer to exact;
* :class:`IVFIndex`: faiss's inverted file: k-means cuts the catalogue into
  ``nlist`` cells and a query scans only its ``nprobe`` best cells.

All three answer ``search(queries, k) -> (items, scores)`` with -1 / -inf
padding when fewer than k items are found. faiss is imported only when an
approximate index is built (never at ``import recsys_helpers``).

**Excluding what the user already has.** :func:`search_unseen` *over-fetches*:
it asks the index for ``k + s`` items, where ``s`` is the largest number of
seen items among the users of the batch, drops the seen ones and keeps the
best k. Chosen over faiss's ``IDSelector`` because (1) it works the same for
the three indexes, the numpy one included; (2) it answers a whole batch of
users in one search, whereas a selector applies to every query of a call, so
per-user exclusion needs one call per user; (3) from an exact index it is
exact. Its cost: a user with a long history makes the search fetch more (HNSW
widens its walk to at least ``k + s`` candidates), and an IVF index with few
probes may find fewer than ``k`` unseen items (the list is then shorter).

:class:`Retriever` wraps a factorisation model and an index into a course
:class:`~recsys_helpers.models.base.Recommender`, so ``evaluation.compare``
measures what approximate retrieval does to nDCG@10.

**The service.** :func:`make_app` returns a FastAPI app serving any fitted
course Recommender through its ``top_k_rows`` (what ``recommend`` uses):
ALS answers by exact numpy search, ``Retriever(ALS(), index="hnsw")`` through
an HNSW index, ``Popularity`` as it is. :class:`ModelService` holds what is
served and swaps models atomically; :func:`run_server` runs an app with
uvicorn on 127.0.0.1 in a background thread and always stops it.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone

from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender, _top_k
from recsys_helpers.models.baselines import Popularity
from recsys_helpers.models.factorization import ALS
from recsys_helpers.models.params import check_choice, check_int

__all__ = [
    "INDEXES",
    "ExactIndex",
    "HNSWIndex",
    "IVFIndex",
    "ModelService",
    "Retriever",
    "ServedModel",
    "VectorIndex",
    "build_index",
    "clustered_vectors",
    "factors_of",
    "free_port",
    "make_app",
    "measure_latency",
    "queries_per_second",
    "recall_vs_exact",
    "recommend_for",
    "run_server",
    "search_unseen",
    "tradeoff",
]


# ------------------------------------------------------------------ indexes
class VectorIndex(Protocol):
    """What every index answers."""

    n_items: int

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item positions and scores per query row."""
        ...


def _as_vectors(vectors: Any, what: str) -> np.ndarray:
    """A C-contiguous float32 (n, d) copy; clear errors for bad input."""
    array = np.asarray(vectors)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{what} must be a non-empty 2-D array, got {array.shape}.")
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{what} must be numeric, got {array.dtype}.")
    array = np.array(array, dtype=np.float32, order="C")  # a copy: never shared
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contain NaN or infinite values.")
    return array


def _check_k(k: Any, n_items: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    return int(min(k, n_items))


class ExactIndex:
    """Exact maximum inner product search with numpy (the ground truth).

    ``search`` computes all ``n_items`` scores ``q . y_i`` of each query and
    keeps the k largest (ties to the lower item position), so a query costs
    ``O(n_items d)``: fine for thousands of items, too slow at some size that
    lesson 08 measures.

    Args:
        item_vectors: (n_items, d) item vectors; copied as float32.
    """

    def __init__(self, item_vectors: Any) -> None:
        self.vectors = _as_vectors(item_vectors, "item vectors")
        self.n_items, self.dim = self.vectors.shape

    def search(self, queries: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k ``(items, scores)``, each (n_queries, k), best first."""
        queries = _as_queries(queries, self.dim)
        scores = queries @ self.vectors.T
        return _top_k(scores, _check_k(k, self.n_items))

    def __repr__(self) -> str:
        return f"ExactIndex({self.n_items} items, d={self.dim})"


class HNSWIndex:
    """Approximate search on a faiss HNSW graph, by inner product.

    Greedy search on a layered proximity graph (Malkov and Yashunin 2018):
    each item is linked to ``m`` neighbours; a query walks from the top
    layer down, keeping the ``ef_search`` best candidates seen. Recall and
    cost grow with ``ef_search`` (faiss uses at least ``k``); building costs
    ``O(n log n)`` with ``ef_construction`` candidates per insertion.
    ``faiss.METRIC_INNER_PRODUCT`` ranks by ``q . y_i``, the model's score.

    Args:
        item_vectors: (n_items, d) item vectors.
        m: Links per item (faiss's ``M``), >= 2.
        ef_search: Candidates kept while searching, >= 1.
        ef_construction: Candidates kept while inserting, >= 1.

    Defaults: faiss's ``M=32``; with it, ``ef_search=64`` reached recall@10
    0.94 on 10,000 random 64-d unit vectors (the worst case, checked when
    faiss was added to the course). On clustered vectors recall is higher:
    ``benchmarks/ann_tradeoff.py`` measures 0.97-0.99 at ef_search 40-80
    with ``m=16`` on 50,000 of them.
    """

    def __init__(
        self,
        item_vectors: Any,
        m: int = 32,
        ef_search: int = 64,
        ef_construction: int = 40,
    ) -> None:
        check_int("HNSWIndex", "m", m, minimum=2)
        check_int("HNSWIndex", "ef_search", ef_search)
        check_int("HNSWIndex", "ef_construction", ef_construction)
        faiss = _faiss()
        self.vectors = _as_vectors(item_vectors, "item vectors")
        self.n_items, self.dim = self.vectors.shape
        self.m, self.ef_search, self.ef_construction = m, ef_search, ef_construction
        index = faiss.IndexHNSWFlat(self.dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.add(self.vectors)
        self.faiss_index = index

    def with_ef_search(self, ef_search: int) -> HNSWIndex:
        """The same graph searched with another ``ef_search`` (no rebuild).

        The graph is shared, nothing is mutated: ``ef_search`` travels with
        each search call (faiss's ``SearchParametersHNSW``), so indexes with
        different settings can answer concurrently.
        """
        check_int("HNSWIndex", "ef_search", ef_search)
        other = copy.copy(self)
        other.ef_search = ef_search
        return other

    def search(self, queries: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Approximate top-k ``(items, scores)``; -1 / -inf where none found."""
        queries = _as_queries(queries, self.dim)
        params = _faiss().SearchParametersHNSW(efSearch=self.ef_search)
        scores, items = self.faiss_index.search(
            queries, _check_k(k, self.n_items), params=params
        )
        return _padded(items, scores)

    def __repr__(self) -> str:
        return (
            f"HNSWIndex({self.n_items} items, m={self.m}, ef_search={self.ef_search})"
        )


class IVFIndex:
    """Approximate search on a faiss inverted file (IVF-Flat), by inner product.

    k-means (seeded) splits the item vectors into ``nlist`` cells; a query
    ranks the cell centroids and scores only the items of its ``nprobe``
    best cells exactly. Cost ~ ``nlist d + nprobe (n_items / nlist) d`` per
    query; recall grows with ``nprobe`` (``nprobe = nlist`` is exact). With
    few probes, fewer than k items may be found (padded with -1).

    Args:
        item_vectors: (n_items, d) item vectors; at least ``nlist`` of them.
        nlist: Number of cells, >= 1 (a common start: about sqrt(n_items)).
        nprobe: Cells scanned per query, 1 <= nprobe (capped at nlist).
        seed: Seed of the k-means initialisation.
    """

    def __init__(
        self, item_vectors: Any, nlist: int = 100, nprobe: int = 8, seed: int = 0
    ) -> None:
        check_int("IVFIndex", "nlist", nlist)
        check_int("IVFIndex", "nprobe", nprobe)
        check_int("IVFIndex", "seed", seed, minimum=0)
        faiss = _faiss()
        self.vectors = _as_vectors(item_vectors, "item vectors")
        self.n_items, self.dim = self.vectors.shape
        if nlist > self.n_items:
            raise ValueError(f"nlist={nlist} is more than the {self.n_items} items.")
        self.nlist, self.nprobe = nlist, min(nprobe, nlist)
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(
            quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT
        )
        index.cp.seed = seed
        index.cp.min_points_per_centroid = 1  # small catalogues: no warning
        index.train(self.vectors)
        index.add(self.vectors)
        self.quantizer = quantizer  # keep it alive as long as the index
        self.faiss_index = index

    def with_nprobe(self, nprobe: int) -> IVFIndex:
        """The same cells searched with another ``nprobe`` (no rebuild).

        Nothing is mutated: ``nprobe`` travels with each search call
        (faiss's ``SearchParametersIVF``).
        """
        check_int("IVFIndex", "nprobe", nprobe)
        other = copy.copy(self)
        other.nprobe = min(nprobe, self.nlist)
        return other

    def search(self, queries: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Approximate top-k ``(items, scores)``; -1 / -inf where none found."""
        queries = _as_queries(queries, self.dim)
        params = _faiss().SearchParametersIVF(nprobe=self.nprobe)
        scores, items = self.faiss_index.search(
            queries, _check_k(k, self.n_items), params=params
        )
        return _padded(items, scores)

    def __repr__(self) -> str:
        return (
            f"IVFIndex({self.n_items} items, nlist={self.nlist}, nprobe={self.nprobe})"
        )


INDEXES = {"exact": ExactIndex, "hnsw": HNSWIndex, "ivf": IVFIndex}


def build_index(
    item_vectors: Any, kind: str = "exact", params: dict[str, Any] | None = None
) -> VectorIndex:
    """Build an index by name: ``"exact"``, ``"hnsw"`` or ``"ivf"``.

    Args:
        item_vectors: (n_items, d) item vectors.
        kind: One of :data:`INDEXES`.
        params: Keyword arguments of the index class (e.g.
            ``{"ef_search": 16}`` for HNSW, ``{"nlist": 20, "nprobe": 2}``).
    """
    check_choice("build_index", "kind", kind, tuple(INDEXES))
    params = dict(params or {})
    allowed = {
        "exact": set(),
        "hnsw": {"m", "ef_search", "ef_construction"},
        "ivf": {"nlist", "nprobe", "seed"},
    }[kind]
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for a {kind!r} index; "
            f"it takes {sorted(allowed) or 'none'}."
        )
    return INDEXES[kind](item_vectors, **params)


def _faiss() -> Any:
    """Import faiss on first use (18 MB, 0.3 s): never at package import."""
    try:
        import faiss
    except ImportError as error:  # pragma: no cover - pinned in the lock
        raise ImportError(
            "approximate indexes need faiss-cpu: pip install faiss-cpu"
        ) from error
    return faiss


def _as_queries(queries: Any, dim: int) -> np.ndarray:
    array = _as_vectors(np.atleast_2d(np.asarray(queries)), "queries")
    if array.shape[1] != dim:
        raise ValueError(f"queries have {array.shape[1]} numbers, the items {dim}.")
    return array


def _padded(items: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The answer of faiss in the course's convention: int64 items, -inf where -1."""
    items = items.astype(np.int64)
    scores = np.where(items >= 0, scores.astype(np.float64), -np.inf)
    return items, scores


# ---------------------------------------------------- seen-item exclusion
def search_unseen(
    index: VectorIndex, queries: Any, seen: sp.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k per query, never an item of the query's row of ``seen``.

    Over-fetches (module docstring): asks for ``k + s`` items, ``s`` the
    largest number of seen items in the batch, then filters and keeps k.

    Args:
        index: Any index of this module.
        queries: (n, d) user vectors.
        seen: (n, n_items) sparse matrix, non-zero where the user has the item.
        k: List length.

    Returns:
        ``(items, scores)``, (n, k), padded with -1 / -inf when fewer than k
        unseen items were found.
    """
    k = _check_k(k, index.n_items)
    seen = sp.csr_matrix(seen)
    n = np.atleast_2d(np.asarray(queries)).shape[0]
    if seen.shape != (n, index.n_items):
        raise ValueError(f"seen is {seen.shape}, expected {(n, index.n_items)}.")
    fetch = min(index.n_items, k + int(np.diff(seen.indptr).max(initial=0)))
    items, scores = index.search(queries, fetch)
    row_of = np.repeat(np.arange(n), fetch).reshape(items.shape)
    is_seen = np.asarray(seen[row_of.ravel(), np.maximum(items, 0).ravel()]).reshape(
        items.shape
    )
    drop = (is_seen != 0) | (items < 0)
    masked = np.where(drop, -np.inf, scores)
    # keep the order the index gave (best first), the kept items to the left
    order = np.argsort(drop, axis=1, kind="stable")[:, :k]
    kept_items = np.take_along_axis(np.where(drop, -1, items), order, axis=1)
    return kept_items, np.take_along_axis(masked, order, axis=1)


# ----------------------------------------------------- a model behind an index
def factors_of(model: Recommender) -> tuple[np.ndarray, np.ndarray]:
    """``(user_vectors, item_vectors)`` of a fitted factorisation model.

    Any model with ``user_factors_`` and ``item_factors_`` whose score is
    their inner product qualifies (``models.ALS``).
    """
    users = getattr(model, "user_factors_", None)
    items = getattr(model, "item_factors_", None)
    if users is None or items is None:
        raise TypeError(
            f"{type(model).__name__} has no user_factors_ and item_factors_ "
            "(fit it first, or use a factorisation model such as models.ALS)."
        )
    return users, items


class Retriever(Recommender):
    """A factorisation model whose top-k comes from an index.

    ``fit`` fits a clone of ``model`` (or, with ``prefit=True``, takes
    ``model`` as already fitted on the same data) and builds the index over
    its item vectors; ``top_k_rows`` (and so ``recommend`` and ``evaluation``) asks
    the index with the user vectors, seen items excluded by over-fetching
    (:func:`search_unseen`). ``score`` stays exact (``x_u . y_i`` for every
    item). With ``index="exact"`` the lists equal the model's own.

    Args:
        model: An unfitted factorisation model; None for ``models.ALS()``
            with its defaults.
        index: ``"exact"``, ``"hnsw"`` or ``"ivf"``.
        index_params: Keyword arguments of the index (see :func:`build_index`).
        prefit: ``model`` is already fitted on the training data given to
            ``fit``: use it as it is (shared, not copied) instead of fitting
            a clone.

    Attributes:
        model_: The fitted clone of ``model`` (``model`` itself if prefit).
        index_: The index over ``model_.item_factors_``.
    """

    def __init__(
        self,
        model: Recommender | None = None,
        index: str = "exact",
        index_params: dict[str, Any] | None = None,
        prefit: bool = False,
    ) -> None:
        self.model = model
        self.index = index
        self.index_params = index_params
        self.prefit = prefit

    def _fit(self, train: Dataset) -> None:
        check_choice("Retriever", "index", self.index, tuple(INDEXES))
        check_choice("Retriever", "prefit", self.prefit, (True, False))
        model = ALS() if self.model is None else self.model
        if not isinstance(model, Recommender):
            raise TypeError(f"model must be a course Recommender, got {model!r}.")
        if self.prefit:
            _check_fitted_on(model, train)
            self.model_ = model
        else:
            self.model_ = clone(model).fit(train)
        _, items = factors_of(self.model_)
        self.index_ = build_index(items, self.index, self.index_params)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return self.model_.score_rows(rows)

    def top_k_rows(
        self, rows: np.ndarray, k: int, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k by the index (see :meth:`Recommender.top_k_rows`)."""
        self._check_fitted()
        n_items = self.train_.n_items
        if not 1 <= k <= n_items:
            raise ValueError(f"k must be between 1 and the {n_items} items, got {k}.")
        rows = np.asarray(rows, dtype=np.int64)
        cold = np.diff(self.user_items_.indptr)[rows] == 0
        if cold.any():
            ids = self.train_.user_ids[rows[cold]][:5].tolist()
            raise ValueError(
                f"user(s) {ids} have no training interactions: a Retriever cannot "
                "serve cold-start users (Popularity can)."
            )
        users, _ = factors_of(self.model_)
        if exclude_seen:
            return search_unseen(self.index_, users[rows], self.user_items_[rows], k)
        return self.index_.search(users[rows], k)


# --------------------------------------------------------------- measuring
def recall_vs_exact(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of the exact top-k that an index also returned.

    ``recall@k = mean_q |found_q ∩ exact_q| / |exact_q|``, in [0, 1]; 1 when
    the index returns the exact top-k (in any order). Padding (-1) is never
    a hit.
    """
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape[0] != exact.shape[0]:
        raise ValueError(f"{found.shape[0]} rows found, {exact.shape[0]} exact.")
    shares = [
        np.intersect1d(f[f >= 0], e[e >= 0]).size / max(1, int((e >= 0).sum()))
        for f, e in zip(found, exact, strict=True)
    ]
    return float(np.mean(shares))


def queries_per_second(index: VectorIndex, queries: Any, k: int = 10) -> float:
    """Throughput of ``index`` answering ``queries`` one at a time, one thread.

    One query per call, as a service answers one user per request (a batch
    would be faster per query), with BLAS and OpenMP limited to one thread
    so that numpy and faiss are compared on equal terms (a server runs one
    such search per core). Machine-dependent: print it only in cells whose
    output is not compared.
    """
    from threadpoolctl import threadpool_limits

    queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    with threadpool_limits(limits=1):
        start = time.perf_counter()
        for q in queries:
            index.search(q[None, :], k)
        elapsed = time.perf_counter() - start
    return len(queries) / elapsed


def tradeoff(
    exact: ExactIndex,
    indexes: Mapping[str, VectorIndex],
    queries: Any,
    k: int = 10,
    repeat: int = 3,
) -> pd.DataFrame:
    """Recall@k against the exact top-k, and queries/s, one row per index.

    Args:
        exact: The exact index over the same item vectors (the truth).
        indexes: Label -> index, e.g. one HNSW graph at several
            ``ef_search`` (:meth:`HNSWIndex.with_ef_search`).
        queries: (n_queries, d) user vectors.
        k: List length.
        repeat: Time each index this many times and keep the fastest (the
            least disturbed by other work on the machine).

    Returns:
        Indexed by label, ``"exact"`` first: ``recall@k`` (1 for exact) and
        ``qps`` (queries answered one at a time per second).
    """
    truth, _ = exact.search(queries, k)
    rows = {}
    for label, index in {"exact": exact, **indexes}.items():
        found, _ = index.search(queries, k)
        rows[label] = {
            f"recall@{k}": recall_vs_exact(found, truth),
            "qps": max(queries_per_second(index, queries, k) for _ in range(repeat)),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("index")


def clustered_vectors(
    n: int, dim: int = 64, n_clusters: int = 100, spread: float = 0.5, seed: int = 0
) -> np.ndarray:
    """Synthetic item (or user) vectors that gather in clusters, like learned ones.

    ``n`` unit vectors: a random unit centre per cluster (cluster sizes
    uneven, Zipf-like), plus Gaussian noise of standard deviation
    ``spread / sqrt(dim)`` per coordinate, normalised. Random unit vectors
    (no clusters) are the worst case of approximate search; learned item
    vectors cluster by category (lesson 05), and ANN does better on them.

    Returns:
        float32 array (n, dim).
    """
    check_int("clustered_vectors", "n", n)
    check_int("clustered_vectors", "dim", dim)
    check_int("clustered_vectors", "n_clusters", n_clusters)
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = 1.0 / np.arange(1, n_clusters + 1) ** 0.7
    cluster = rng.choice(n_clusters, size=n, p=weights / weights.sum())
    noise = rng.standard_normal((n, dim), dtype=np.float32) * float(spread / dim**0.5)
    vectors = centres[cluster] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


# ----------------------------------------------------------------- service
@dataclass(frozen=True)
class ServedModel:
    """Everything one request needs, built completely before it is served.

    Attributes:
        model: The fitted recommender.
        train: Its training data (ids, seen items).
        version: The label every answer carries.
        fallback: Popularity fitted on ``train``, for users without history.
        has_history: Per user row, True if the user has training items.
        max_n: The largest list a request may ask for.
    """

    model: Recommender
    train: Dataset
    version: str
    fallback: Popularity
    has_history: np.ndarray
    max_n: int


class ModelService:
    """The model a service answers with, swappable while it serves.

    A swap builds the new :class:`ServedModel` completely (checks, fallback
    fitted, an answer computed once as a smoke test) and only then replaces
    one reference. Assigning an attribute is atomic in Python, and each
    request reads :attr:`current` once and uses only that object, so a
    request sees the old model or the new one, never a mix and never a
    half-loaded one. Swaps are serialised by a lock.

    Args:
        model: A fitted course Recommender (e.g. ``models.ALS``,
            ``serving.Retriever``, ``models.Popularity``).
        train: The Dataset it was fitted on.
        version: A label returned with every answer.
        max_n: Upper bound of ``n`` (and at most the catalogue size).
    """

    def __init__(
        self, model: Recommender, train: Dataset, version: str = "1", max_n: int = 100
    ) -> None:
        self._lock = threading.Lock()
        self._current = _build_served(model, train, version, max_n)

    @property
    def current(self) -> ServedModel:
        """The model being served (read it once per request)."""
        return self._current

    def swap(
        self, model: Recommender, train: Dataset, version: str, max_n: int = 100
    ) -> ServedModel:
        """Serve ``model`` from now on; return what was served before.

        A failed build raises and leaves the old model in service.
        """
        with self._lock:
            new = _build_served(model, train, version, max_n)
            old, self._current = self._current, new
        return old


def _check_fitted_on(model: Recommender, train: Dataset) -> None:
    """Raise unless ``model`` is fitted, on ``train``'s users and items."""
    if not hasattr(model, "train_"):
        raise ValueError(f"{type(model).__name__} is not fitted: call fit(train).")
    if not (
        np.array_equal(model.train_.user_ids, train.user_ids)
        and np.array_equal(model.train_.item_ids, train.item_ids)
    ):
        raise ValueError("the model was fitted on another id space than train.")


def _build_served(
    model: Recommender, train: Dataset, version: str, max_n: int
) -> ServedModel:
    if not isinstance(model, Recommender):
        raise TypeError(f"model must be a course Recommender, got {model!r}.")
    if not isinstance(train, Dataset):
        raise TypeError(f"train must be a Dataset, got {type(train).__name__}.")
    _check_fitted_on(model, train)
    if not isinstance(version, str) or not version:
        raise ValueError(f"version must be a non-empty string, got {version!r}.")
    check_int("ModelService", "max_n", max_n)
    has_history = np.diff(model.user_items_.indptr) > 0
    fallback = Popularity().fit(train)
    warm = np.flatnonzero(has_history)[:1]
    if warm.size:  # answer once before serving: a broken model fails here
        model.top_k_rows(warm, 1)
    return ServedModel(
        model=model,
        train=train,
        version=version,
        fallback=fallback,
        has_history=has_history,
        max_n=min(max_n, train.n_items),
    )


_INT_ID = re.compile(r"-?[0-9]+")


def _parse_user_id(text: str, served: ServedModel) -> Any:
    """The path's text as the dataset's id type (the seed's '1' vs 1 bug).

    Returns the id, or raises ``ValueError`` when the dataset's ids are
    integers and ``text`` is not one.
    """
    if pd.api.types.is_integer_dtype(served.train.users["user_id"]):
        if not _INT_ID.fullmatch(text):
            raise ValueError(f"user ids of this dataset are integers, got {text!r}.")
        return int(text)
    return text


def recommend_for(served: ServedModel, user_text: str, n: int) -> tuple[int, dict]:
    """The service's answer to ``GET /recommend/{user_text}?n=n``.

    Returns ``(status_code, body)``: 200 with ``user_id``, ``items``,
    ``scores``, ``model_version``, ``served_by`` and ``fallback`` (None, or
    why the fallback answered); 404 for an unknown user; 422 for an id of
    the wrong type or ``n`` beyond ``max_n``. Usable without HTTP (tests).
    """
    try:
        user_id = _parse_user_id(user_text, served)
    except ValueError as error:
        return 422, {"detail": str(error)}
    if not 1 <= n <= served.max_n:
        return 422, {"detail": f"n must be between 1 and {served.max_n}, got {n}."}
    try:
        row = served.train.user_index([user_id])
    except KeyError:
        return 404, {"detail": f"unknown user {user_id!r}: not in this dataset."}
    model, fallback = served.model, None
    if not served.has_history[row[0]]:
        model = served.fallback
        fallback = "Popularity: the user has no purchase history yet"
    items, scores = model.top_k_rows(row, n)
    keep = items[0] >= 0
    body = {
        "user_id": user_id,
        "items": served.train.item_ids[items[0][keep]].tolist(),
        "scores": [float(s) for s in scores[0][keep]],
        "model_version": served.version,
        "served_by": type(model).__name__,
        "fallback": fallback,
    }
    return 200, body


def make_app(
    model: Recommender, train: Dataset, version: str = "1", max_n: int = 100
) -> Any:
    """A FastAPI app that serves ``model``'s recommendations.

    Endpoints:

    * ``GET /recommend/{user_id}?n=10``: the top-n unseen items as JSON
      (see :func:`recommend_for`); ``user_id`` is converted to the dataset's
      id type (``"1"`` becomes ``1`` when ids are integers); 404 for an
      unknown user, 422 for an ill-typed id or ``n`` not an integer in
      ``1..max_n``. A known user with no training history gets the most
      popular items (``Popularity``, the fallback) and the answer says so.
    * ``GET /health``: status, model version and sizes.

    ``app.state.service`` is the :class:`ModelService`: call
    ``app.state.service.swap(new_model, train, "2")`` to change models while
    serving (not exposed over HTTP: a swap is an operator's act).

    Args:
        model: A fitted course Recommender: lists come from its
            ``top_k_rows``, seen items excluded.
        train: The Dataset it was fitted on.
        version: Model version label.
        max_n: Largest ``n`` a request may ask for.
    """
    from fastapi import FastAPI, Query
    from fastapi.responses import JSONResponse

    service = ModelService(model, train, version, max_n)
    app = FastAPI(title="recsys-from-scratch", version=version)
    app.state.service = service

    @app.get("/recommend/{user_id}")
    def recommend(user_id: str, n: int = Query(10, ge=1, le=max_n)) -> JSONResponse:
        status, body = recommend_for(service.current, user_id, n)
        return JSONResponse(body, status_code=status)

    @app.get("/health")
    def health() -> dict[str, Any]:
        served = service.current
        return {
            "status": "ok",
            "model_version": served.version,
            "model": type(served.model).__name__,
            "users": served.train.n_users,
            "items": served.train.n_items,
        }

    return app


# ------------------------------------------------------- running the server
def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"host must be a loopback address such as 127.0.0.1, got {host!r}: "
            "the course's servers never listen beyond this machine."
        )


def _serve(server: Any) -> None:
    """Thread target: uvicorn exits by ``sys.exit`` when it cannot bind."""
    with contextlib.suppress(SystemExit):
        server.run()


@contextlib.contextmanager
def run_server(
    app: Any,
    host: str = "127.0.0.1",
    port: int | None = None,
    timeout: float = 10.0,
    threads: int | None = 1,
) -> Iterator[str]:
    """Run ``app`` with uvicorn in a background thread; always stop it.

    ``uvicorn.Config(port=...)`` binds the port itself (a socket handed in
    pre-bound without ``IPPROTO_TCP`` keeps Nagle's algorithm on and costs
    ~50 ms per request). On leaving the block, normally or by an error, the
    server is told to exit (``should_exit``) and its thread joined, which
    frees the port. Works in a Jupyter kernel: the server gets its own event
    loop in its own thread.

    While the server runs, BLAS and OpenMP are limited to ``threads``
    threads (process-wide, restored on exit): FastAPI answers requests
    concurrently in a thread pool, and a pool of BLAS threads per request
    only contends for the cores. Measured on a busy 2-core machine, the
    median ml-latest-small request to ALS took 56 ms with two BLAS threads
    and 2.5 ms with one (``benchmarks/serving_latency.py --dataset
    movielens-latest-small --threads 0`` against the default ``--threads 1``).

    Args:
        app: An ASGI app (e.g. from :func:`make_app`).
        host: A loopback address.
        port: A port, or None for a free one (retried if taken meanwhile).
        timeout: Seconds to wait for start-up and for shut-down.
        threads: BLAS/OpenMP threads while serving; None leaves them alone.

    Yields:
        The base URL, e.g. ``"http://127.0.0.1:54321"``.
    """
    from threadpoolctl import threadpool_limits

    _check_loopback(host)
    if threads is not None:
        check_int("run_server", "threads", threads)
    with threadpool_limits(limits=threads):
        yield from _serving(app, host, port, timeout)


def _serving(app: Any, host: str, port: int | None, timeout: float) -> Iterator[str]:
    """Start uvicorn in a thread, yield its URL, stop it (see run_server)."""
    import uvicorn

    attempts = 1 if port is not None else 3
    for attempt in range(attempts):
        chosen = port if port is not None else free_port(host)
        config = uvicorn.Config(
            app, host=host, port=chosen, log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=_serve, args=(server,), name="uvicorn", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if server.started:
            break
        server.should_exit = True
        thread.join(timeout)
        if attempt == attempts - 1:
            raise RuntimeError(f"the server did not start on {host}:{chosen}.")
    try:
        yield f"http://{host}:{chosen}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():  # pragma: no cover - uvicorn exits in ~0.2 s
            server.force_exit = True
            thread.join(timeout)


def measure_latency(
    base_url: str, paths: Sequence[str], n_requests: int = 200, warmup: int = 10
) -> pd.Series:
    """Latency of ``n_requests`` sequential GETs, cycling through ``paths``.

    One client (kept-alive connection), one request at a time: the time a
    user waits, not the server's capacity. Machine-dependent.

    Returns:
        ``p50_ms``, ``p99_ms``, ``mean_ms``, ``max_ms``, ``requests`` and
        ``errors`` (answers that were not 200).
    """
    import httpx

    check_int("measure_latency", "n_requests", n_requests)
    if not paths:
        raise ValueError("paths is empty.")
    times, errors = [], 0
    with httpx.Client(base_url=base_url, timeout=10.0, trust_env=False) as client:
        for i in range(warmup):
            client.get(paths[i % len(paths)])
        for i in range(n_requests):
            start = time.perf_counter()
            response = client.get(paths[i % len(paths)])
            times.append(time.perf_counter() - start)
            errors += response.status_code != 200
    ms = np.asarray(times) * 1000
    return pd.Series(
        {
            "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)),
            "mean_ms": float(ms.mean()),
            "max_ms": float(ms.max()),
            "requests": n_requests,
            "errors": errors,
        }
    )
