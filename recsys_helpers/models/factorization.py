r"""Matrix factorisation for implicit feedback: PureSVD and ALS.

Both models learn ``f``-dimensional item vectors from the binary users x items
purchase matrix ``R`` of the training data and score items by dot products.

* :class:`PureSVD` (Cremonesi, Koren and Turrin 2010): a truncated SVD of the
  un-centred matrix, ``R ~ U S V^T``; a user is scored by projecting their row
  onto the item space, ``score = r_u V V^T``.
* :class:`ALS` (Hu, Koren and Volinsky 2008): weighted least squares with a
  confidence per cell, solved by alternating closed-form updates; the fast
  default solver runs a few conjugate-gradient steps per user (Takacs, Pilaszy
  and Tikk 2011), batched over all users with numpy and scipy.sparse.

Hyper-parameter defaults were chosen by ``benchmarks/tune_als.py`` on a
validation split carved from the training data
(``split.by_time(train, 0.2)`` after ``split.by_time(ds, 0.2)``), never on
test.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender
from recsys_helpers.models.params import check_choice, check_int, check_number
from recsys_helpers.progress import progress

__all__ = ["ALS", "PureSVD"]

# rows with at least this many non-zeros take one BLAS matrix-vector product
# each in the CG update; blocks of about _BLOCK_NNZ non-zeros keep the
# gathered vectors in cache (both measured on ml-latest-small, f = 128)
_HEAVY_ROW = 32
_BLOCK_NNZ = 8192


class PureSVD(Recommender):
    r"""Top-k recommendation from a truncated SVD of the purchase matrix.

    Model: the binary users x items matrix ``R`` (1 = bought in train, 0 =
    not), *not* mean-centred, is approximated by its rank-``f`` truncated SVD

    .. math::

        R \approx U_f \Sigma_f V_f^T

    and user ``u`` is scored by the projection of their row onto the top
    ``f`` item directions (Cremonesi et al. 2010):

    .. math::

        \hat{r}_{u} = r_u V_f V_f^T = (U_f \Sigma_f V_f^T)_{u}

    Loss: the truncated SVD minimises the squared error over *all* cells,
    missing ones counted as 0, :math:`\|R - \hat{R}\|_F^2` subject to
    :math:`rank(\hat{R}) \le f` (Eckart-Young); there is no regularisation
    term: the rank ``f`` is the only knob. Scores are unbounded reals (mostly
    in [-1, 2] on 0/1 data); only their order matters.

    Args:
        factors: Rank ``f`` of the truncation, >= 1 (reduced to
            ``min(n_users, n_items) - 1`` when the matrix is smaller).
            The default, 16, was the best on validation splits carved from
            the training data of both ``shop`` and ml-latest-small
            (``benchmarks/tune_als.py``; 8 and 32 lose 5-8%, 128 loses half).
        random_state: Seed of ARPACK's starting vector (the SVD itself is
            unique up to signs, which cancel in ``V V^T``).

    Attributes:
        item_factors_: ``V_f``, shape (n_items, f), orthonormal columns.
        singular_values_: ``diag(Sigma_f)``, descending.
    """

    def __init__(self, factors: int = 16, random_state: int = 0) -> None:
        self.factors = factors
        self.random_state = random_state

    def _fit(self, train: Dataset) -> None:
        check_int("PureSVD", "factors", self.factors)
        check_int("PureSVD", "random_state", self.random_state, minimum=0)
        matrix = self.user_items_
        k = min(self.factors, min(matrix.shape) - 1)
        if k < 1:
            raise ValueError(
                "PureSVD needs at least 2 users and 2 items, got "
                f"{matrix.shape[0]} user(s) and {matrix.shape[1]} item(s)"
            )
        rng = np.random.default_rng(self.random_state)
        v0 = rng.uniform(-1.0, 1.0, size=min(matrix.shape))
        _, sigma, vt = svds(matrix, k=k, v0=v0)
        order = np.argsort(-sigma)
        self.singular_values_ = sigma[order]
        self.item_factors_ = np.ascontiguousarray(vt[order].T)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        projected = self.user_items_[rows] @ self.item_factors_
        return projected @ self.item_factors_.T


class ALS(Recommender):
    r"""Implicit-feedback matrix factorisation by alternating least squares.

    Model (Hu, Koren and Volinsky 2008): with ``r_ui`` = 1 for a training
    purchase and 0 otherwise, every cell of the users x items matrix gets a
    preference and a confidence

    .. math::

        p_{ui} = 1[r_{ui} > 0], \qquad c_{ui} = 1 + \alpha r_{ui}

    and user vectors ``x_u`` and item vectors ``y_i`` (``f`` numbers each)
    minimise

    .. math::

        L = \sum_{u,i} c_{ui} (p_{ui} - x_u^T y_i)^2
            + \lambda \Big(\sum_u \|x_u\|^2 + \sum_i \|y_i\|^2\Big)

    over *all* cells, the unbought ones with confidence 1 and target 0. The
    score is :math:`\hat{p}_{ui} = x_u^T y_i` (unbounded, mostly in [0, 1]).

    Update rule: with ``Y`` fixed, ``L`` is quadratic in each ``x_u``, so

    .. math::

        x_u = (Y^T C^u Y + \lambda I)^{-1} Y^T C^u p(u),
        \quad Y^T C^u Y = Y^T Y + Y^T (C^u - I) Y

    where ``C^u = diag(c_u)``. ``Y^T Y`` is shared by all users and
    ``C^u - I`` is non-zero only on the user's ``n_u`` purchases, so building
    the system costs ``O(n_u f^2)`` instead of ``O(n_items f^2)``. The item
    update is the same with users and items swapped. One iteration updates
    all users, then all items; ``L`` never increases with ``solver="exact"``.

    Solvers:

    * ``"cg"`` (default, fast): ``cg_steps`` steps of conjugate gradient on
      each system, warm-started from the previous iteration's vector
      (Takacs et al. 2011, as in the ``implicit`` library). The products
      ``A_u v_u`` of all users are computed together: ``V (Y^T Y + \lambda I)``
      plus one sparse matrix product for the ``(C^u - I)`` part, so there is
      no Python loop over users: the rows are taken in blocks of about 8,192
      non-zeros, which keeps each block's data in the processor's cache
      (this made the update twice as fast on ml-latest-small; see
      ``benchmarks/als_vs_implicit.py``). Cost per iteration
      ``O(nnz f + n f^2)``.
    * ``"exact"``: the closed form above, the stacked ``(n, f, f)`` systems
      built vectorised in chunks of bounded memory and solved by
      ``np.linalg.solve``. Cost ``O(nnz f^2 + n f^3)`` and a table of
      ``n_items f^2`` floats; the lesson's own code reproduces it exactly.

    Both solvers start from the same seeded factors,
    ``rng = np.random.default_rng(random_state)``, then
    ``X = 0.01 * rng.standard_normal((n_users, f))`` and
    ``Y = 0.01 * rng.standard_normal((n_items, f))``. ``"exact"`` computes in
    float64; ``"cg"`` in float32 (like ``implicit``: half the memory traffic).

    Confidence convention: the ``implicit`` library (0.7) uses ``c_ui =
    alpha_implicit * r_ui`` on the non-zeros, i.e. ``alpha_implicit = 1 +
    alpha`` here for 0/1 data (see ``benchmarks/als_vs_implicit.py``).

    Args:
        factors: Vector length ``f`` >= 1.
        regularization: ``lambda`` >= 0, the L2 penalty (not scaled by counts).
        alpha: Confidence slope ``alpha`` >= 0 (0 gives plain weighted-free
            least squares on the 0/1 matrix).
        iterations: Alternations (users then items), >= 1.
        solver: ``"cg"`` or ``"exact"``.
        cg_steps: Conjugate-gradient steps per update (``solver="cg"``).
        track_loss: Compute ``L`` after every iteration into ``loss_``
            (costs about one extra CG step per iteration).
        random_state: Seed of the initial factors.

    Defaults (factors=128, regularization=10, alpha=1, iterations=10) were
    chosen by ``benchmarks/tune_als.py`` on validation splits carved from the
    training data of ``shop`` and ml-latest-small: one setting for both,
    ranked by nDCG@10 relative to each dataset's best (the grid spanned
    0.087-0.124 nDCG@10 on ml-latest-small and 0.084-0.204 on ``shop``).
    25 iterations scored 0.5% higher than 10 (within noise) at 2.5 times
    the cost, so 10 is the default.

    Attributes:
        user_factors_: ``X``, shape (n_users, f).
        item_factors_: ``Y``, shape (n_items, f).
        loss_: ``L`` after each iteration, shape (iterations,); empty unless
            ``track_loss``.
    """

    def __init__(
        self,
        factors: int = 128,
        regularization: float = 10.0,
        alpha: float = 1.0,
        iterations: int = 10,
        solver: str = "cg",
        cg_steps: int = 3,
        track_loss: bool = False,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.solver = solver
        self.cg_steps = cg_steps
        self.track_loss = track_loss
        self.random_state = random_state

    def _check_params(self) -> None:
        check_int("ALS", "factors", self.factors)
        check_number("ALS", "regularization", self.regularization)
        check_number("ALS", "alpha", self.alpha)
        check_int("ALS", "iterations", self.iterations)
        check_choice("ALS", "solver", self.solver, ("cg", "exact"))
        check_int("ALS", "cg_steps", self.cg_steps)
        check_choice("ALS", "track_loss", self.track_loss, (True, False))
        check_int("ALS", "random_state", self.random_state, minimum=0)

    def _fit(self, train: Dataset) -> None:
        self._check_params()
        user_items = self.user_items_.astype(np.float64)
        # C - I on the non-zeros: alpha * r_ui (r_ui = 1 here)
        cui = sp.csr_matrix(
            (self.alpha * user_items.data, user_items.indices, user_items.indptr),
            shape=user_items.shape,
        )
        ciu = cui.T.tocsr()
        ciu.sort_indices()
        dtype = np.float32 if self.solver == "cg" else np.float64
        users, items = _Side(cui, dtype), _Side(ciu, dtype)
        rng = np.random.default_rng(self.random_state)
        f = self.factors
        x = (0.01 * rng.standard_normal((user_items.shape[0], f))).astype(dtype)
        y = (0.01 * rng.standard_normal((user_items.shape[1], f))).astype(dtype)
        update = _cg_update if self.solver == "cg" else _exact_update
        losses = []
        steps = progress(range(self.iterations), desc="ALS", total=self.iterations)
        with _one_blas_thread():
            for _ in steps:
                x = update(users, y, x, self.regularization, self.cg_steps)
                y = update(items, x, y, self.regularization, self.cg_steps)
                if self.track_loss:
                    losses.append(als_loss(cui, x, y, self.regularization))
        self.user_factors_ = x
        self.item_factors_ = y
        self.loss_ = np.asarray(losses)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[rows] @ self.item_factors_.T


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """Limit BLAS to one thread while training.

    The products here are small (n x f times f x f); on a busy 2-core machine
    OpenBLAS threads contend and training ran 2.5x slower with two threads
    than with one. threadpoolctl comes with scikit-learn; without it, no-op.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def als_loss(
    cui: sp.csr_matrix, x: np.ndarray, y: np.ndarray, regularization: float
) -> float:
    r"""The implicit-ALS loss ``L`` without visiting every cell.

    .. math::

        L = \sum_{u,i} s_{ui}^2 + \sum_{(u,i) \in R}
            \big[c_{ui}(1 - s_{ui})^2 - s_{ui}^2\big]
            + \lambda (\|X\|_F^2 + \|Y\|_F^2)

    with ``s = X Y^T``; the first sum is ``sum((X^T X) * (Y^T Y))``, so the
    cost is ``O(nnz f + (n_users + n_items) f^2)``.

    Args:
        cui: ``C - I`` on the non-zeros (``alpha * r_ui``), users x items CSR.
        x: User factors (n_users, f).
        y: Item factors (n_items, f).
        regularization: ``lambda``.

    Returns:
        ``L`` as a float (>= 0).
    """
    x_nz = np.repeat(x, np.diff(cui.indptr), axis=0)
    s = np.einsum("nf,nf->n", x_nz, y[cui.indices]).astype(np.float64)
    conf = 1.0 + cui.data
    everything = float(np.sum((x.T @ x) * (y.T @ y)))
    observed = float(np.sum(conf * (1.0 - s) ** 2 - s**2))
    penalty = regularization * float(np.sum(x * x) + np.sum(y * y))
    return everything + observed + penalty


