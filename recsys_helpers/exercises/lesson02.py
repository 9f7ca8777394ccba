"""Checks for the exercises of lesson 02, collaborative filtering.

Each ``check_*`` calls the learner's function on small inputs and compares it
with the definition, computed here from sets of items (a different route from
the matrix code a learner writes, so a shared mistake cannot pass).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recsys_helpers.exercises._core import run_check

__all__ = [
    "check_cosine_with_shrinkage",
    "check_jaccard",
    "check_keep_top_k",
    "check_rank_unseen",
]

# The seed's toy shop as a users x items 0/1 matrix (users 1-5, products 1-5).
TOY = np.array(
    [
        [1, 1, 1, 0, 0],
        [0, 1, 0, 1, 0],
        [1, 1, 0, 0, 0],
        [0, 0, 1, 1, 0],
        [0, 0, 0, 0, 1],
    ],
    dtype=np.float64,
)


def _random_binary(seed: int, shape: tuple[int, int] = (12, 9)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = (rng.random(shape) < 0.35).astype(np.float64)
    matrix[0] = 0.0  # a row with no 1s: its similarities must be 0, not NaN
    return matrix


def _sets(matrix: np.ndarray) -> list[set[int]]:
    return [set(np.flatnonzero(row).tolist()) for row in matrix]


def _pairwise(matrix: np.ndarray, formula: Callable[[set, set], float]) -> np.ndarray:
    rows = _sets(matrix)
    result = np.zeros((len(rows), len(rows)))
    for a, set_a in enumerate(rows):
        for b, set_b in enumerate(rows):
            if a != b:
                result[a, b] = formula(set_a, set_b)
    return result


def _cosine(shrinkage: float) -> Callable[[set, set], float]:
    def formula(set_a: set, set_b: set) -> float:
        denominator = np.sqrt(len(set_a) * len(set_b)) + shrinkage
        return len(set_a & set_b) / denominator if denominator > 0 else 0.0

    return formula


def _jaccard(set_a: set, set_b: set) -> float:
    union = len(set_a | set_b)
    return len(set_a & set_b) / union if union else 0.0


def _as_array(value: object, shape: tuple[int, ...], what: str) -> np.ndarray:
    result = np.asarray(value.toarray() if hasattr(value, "toarray") else value)
    assert result.shape == shape, f"{what} has shape {result.shape}, expected {shape}."
    assert np.issubdtype(result.dtype, np.number), f"{what} must hold numbers."
    assert np.isfinite(result).all(), f"{what} holds NaN or inf (a row with no 1s?)."
    return result.astype(np.float64)


def check_cosine_with_shrinkage(
    cosine_with_shrinkage: Callable[[np.ndarray, float], np.ndarray],
) -> bool:
    """Exercise 1: row-row cosine similarity with shrinkage, diagonal 0.

    ``cosine_with_shrinkage(X, s)`` takes a 0/1 matrix X (rows = users, or
    items if you pass X.T) and returns the (n_rows, n_rows) matrix with
    sim(a, b) = |a ∩ b| / (sqrt(|a| |b|) + s) off the diagonal and 0 on it.
    """

    def test() -> None:
        cases = [(TOY, 0.0), (TOY, 1.0), (_random_binary(1), 0.0)]
        cases.append((_random_binary(2), 3.0))
        for matrix, shrinkage in cases:
            before = matrix.copy()
            got = _as_array(
                cosine_with_shrinkage(matrix.copy(), shrinkage),
                (matrix.shape[0], matrix.shape[0]),
                "the similarity matrix",
            )
            expected = _pairwise(matrix, _cosine(shrinkage))
            assert np.allclose(np.diag(got), 0), "the diagonal must be 0."
            assert np.array_equal(matrix, before), "do not modify X."
            if not np.allclose(got, expected, atol=1e-9):
                a, b = np.unravel_index(np.abs(got - expected).argmax(), got.shape)
                raise AssertionError(
                    f"with s={shrinkage}, sim({a}, {b}) should be "
                    f"{expected[a, b]:.3f}, got {got[a, b]:.3f}."
                )

    return run_check(
        "Exercise 1 (cosine with shrinkage)",
        "the overlaps are X @ X.T and the counts X.sum(axis=1); divide by "
        "np.sqrt(np.outer(counts, counts)) + s where that is positive, then "
        "set the diagonal to 0 with np.fill_diagonal.",
        test,
    )


def check_keep_top_k(keep_top_k: Callable[[np.ndarray, int], np.ndarray]) -> bool:
    """Exercise 2: keep each row's k largest positive similarities, zero the rest.

    ``keep_top_k(sim, k)`` returns a new array shaped like ``sim``.
    """

    def test() -> None:
        rng = np.random.default_rng(3)
        sim = rng.random((7, 10))
        sim[rng.random(sim.shape) < 0.3] = 0.0
        sim[2] = 0.0
        sim[2, [4, 8]] = [0.5, 0.25]  # fewer than k positive values
        for k in (1, 3, 10):
            before = sim.copy()
            got = _as_array(keep_top_k(sim, k), sim.shape, "the result")
            assert np.array_equal(sim, before), "return a new array; keep sim."
            for r, row in enumerate(sim):
                top = sorted(np.flatnonzero(row > 0), key=lambda c, r=r: -sim[r, c])
                expected = np.zeros_like(row)
                expected[top[:k]] = row[top[:k]]
                assert np.allclose(got[r], expected), (
                    f"with k={k}, row {r} should keep columns {sorted(top[:k])} "
                    f"with their values, got non-zeros at "
                    f"{np.flatnonzero(got[r]).tolist()}."
                )

    return run_check(
        "Exercise 2 (keep the top-k neighbours)",
        "np.argsort(-sim, axis=1)[:, :k] gives each row's k best columns; copy "
        "those values into np.zeros_like(sim) with np.take_along_axis / "
        "np.put_along_axis, and keep only positive ones.",
        test,
    )


def check_rank_unseen(
    rank_unseen: Callable[[np.ndarray, np.ndarray, int], np.ndarray],
) -> bool:
    """Exercise 3: a real ranking instead of the seed's set union.

    ``rank_unseen(scores, seen, n)`` takes one user's scores over all items,
    the indices of the items they already have and n, and returns the indices
    of the n best unseen items, best first (fewer if fewer are unseen).
    """

    def test() -> None:
        rng = np.random.default_rng(4)
        scores = rng.permutation(12).astype(np.float64) / 12
        for seen, n in (([0, 5, 7], 4), ([], 3), (list(range(10)), 5)):
            seen_arr = np.asarray(seen, dtype=np.int64)
            got = np.asarray(rank_unseen(scores.copy(), seen_arr, n)).ravel()
            unseen = [i for i in range(scores.size) if i not in set(seen)]
            expected = sorted(unseen, key=lambda i: -scores[i])[:n]
            assert not set(got.tolist()) & set(seen), (
                f"recommended already seen items {sorted(set(got) & set(seen))}."
            )
            assert len(got) == len(expected), (
                f"expected {len(expected)} items for n={n} with {len(seen)} seen, "
                f"got {len(got)}."
            )
            assert got.tolist() == expected, (
                f"expected items {expected} (best score first), got {got.tolist()}."
            )

    return run_check(
        "Exercise 3 (rank the unseen items)",
        "copy the scores, set scores[seen] = -np.inf, take np.argsort(-scores)"
        "[:n] and drop any index whose score is -inf.",
        test,
    )


def check_jaccard(jaccard: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Exercise 4: Jaccard similarity between rows, diagonal 0.

    ``jaccard(X)`` returns sim(a, b) = |a ∩ b| / |a ∪ b| for every pair of
    rows of the 0/1 matrix X (0 when both rows are empty, 0 on the diagonal).
    """

    def test() -> None:
        for matrix in (TOY, TOY.T.copy(), _random_binary(5)):
            got = _as_array(
                jaccard(matrix.copy()),
                (matrix.shape[0], matrix.shape[0]),
                "the Jaccard matrix",
            )
            expected = _pairwise(matrix, _jaccard)
            assert np.allclose(np.diag(got), 0), "the diagonal must be 0."
            if not np.allclose(got, expected, atol=1e-9):
                a, b = np.unravel_index(np.abs(got - expected).argmax(), got.shape)
                raise AssertionError(
                    f"jaccard({a}, {b}) should be {expected[a, b]:.3f}, "
                    f"got {got[a, b]:.3f}."
                )

    return run_check(
        "Exercise 4 (Jaccard similarity)",
        "|a ∪ b| = |a| + |b| - |a ∩ b|: with overlap = X @ X.T and counts = "
        "X.sum(axis=1), the union is counts[:, None] + counts[None, :] - overlap.",
        test,
    )
