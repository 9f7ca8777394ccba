"""Checks for the exercises of lesson ``09_scaling_out`` (ALS on Spark, cost).

Every exercise is plain NumPy (no Spark needed): Spark's count-scaled
penalty, the "ask for more, then drop the seen items" trick behind
``recommendForUserSubset``, extrapolating a log-log fit, and the memory of
the factors.

    from recsys_helpers.exercises import scaling
    scaling.check_spark_penalties(spark_penalties)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = [
    "check_extrapolate",
    "check_factor_memory",
    "check_spark_penalties",
    "check_top_n_unseen_from_longer_lists",
    "reference_extrapolate",
    "reference_factor_memory",
    "reference_spark_penalties",
    "reference_top_n_unseen_from_longer_lists",
]


def reference_spark_penalties(
    user_items: sp.csr_matrix, reg_param: float
) -> tuple[np.ndarray, np.ndarray]:
    """Spark's L2 weight per user and per item: ``regParam * n`` (ALS-WR)."""
    user_counts = np.diff(user_items.tocsr().indptr)
    item_counts = np.diff(user_items.tocsc().indptr)
    return reg_param * user_counts, reg_param * item_counts


def reference_top_n_unseen_from_longer_lists(
    lists: list[list[int]], seen: list[set[int]], n: int
) -> list[list[int]]:
    """Each list with the seen items dropped, then cut to n (order kept)."""
    return [
        [i for i in items if i not in s][:n]
        for items, s in zip(lists, seen, strict=True)
    ]


def reference_extrapolate(
    sizes: np.ndarray, seconds: np.ndarray, target: float
) -> tuple[float, float]:
    """(slope, predicted seconds at target) of a line fitted to log-log points."""
    slope, intercept = np.polyfit(np.log(sizes), np.log(seconds), 1)
    return float(slope), float(np.exp(intercept + slope * np.log(target)))


def reference_factor_memory(
    n_users: int, n_items: int, factors: int, bytes_per_number: int = 4
) -> float:
    """Gigabytes (1e9 bytes) of the user and item factor tables."""
    return (n_users + n_items) * factors * bytes_per_number / 1e9


def check_spark_penalties(
    spark_penalties: Callable[[sp.csr_matrix, float], tuple[np.ndarray, np.ndarray]],
) -> CheckResult:
    """Exercise 1: the penalty Spark puts on each user's and each item's vector."""

    def test() -> None:
        rng = np.random.default_rng(9)
        matrix = sp.random(12, 7, density=0.35, random_state=9, format="csr")
        matrix.data[:] = 1.0
        matrix = matrix.tocsr()
        reg = float(rng.uniform(0.05, 0.5))
        got = spark_penalties(matrix, reg)
        got_users, got_items = (np.asarray(a, dtype=float) for a in got)
        want_users, want_items = reference_spark_penalties(matrix, reg)
        if got_users.shape == (7,) and got_items.shape == (12,):
            raise AssertionError(
                "users and items are swapped: users are the rows (12), items "
                "the columns (7)."
            )
        assert got_users.shape == (12,) and got_items.shape == (7,), (
            f"shapes {got_users.shape} and {got_items.shape}: one penalty per "
            "user (12) and one per item (7)."
        )
        if np.allclose(got_users, reg) and np.allclose(got_items, reg):
            raise AssertionError(
                "every row got the same penalty: that is models.ALS's lambda; "
                "Spark multiplies regParam by the row's number of interactions."
            )
        assert np.allclose(got_users, want_users), (
            "the user penalties differ from regParam x (the user's interactions)."
        )
        assert np.allclose(got_items, want_items), (
            "the item penalties differ from regParam x (the item's interactions)."
        )

    return run_check(
        "Exercise 1 (Spark's penalties)",
        "Spark weights regParam by how many interactions each row has: count "
        "the non-zeros in each user's row and in each item's column of the "
        "matrix, and scale regParam by those counts.",
        test,
    )