class _Side:
    """One side's sparse structure, built once per fit (rows = users or items).

    Every row's system is independent, so the conjugate-gradient update runs
    block by block: rows grouped so that a block holds about
    :data:`_BLOCK_NNZ` non-zeros, its gathered vectors (``nnz x f`` floats)
    stay in the processor's cache and memory stays bounded however large the
    matrix. Rows with at least :data:`_HEAVY_ROW` non-zeros are grouped apart
    and take one matrix-vector product each (one BLAS call per row beats
    copying the row's vector ``n_u`` times); the other rows are done all at
    once per block with ``np.repeat``.

    Attributes:
        cui: ``C - I`` on the non-zeros (``alpha * r``), CSR.
        blocks: The row blocks, heavy rows first (see :class:`_Block`),
            built on first use.
        max_nnz: The largest block's number of non-zeros.
    """

    def __init__(self, cui: sp.csr_matrix, dtype: type) -> None:
        self.cui = cui
        self.dtype = dtype

    @functools.cached_property
    def blocks(self) -> list[_Block]:
        """Built on first use: only the CG solver needs them, not ``"exact"``."""
        counts = np.diff(self.cui.indptr)
        heavy = counts >= _HEAVY_ROW
        return [
            _Block(self.cui, rows, self.dtype, per_row=per_row)
            for per_row, mask in ((True, heavy), (False, ~heavy))
            for rows in _split_by_nnz(np.flatnonzero(mask), counts, _BLOCK_NNZ)
        ]

    @functools.cached_property
    def max_nnz(self) -> int:
        return max((block.nnz for block in self.blocks), default=0)


