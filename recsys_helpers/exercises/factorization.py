"""Checks for the exercises of lesson ``03_matrix_factorization``.

Each ``check_*`` calls the learner's function on fresh random inputs, compares
the result with a reference computed here and prints what is wrong (or a hint
for an untouched stub). Every check returns a result that is truthy when the
answer passes.

    from recsys_helpers.exercises import factorization
    factorization.check_pure_svd_scores(pure_svd_scores)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = ["check_als_loss", "check_als_user_update", "check_pure_svd_scores"]


def _random_purchases(seed: int, n_users: int = 30, n_items: int = 20) -> sp.csr_matrix:
    """A random 0/1 users x items CSR matrix where every user bought something."""
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < 0.2).astype(np.float64)
    dense[np.arange(n_users), rng.integers(0, n_items, n_users)] = 1.0
    return sp.csr_matrix(dense)


def _dense(matrix: Any) -> np.ndarray:
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)


def _reference_user_update(
    user_items: sp.csr_matrix, y: np.ndarray, regularization: float, alpha: float
) -> np.ndarray:
    """x_u = (Y^T C^u Y + lambda I)^-1 Y^T C^u p(u), one user at a time."""
    dense = user_items.toarray()
    f = y.shape[1]
    x = np.empty((dense.shape[0], f))
    for u, row in enumerate(dense):
        confidence = 1.0 + alpha * row
        a = (y.T * confidence) @ y + regularization * np.eye(f)
        x[u] = np.linalg.solve(a, (y.T * confidence) @ (row > 0))
    return x


def check_pure_svd_scores(pure_svd_scores: Callable[..., Any]) -> CheckResult:
    """Exercise 1: PureSVD scores of every user.

    ``pure_svd_scores(user_items, k)`` gets a users x items 0/1 CSR matrix
    ``R`` and returns the dense (n_users, n_items) array ``R V_k V_k^T``, with
    ``V_k`` the top-k right singular vectors of the un-centred ``R``.
    """

    def test() -> None:
        for seed, k in ((0, 3), (1, 5)):
            matrix = _random_purchases(seed)
            dense = matrix.toarray()
            _, _, vt = np.linalg.svd(dense, full_matrices=False)
            expected = dense @ vt[:k].T @ vt[:k]
            got = np.asarray(_dense(pure_svd_scores(matrix, k)), dtype=np.float64)
            assert got.shape == expected.shape, (
                f"expected shape {expected.shape} (users x items), got {got.shape}."
            )
            centred = dense - dense.mean(axis=1, keepdims=True)
            _, _, vt_c = np.linalg.svd(centred, full_matrices=False)
            if np.allclose(got, centred @ vt_c[:k].T @ vt_c[:k], atol=1e-6):
                raise AssertionError("these are the scores of the mean-centred matrix.")
            assert np.allclose(got, expected, atol=1e-6), (
                f"with k={k} the scores differ from R V_k V_k^T (largest gap "
                f"{np.abs(got - expected).max():.3f}); are the k factors the "
                "LARGEST singular values (svds returns them in ascending order, "
                "which does not matter for V V^T) and is R left un-centred?"
            )

    return run_check(
        "Exercise 1 (PureSVD scores)",
        "scipy.sparse.linalg.svds gives the top-k factors of the matrix as it is "
        "(do not centre it); project each user's row onto the k item factors "
        "and back into item space, and return a dense array.",
        test,
    )


def check_als_user_update(als_user_update: Callable[..., Any]) -> CheckResult:
    """Exercise 2: the closed-form user update of implicit ALS.

    ``als_user_update(user_items, item_factors, regularization, alpha)``
    returns the (n_users, f) array whose row u solves
    ``(Y^T C^u Y + lambda I) x_u = Y^T C^u p(u)`` with
    ``c_ui = 1 + alpha r_ui`` and ``p_ui = 1[r_ui > 0]``.
    """

    def test() -> None:
        matrix = _random_purchases(2)
        rng = np.random.default_rng(3)
        y = rng.normal(scale=0.3, size=(matrix.shape[1], 4))
        for regularization, alpha in ((0.5, 5.0), (2.0, 20.0)):
            expected = _reference_user_update(matrix, y, regularization, alpha)
            got = np.asarray(
                _dense(als_user_update(matrix, y, regularization, alpha)),
                dtype=np.float64,
            )
            assert got.shape == expected.shape, (
                f"expected shape {expected.shape} (users x factors), got {got.shape}."
            )
            plain = _reference_user_update(matrix, y, regularization, 0.0)
            if not np.allclose(expected, plain) and np.allclose(got, plain, atol=1e-6):
                raise AssertionError("alpha has no effect: the confidence is missing.")
            assert np.allclose(got, expected, atol=1e-6), (
                f"with regularization={regularization}, alpha={alpha} the user "
                f"vectors differ (largest gap {np.abs(got - expected).max():.3g})."
            )

    return run_check(
        "Exercise 2 (ALS user update)",
        "one user at a time is fine: every item gets a confidence (1 + alpha "
        "r_ui) and a 0/1 preference; weigh the rows of Y by the confidences to "
        "build the f x f system of the closed form and its right-hand side, "
        "then solve it (np.linalg.solve) rather than inverting.",
        test,
    )


def check_als_loss(als_loss: Callable[..., Any]) -> CheckResult:
    """Exercise 3: the implicit-ALS loss, without a dense users x items matrix.

    ``als_loss(user_items, x, y, regularization, alpha)`` returns
    ``sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + lambda (|X|^2 + |Y|^2)`` as a float.
    (A dense ``X @ Y.T`` works here but not on a real catalogue: aim for the
    ``O(nnz f + n f^2)`` version of the hint.)
    """

    def test() -> None:
        matrix = _random_purchases(4)
        rng = np.random.default_rng(5)
        x = rng.normal(scale=0.3, size=(matrix.shape[0], 3))
        y = rng.normal(scale=0.3, size=(matrix.shape[1], 3))
        dense = matrix.toarray()
        for regularization, alpha in ((0.1, 10.0), (3.0, 1.0)):
            c = 1.0 + alpha * dense
            expected = np.sum(c * ((dense > 0) - x @ y.T) ** 2) + regularization * (
                np.sum(x**2) + np.sum(y**2)
            )
            got = float(als_loss(matrix, x, y, regularization, alpha))
            assert np.isclose(got, expected, rtol=1e-8), (
                f"with regularization={regularization}, alpha={alpha} expected "
                f"{expected:.4f}, got {got:.4f}."
            )

    return run_check(
        "Exercise 3 (ALS loss)",
        "split the sum: first every cell as if its target were 0 with "
        "confidence 1 (the two f x f Gram matrices X^T X and Y^T Y give that "
        "without any users x items matrix), then correct only the bought cells, "
        "where the target is 1 and the confidence 1 + alpha r_ui.",
        test,
    )
