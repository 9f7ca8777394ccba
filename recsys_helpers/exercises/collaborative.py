"""Checks for the exercises of lesson ``02_collaborative_filtering``.

Each ``check_*`` calls the learner's function on small inputs and compares it
with the definition, computed here from sets of items (a different route from
the matrix code a learner writes, so a shared mistake cannot pass).

    from recsys_helpers.exercises import collaborative
    collaborative.check_jaccard(jaccard)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = [
    "check_cosine_with_shrinkage",
    "check_explain",
    "check_jaccard",
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
) -> CheckResult:
    """Exercise 1: row-row cosine similarity with shrinkage, diagonal 0.

    ``cosine_with_shrinkage(x, s)`` takes a 0/1 matrix x (rows = users, or
    items if you pass x.T) and returns the (n_rows, n_rows) matrix with
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
            assert np.array_equal(matrix, before), "do not modify x."
            if not np.allclose(got, expected, atol=1e-9):
                a, b = np.unravel_index(np.abs(got - expected).argmax(), got.shape)
                raise AssertionError(
                    f"with s={shrinkage}, sim({a}, {b}) should be "
                    f"{expected[a, b]:.3f}, got {got[a, b]:.3f}."
                )

    return run_check(
        "Exercise 1 (cosine with shrinkage)",
        "every overlap |a ∩ b| at once is one matrix product of x with its "
        "transpose, and each |a| is a row sum; build the denominator for every "
        "pair, do not divide by 0 for an empty row, and zero the diagonal (a "
        "row is not its own neighbour).",
        test,
    )


def check_explain(
    explain: Callable[[np.ndarray, np.ndarray, int, int], np.ndarray],
) -> CheckResult:
    """Exercise 2: "because you bought ..." for an item-kNN recommendation.

    ``explain(user_items, similarity, item, n)`` takes one user's 0/1 row over
    the items, the item x item similarity matrix of item-kNN (row j holds
    sim(j, .) for j's kept neighbours, 0 elsewhere), a recommended item and
    n. It returns the indices of at most n items j the user has, with
    sim(j, item) > 0, largest contribution first: their contributions add up
    to the item's score, so they are its explanation.
    """

    def test() -> None:
        rng = np.random.default_rng(6)
        n_items = 10
        similarity = rng.permutation(n_items * n_items).reshape(n_items, -1) + 1.0
        similarity /= similarity.max()
        similarity[rng.random(similarity.shape) < 0.4] = 0.0
        np.fill_diagonal(similarity, 0.0)
        user_items = (rng.random(n_items) < 0.5).astype(np.float64)
        user_items[[0, 1, 2, 3]] = [1, 1, 1, 0]
        for item, n in ((3, 3), (3, 10), (5, 1), (9, 2)):
            got = np.asarray(
                explain(user_items.copy(), similarity.copy(), item, n)
            ).ravel()
            owned = [j for j in range(n_items) if user_items[j] > 0]
            voters = [j for j in owned if similarity[j, item] > 0]
            expected = sorted(voters, key=lambda j: -similarity[j, item])[:n]
            assert set(got.tolist()) <= set(owned), (
                f"item {item}: {sorted(set(got.tolist()) - set(owned))} are not "
                "items the user has."
            )
            assert got.tolist() == expected, (
                f"explaining item {item} with n={n}: expected {expected} "
                f"(the user's items j by sim(j, {item}), largest first, only "
                f"positive), got {got.tolist()}."
            )

    return run_check(
        "Exercise 2 (explain a recommendation)",
        "the item's score is a sum with one term per item j the user has: the "
        "similarity of j to the recommended item (mind which index of "
        "similarity is which). Rank those terms, largest first, and leave out "
        "the ones that are 0.",
        test,
    )


def check_rank_unseen(
    rank_unseen: Callable[[np.ndarray, np.ndarray, int], np.ndarray],
) -> CheckResult:
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
        "take the seen items out of the race without changing the caller's "
        "array, sort the rest best first, and never return more items than "
        "are unseen.",
        test,
    )


def check_jaccard(jaccard: Callable[[np.ndarray], np.ndarray]) -> CheckResult:
    """Exercise 4: Jaccard similarity between rows, diagonal 0.

    ``jaccard(x)`` returns sim(a, b) = |a ∩ b| / |a ∪ b| for every pair of
    rows of the 0/1 matrix x (0 when both rows are empty, 0 on the diagonal).
    """

    def test() -> None:
        two_empty = _random_binary(5)
        two_empty[1] = 0.0  # rows 0 and 1 share nothing: 0, not 0 / 0
        for matrix in (TOY, TOY.T.copy(), _random_binary(5), two_empty):
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
        "no sets needed: inclusion-exclusion gives |a ∪ b| from the row counts "
        "and the overlaps you already computed for cosine, and broadcasting "
        "adds the counts of every pair at once. Two empty rows share nothing.",
        test,
    )