def check_top_n_unseen_from_longer_lists(
    top_n_unseen: Callable[[list[list[int]], list[set[int]], int], list[list[int]]],
) -> CheckResult:
    """Exercise 2: what ``recommend_spark`` does with Spark's longer lists."""

    def test() -> None:
        lists = [[5, 1, 9, 2, 7, 3], [4, 8, 6, 0, 2, 1], [3, 2, 1, 0, 9, 8]]
        seen = [{5, 9}, set(), {3, 2, 1}]
        got = [list(map(int, row)) for row in top_n_unseen(lists, seen, 3)]
        want = reference_top_n_unseen_from_longer_lists(lists, seen, 3)
        assert len(got) == 3, f"{len(got)} lists, expected one per user (3)."
        for row, s in zip(got, seen, strict=True):
            assert not set(row) & s, "a seen item is still in a list: drop them."
        if got == [
            [i for i in items[:3] if i not in s]
            for items, s in zip(lists, seen, strict=True)
        ]:
            raise AssertionError(
                "lists came out shorter than 3: you cut to n before dropping the "
                "seen items; drop first, then cut."
            )
        assert [len(r) for r in got] == [3, 3, 3], "every list must hold n = 3 items."
        assert got == want, "the right length, but not Spark's order: keep it."

    return run_check(
        "Exercise 2 (top-n unseen from longer lists)",
        "Spark ranked every item, seen or not, and was asked for more than n; "
        "filter each list against the user's seen set, keeping Spark's order, "
        "and only then keep the first n.",
        test,
    )


def check_extrapolate(
    extrapolate: Callable[[np.ndarray, np.ndarray, float], tuple[float, float]],
) -> CheckResult:
    """Exercise 3: a straight line on log-log axes, carried to a bigger size."""

    def test() -> None:
        sizes = np.array([1_000.0, 2_000.0, 4_000.0, 8_000.0])
        seconds = 0.002 * sizes**1.3 * np.array([1.05, 0.97, 1.02, 0.99])
        got_slope, got_time = (float(v) for v in extrapolate(sizes, seconds, 1e6))
        want_slope, want_time = reference_extrapolate(sizes, seconds, 1e6)
        linear = np.polyfit(sizes, seconds, 1)
        if np.isclose(got_slope, linear[0]) or np.isclose(
            got_time, np.polyval(linear, 1e6)
        ):
            raise AssertionError(
                "that is a straight line on linear axes; fit log(seconds) "
                "against log(size)."
            )
        assert abs(got_slope - want_slope) < 1e-6, (
            f"slope {got_slope:.3f}, expected {want_slope:.3f} (about 1.3 here)."
        )
        assert np.isclose(got_time, want_time, rtol=1e-6), (
            f"predicted {got_time:.4g} s at 1e6, expected {want_time:.4g}: "
            "go back from the log scale with exp (or 10**, the same base)."
        )

    return run_check(
        "Exercise 3 (extrapolate a log-log fit)",
        "a power law (time proportional to size to the power b) is a straight "
        "line between log(time) and log(size): fit a degree-1 polynomial "
        "there, its slope is b; "
        "evaluate the line at the log of the target and undo the log.",
        test,
    )


def check_factor_memory(
    factor_memory: Callable[[int, int, int], float],
) -> CheckResult:
    """Exercise 4: gigabytes of the factor tables at a given size."""

    def test() -> None:
        got = float(factor_memory(480_189, 17_770, 128))
        want = reference_factor_memory(480_189, 17_770, 128)
        if np.isclose(got, 480_189 * 128 * 4 / 1e9):
            raise AssertionError("only the users' table: add the items'.")
        if np.isclose(got, 2 * want):
            raise AssertionError("that is float64 (8 bytes); ALS here keeps float32.")
        if np.isclose(got, (480_189 + 17_770) * 128 * 4 / 2**30):
            raise AssertionError("use 1 GB = 1e9 bytes, as the lesson does.")
        assert np.isclose(got, want, rtol=1e-6), f"{got:.4f} GB, expected {want:.4f}."

    return run_check(
        "Exercise 4 (memory of the factors)",
        "each user and each item has one vector of `factors` float32 numbers "
        "(4 bytes each); add both tables and divide by a billion.",
        test,
    )