class _Block:
    """A block of rows of one side: their ``C - I`` and what CG needs of it.

    ``scatter`` has the block's sparsity pattern; its data is overwritten to
    compute weighted sums of the other side's vectors, ``sum_i w_ui y_i``.
    """

    def __init__(
        self, cui: sp.csr_matrix, rows: np.ndarray, dtype: type, per_row: bool
    ) -> None:
        part = cui[rows]
        self.rows = rows
        self.per_row = per_row
        self.indptr = part.indptr
        self.indices = part.indices
        self.counts = np.diff(part.indptr)
        self.nnz = part.nnz
        self.weight = part.data.astype(dtype)  # c_ui - 1 on the non-zeros
        self.confidence = 1.0 + self.weight  # c_ui on the non-zeros
        self.scatter = sp.csr_matrix(
            (self.confidence.copy(), part.indices, part.indptr), shape=part.shape
        )

    def dots(self, v: np.ndarray, y_nz: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out[n] = v[row(n)] . y_nz[n]`` for each of the block's non-zeros."""
        if self.per_row:
            for row, (start, stop) in enumerate(
                zip(self.indptr[:-1], self.indptr[1:], strict=True)
            ):
                np.matmul(y_nz[start:stop], v[row], out=out[start:stop])
            return out
        repeated = np.repeat(v, self.counts, axis=0)
        return np.einsum("nf,nf->n", repeated, y_nz, out=out)


def _split_by_nnz(rows: np.ndarray, counts: np.ndarray, limit: int) -> list[np.ndarray]:
    """Consecutive groups of ``rows`` holding about ``limit`` non-zeros each."""
    if len(rows) == 0:
        return []
    group = np.cumsum(counts[rows]) // limit
    starts = np.flatnonzero(np.diff(group)) + 1
    return np.split(rows, starts)


def _cg_update(
    side: _Side,
    y: np.ndarray,
    x: np.ndarray,
    regularization: float,
    cg_steps: int,
) -> np.ndarray:
    """A few conjugate-gradient steps on every row's system, block by block.

    Solves ``A_u x_u = b_u`` with ``A_u = Y^T Y + lambda I + Y^T (C^u - I) Y``
    and ``b_u = Y^T C^u p(u) = sum_{i in R(u)} (1 + alpha r_ui) y_i``, warm
    started at ``x``. Within a block, ``A_u v_u`` for all rows is
    ``V (Y^T Y + lambda I)`` plus a sparse product: no loop over rows (but
    the heavy rows' dot products, see :class:`_Side`).
    """
    gram = y.T @ y + regularization * np.eye(y.shape[1], dtype=y.dtype)
    gathered = np.empty((side.max_nnz, y.shape[1]), dtype=y.dtype)
    out = np.empty_like(x)
    for block in side.blocks:
        # mode="clip" lets take write into the buffer without a copy; the
        # indices are valid by construction, so nothing is clipped
        y_nz = np.take(y, block.indices, axis=0, out=gathered[: block.nnz], mode="clip")
        out[block.rows] = _cg_block(block, y, y_nz, x[block.rows], gram, cg_steps)
    return out


def _cg_block(
    block: _Block,
    y: np.ndarray,
    y_nz: np.ndarray,
    x: np.ndarray,
    gram: np.ndarray,
    cg_steps: int,
) -> np.ndarray:
    """Conjugate gradient on one block's rows; ``x`` is the block's start."""
    scatter = block.scatter
    dots = np.empty(block.nnz, dtype=y.dtype)

    def apply(v: np.ndarray) -> np.ndarray:
        block.dots(v, y_nz, out=dots)
        np.multiply(block.weight, dots, out=scatter.data)
        product = scatter @ y
        product += v @ gram
        return product

    scatter.data[:] = block.confidence
    r = scatter @ y  # b
    r -= apply(x)
    p = r.copy()
    rs_old = np.einsum("uf,uf->u", r, r)
    for _ in range(cg_steps):
        ap = apply(p)
        p_ap = np.einsum("uf,uf->u", p, ap)
        step = np.divide(rs_old, p_ap, out=np.zeros_like(rs_old), where=p_ap > 0)
        x += step[:, None] * p
        r -= np.multiply(step[:, None], ap, out=ap)
        rs_new = np.einsum("uf,uf->u", r, r)
        beta = np.divide(rs_new, rs_old, out=np.zeros_like(rs_new), where=rs_old > 0)
        p *= beta[:, None]
        p += r
        rs_old = rs_new
    return x


def _exact_update(
    side: _Side,
    y: np.ndarray,
    x: np.ndarray,
    regularization: float,
    cg_steps: int,
    max_block: int = 2**23,
) -> np.ndarray:
    """Solve every row's system exactly, in row chunks of ~max_block floats.

    ``A = Y^T Y + lambda I + (C - I) Z`` with ``Z`` the (n_other, f*f) table
    of outer products ``y_i y_i^T``: one sparse-dense product builds the
    systems of a whole chunk of rows. ``x`` and ``cg_steps`` are unused (same
    signature as :func:`_cg_update`).
    """
    cui = side.cui
    n_rows, f = cui.shape[0], y.shape[1]
    gram = y.T @ y + regularization * np.eye(f)
    outer = (y[:, :, None] * y[:, None, :]).reshape(y.shape[0], f * f)
    confidence = cui.copy()
    confidence.data = 1.0 + confidence.data
    b = confidence @ y  # Y^T C^u p(u), all rows
    out = np.empty((n_rows, f))
    chunk = max(1, max_block // (f * f))
    for start in range(0, n_rows, chunk):
        stop = min(n_rows, start + chunk)
        a = (cui[start:stop] @ outer).reshape(-1, f, f) + gram
        out[start:stop] = np.linalg.solve(a, b[start:stop, :, None])[:, :, 0]
    return out
