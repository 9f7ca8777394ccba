"""Checks for the exercises of lesson ``11_comparison``.

from recsys_helpers.exercises import comparison
comparison.check_coverage(coverage)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from recsys_helpers import data, evaluation, metrics, split
from recsys_helpers.columns import ITEM, USER
from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = ["check_beats", "check_coverage", "check_mean_popularity"]


def check_coverage(coverage: Callable[[np.ndarray, int], float]) -> CheckResult:
    """Exercise 1: catalogue coverage of a set of top-k lists."""
    rng = np.random.default_rng(0)
    cases = [
        (np.array([[0, 1], [1, 2]]), 4),
        (np.array([[3, -1], [3, -1]]), 5),
        (rng.integers(0, 50, size=(20, 5)), 100),
    ]

    def test() -> None:
        for top_items, n_items in cases:
            got = coverage(top_items.copy(), n_items)
            if got is None:
                raise NotImplementedError
            expected = metrics.catalog_coverage(top_items, n_items)
            assert np.isclose(got, expected), (
                f"coverage of {top_items.tolist()[:2]}... over {n_items} items is "
                f"{expected:.3f}, you returned {got}."
            )

    return run_check(
        "Exercise 1 (coverage)",
        "-1 is padding, not an item. Coverage asks how many DIFFERENT items "
        "appear anywhere in the lists, as a share of the whole catalogue.",
        test,
    )


def check_beats(beats: Callable[[np.ndarray, np.ndarray], bool]) -> CheckResult:
    """Exercise 2: a paired win test.

    ``beats(values_a, values_b)`` gets two models' per-user metric values
    (the same users, in the same order) and says whether A wins: the paired
    95% interval of the difference A - B lies above 0.
    """
    rng = np.random.default_rng(1)
    base = rng.random(500)
    noise = rng.normal(0, 0.3, 500)
    small_gain = noise - noise.mean() + 0.01  # a higher mean, inside the noise
    cases = [
        (base + 0.05, base, True),  # always better
        (base, base + 0.05, False),  # always worse
        (base + rng.normal(0, 0.3, 500), base, False),  # noise only
        (base + small_gain, base, False),
    ]

    def test() -> None:
        for a, b, expected in cases:
            got = beats(a.copy(), b.copy())
            if got is None:
                raise NotImplementedError
            reference = evaluation.paired_bootstrap(a, b)["low"] > 0
            assert bool(got) == reference == expected, (
                f"for a mean difference of {np.mean(a - b):+.3f} you said "
                f"{got}, expected {expected}."
            )

    return run_check(
        "Exercise 2 (a paired win)",
        "a higher mean is not yet a win: recsys_helpers.evaluation has a paired "
        "bootstrap of the difference over the same users, and A wins only when "
        "the whole 95% interval lies above 0.",
        test,
    )


def _small_shop() -> data.Dataset:
    """Five users, four items, a repeat purchase and an item nobody bought.

    Users per item: 1 -> 2 (user 1 bought it three times), 2 -> 3, 3 -> 1,
    4 -> 0; so the shares of users are 0.4, 0.6, 0.2 and 0.
    """
    pairs = [(1, 1), (1, 1), (1, 1), (2, 1), (2, 2), (3, 2), (4, 3), (5, 2)]
    return data.Dataset.from_frames(
        pd.DataFrame(pairs, columns=[USER, ITEM]),
        items=pd.DataFrame({ITEM: [1, 2, 3, 4]}),
        name="small",
    )


def _shop_train() -> data.Dataset:
    return split.by_time(data.load("shop"), test_fraction=0.2)[0]


def check_mean_popularity(
    mean_popularity: Callable[[np.ndarray, data.Dataset], float],
) -> CheckResult:
    """Exercise 3: the popularity bias of recommendations.

    ``mean_popularity(top_items, train)`` gets top-k lists of item indices
    (``-1`` pads a short list) and the training data; it returns the mean,
    over all recommended items, of the share of training users who have the
    item (each user counted once, however often they bought it).
    """

    def expected_for(top_items: np.ndarray, train: data.Dataset) -> float:
        share = np.asarray(train.to_csr().sum(axis=0)).ravel() / train.n_users
        return float(share[top_items[top_items >= 0]].mean())

    def test() -> None:
        cases = [
            (np.array([[1, 0, 2], [3, -1, -1]]), _small_shop),  # small first
            (np.array([[0, 1, 2], [5, -1, -1], [10, 11, 12]]), _shop_train),
        ]
        for top_items, make_train in cases:
            train = make_train()
            got = mean_popularity(top_items.copy(), train)
            if got is None:
                raise NotImplementedError
            expected = expected_for(top_items, train)
            assert np.isclose(got, expected), (
                f"on {train.name!r} expected {expected:.4f}, you returned {got}: "
                "did you skip the -1 padding, count each user once per item and "
                "divide by the number of users?"
            )

    return run_check(
        "Exercise 3 (popularity bias)",
        "an item's popularity here is the share of training users who have it: "
        "a column sum of the users x items matrix (one entry per user and item) "
        "over the number of users. Average it over the recommended items, "
        "skipping the -1 padding.",
        test,
    )
