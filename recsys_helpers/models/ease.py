r"""EASE: the item-item neighbourhood *learned* in closed form (Steck 2019).

ItemKNN scores an item by summing fixed cosine similarities to what the user
bought. EASE ("Embarrassingly Shallow AutoEncoder", Steck, WWW 2019) learns
those item-item weights instead: the weights ``B`` that best reconstruct
every user's row from the *other* items of that row.

The default regularisation was chosen by ``benchmarks/tune_ease.py`` on
validation splits carved from the training data (``split.by_time(train,
0.2)`` of ``split.by_time(ds, 0.2)``), never on test.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender
from recsys_helpers.models.params import check_choice, check_number

__all__ = ["EASE", "ease_weights"]

# Cells of one dense block of X while building the Gram matrix X^T X
# (float32: 4M cells = 16 MB).
_BLOCK_CELLS = 4_000_000
# Rows per block when mirroring the upper triangle into the lower one.
_MIRROR_ROWS = 512


def _gram(user_items: sp.csr_matrix, dtype: type) -> np.ndarray:
    """``X^T X`` as a dense (n_items, n_items) array, one block of columns at a time.

    Column block ``c`` is ``X^T X[:, c]``: a sparse matrix times a dense block,
    ``O(nnz(X) |c|)`` work, written straight into the result. Both the dense
    block of ``X`` (n_users x |c|) and the product (n_items x |c|) hold at
    most ``_BLOCK_CELLS`` cells, so the only large array is the result itself.
    """
    n_users, n_items = user_items.shape
    by_item = sp.csc_matrix(user_items, dtype=dtype)
    transposed = by_item.T.tocsr()  # (n_items, n_users)
    gram = np.empty((n_items, n_items), dtype=dtype)
    block = max(1, _BLOCK_CELLS // max(1, n_users, n_items))
    for start in range(0, n_items, block):
        stop = min(n_items, start + block)
        gram[:, start:stop] = transposed @ by_item[:, start:stop].toarray()
    return gram


def _mirror_lower(matrix: np.ndarray) -> None:
    """Copy the lower triangle of a square C-ordered array into its upper one.

    In place, in blocks of rows, so the temporary copies stay small.
    """
    n = matrix.shape[0]
    for start in range(0, n, _MIRROR_ROWS):
        stop = min(n, start + _MIRROR_ROWS)
        # row r, column c > r of the upper part = row c, column r of the lower
        block = matrix[start:, start:stop].T.copy()  # (stop-start, n-start)
        rows = np.arange(start, stop)[:, None]
        upper = np.arange(start, n)[None, :] > rows
        target = matrix[start:stop, start:]
        target[upper] = block[upper]


def ease_weights(
    user_items: sp.spmatrix, regularization: float, dtype: type = np.float32
) -> np.ndarray:
    r"""The EASE weight matrix ``B`` of a binary users x items matrix ``X``.

    .. math::

        P = (X^T X + \lambda I)^{-1}, \qquad
        B_{ij} = -\frac{P_{ij}}{P_{jj}} \;(i \ne j), \qquad B_{jj} = 0

    ``P`` is computed by a Cholesky factorisation and inversion *in place*
    (LAPACK ``potrf``, then ``potri``'s two steps ``trtri`` and ``lauum``),
    so the peak memory is one ``n_items x n_items`` array plus small blocks.

    Args:
        user_items: Binary (n_users, n_items) matrix (CSR or anything
            scipy.sparse converts).
        regularization: ``lambda`` > 0 (makes ``X^T X + lambda I`` positive
            definite).
        dtype: ``np.float32`` (default; half the memory) or ``np.float64``.

    Returns:
        ``B``, shape (n_items, n_items), zero diagonal.

    Raises:
        ValueError: If ``regularization`` is not a finite number > 0.
        numpy.linalg.LinAlgError: If the factorisation fails (cannot happen
            in exact arithmetic for lambda > 0; in float32 only for a lambda
            tiny next to the item counts).
    """
    check_number("EASE", "regularization", regularization, strict=True)
    matrix = _gram(sp.csr_matrix(user_items), dtype)
    matrix[np.diag_indices_from(matrix)] += dtype(regularization)
    potrf, trtri, lauum = scipy.linalg.lapack.get_lapack_funcs(
        ("potrf", "trtri", "lauum"), (matrix,)
    )
    # LAPACK works on Fortran order; the transpose of a C-ordered symmetric
    # array is that array in Fortran order, so no copy is made.
    fortran = matrix.T
    factor, info = potrf(fortran, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(
            f"EASE: X^T X + lambda I is not positive definite (LAPACK info {info});"
            " increase regularization."
        )
    # potri in two steps (U^-1, then U^-1 U^-T), each in place: the same
    # result, and OpenBLAS's own trtri and lauum ran faster here than potri
    inverse, info = trtri(factor, lower=False, overwrite_c=True)
    if info == 0:
        inverse, info = lauum(inverse, lower=False, overwrite_c=True)
    if info != 0:  # pragma: no cover - potrf succeeded, so U is invertible
        raise np.linalg.LinAlgError(f"EASE: inversion failed (LAPACK info {info}).")
    # Fortran's upper triangle is the lower triangle of the C-ordered array
    if not np.shares_memory(inverse, matrix):  # pragma: no cover - LAPACK copied
        matrix = np.ascontiguousarray(inverse.T)
    _mirror_lower(matrix)
    diagonal = matrix.diagonal().copy()
    matrix /= -diagonal[None, :]
    matrix[np.diag_indices_from(matrix)] = 0.0
    return matrix


class EASE(Recommender):
    r"""Embarrassingly Shallow AutoEncoder: learned item-item weights.

    Model (Steck 2019): with ``X`` the binary users x items training matrix,
    the item-item weights ``B`` minimise

    .. math::

        \|X - X B\|_F^2 + \lambda \|B\|_F^2 \quad
        \text{subject to } \operatorname{diag}(B) = 0

    (the constraint forbids the trivial ``B = I``: each item is predicted
    from the *other* items). With Lagrange multipliers for the constraint the
    solution is closed form:

    .. math::

        P = (X^T X + \lambda I)^{-1}, \qquad
        B = I - P \operatorname{diag}(1 / \operatorname{diag}(P))

    i.e. ``B_ij = -P_ij / P_jj`` off the diagonal and ``B_jj = 0``. The score
    of user ``u`` is ``x_u B`` (unbounded reals, mostly in [-0.5, 1.5]; only
    their order matters). Unlike cosine ItemKNN the weights can be negative
    ("bought i, so probably not j") and they account for the other items a
    user bought (a regression, not pairwise co-occurrences).

    Cost: building ``X^T X`` is ``O(n_users n_items^2)`` at worst, the
    inverse ``O(n_items^3)`` time, and ``B`` is a dense ``n_items^2`` array:
    9,742 items (ml-latest-small) take 380 MB in float32 and a fit of about
    5 s on 2 cores (9 s of CPU time) with a peak of 0.8 GB for the whole
    process (``benchmarks/tune_ease.py --timing``); 100,000 items would take
    40 GB and hours. That is where EASE stops
    scaling (it does not depend on the number of users beyond ``X^T X``).

    Args:
        regularization: ``lambda`` > 0, the L2 penalty on ``B``. The default,
            200, was chosen by ``benchmarks/tune_ease.py`` on validation
            splits carved from the training data of ``shop`` and
            ml-latest-small (one value for both, ranked by nDCG@10 relative
            to each dataset's best: best on ml-latest-small, 0.1353, and 1%
            below the best on ``shop``, 0.1462 against 0.1477 at 100; the
            grid 10-3000 spanned 0.119-0.135 and 0.124-0.148).
        dtype: ``"float32"`` (default: half the memory, same ranking) or
            ``"float64"``.

    Attributes:
        weights_: ``B``, shape (n_items, n_items), zero diagonal.
    """

    def __init__(self, regularization: float = 200.0, dtype: str = "float32") -> None:
        self.regularization = regularization
        self.dtype = dtype

    def _fit(self, train: Dataset) -> None:
        check_number("EASE", "regularization", self.regularization, strict=True)
        check_choice("EASE", "dtype", self.dtype, ("float32", "float64"))
        dtype = np.float32 if self.dtype == "float32" else np.float64
        self.weights_ = ease_weights(self.user_items_, self.regularization, dtype)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        user_rows = self.user_items_[rows].astype(self.weights_.dtype)
        return np.asarray(user_rows @ self.weights_)
