"""Checks for the exercises of lesson 05, Comparison."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recsys_helpers import data, evaluation, metrics, split
from recsys_helpers.exercises._core import run_check


def check_coverage(coverage: Callable[[np.ndarray, int], float]) -> bool:
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
        "count the distinct non-negative entries and divide by n_items.",
        test,
    )


def check_beats(beats: Callable[[np.ndarray, np.ndarray], bool]) -> bool:
    """Exercise 2: a paired win test."""
    rng = np.random.default_rng(1)
    base = rng.random(500)
    cases = [
        (base + 0.05, base, True),  # always better
        (base, base + 0.05, False),  # always worse
        (base + rng.normal(0, 0.3, 500), base, False),  # noise only
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
        "evaluation.paired_bootstrap(values_a, values_b) returns a dict with "
        "'low'; A beats B when low > 0.",
        test,
    )


def check_mean_popularity(
    mean_popularity: Callable[[np.ndarray, data.Dataset], float],
) -> bool:
    """Exercise 3: the popularity bias of recommendations."""
    train, _ = split.by_time(data.load("shop"), test_fraction=0.2)
    share = np.asarray(train.to_csr().sum(axis=0)).ravel() / train.n_users
    top_items = np.array([[0, 1, 2], [5, -1, -1], [10, 11, 12]])
    expected = float(share[top_items[top_items >= 0]].mean())

    def test() -> None:
        got = mean_popularity(top_items.copy(), train)
        if got is None:
            raise NotImplementedError
        assert np.isclose(got, expected), (
            f"expected {expected:.4f}, you returned {got}: did you skip the -1 "
            "padding and divide counts by the number of users?"
        )

    return run_check(
        "Exercise 3 (popularity bias)",
        "share = users per item / train.n_users (train.to_csr().sum(axis=0)); "
        "average it over top_items[top_items >= 0].",
        test,
    )
