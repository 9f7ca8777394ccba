"""Checks for the exercises of lesson ``07_multi_stage`` (retrieve, rank, re-rank).

Every exercise is plain NumPy: a point-in-time feature, labels from the next
window, the business rules and maximal marginal relevance.

    from recsys_helpers.exercises import multi_stage
    multi_stage.check_recent_counts(recent_counts)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = [
    "check_allowed",
    "check_mmr_rerank",
    "check_next_window_labels",
    "check_recent_counts",
    "reference_allowed",
    "reference_mmr_rerank",
    "reference_next_window_labels",
    "reference_recent_counts",
]

DAY = 86_400


def reference_recent_counts(
    event_items: np.ndarray,
    event_times: np.ndarray,
    n_items: int,
    when: int,
    days: float,
) -> np.ndarray:
    """Events per item with ``when - days * DAY <= time < when``."""
    inside = (event_times >= when - days * DAY) & (event_times < when)
    return np.bincount(event_items[inside], minlength=n_items)


def reference_next_window_labels(
    cand_users: np.ndarray,
    cand_items: np.ndarray,
    window_users: np.ndarray,
    window_items: np.ndarray,
) -> np.ndarray:
    """1 where the candidate's user bought the candidate item in the window."""
    bought = set(zip(window_users.tolist(), window_items.tolist(), strict=True))
    pairs = zip(cand_users.tolist(), cand_items.tolist(), strict=True)
    return np.array([int(pair in bought) for pair in pairs], dtype=np.int64)


def reference_allowed(
    kind: np.ndarray, launched: np.ndarray, owned: np.ndarray, when: int
) -> np.ndarray:
    """False for a durable already owned and for an item launched after ``when``."""
    durable_owned = (kind == "durable") & owned
    return ~durable_owned & (launched <= when)


def reference_mmr_rerank(
    relevance: np.ndarray, similarity: np.ndarray, k: int, diversity: float
) -> np.ndarray:
    """Greedy MMR: argmax (1 - lambda) r_i - lambda max_{j chosen} sim(i, j)."""
    chosen: list[int] = []
    closest = np.zeros(relevance.size)
    free = np.ones(relevance.size, dtype=bool)
    for _ in range(k):
        value = (1 - diversity) * relevance - diversity * closest
        pick = int(np.argmax(np.where(free, value, -np.inf)))
        chosen.append(pick)
        free[pick] = False
        closest = np.maximum(closest, similarity[pick])
    return np.array(chosen)


def check_recent_counts(recent_counts: Callable[..., np.ndarray]) -> CheckResult:
    """Exercise 1: a point-in-time feature, sales in the days before a moment."""

    def test() -> None:
        when, days = 100 * DAY, 30
        items = np.array([0, 0, 1, 1, 1, 2, 2, 3, 0, 2])
        times = np.array([95, 60, 99, 71, 69, 100, 101, 10, 70, 99.9]) * DAY
        got = np.asarray(recent_counts(items, times, 4, when, days))
        want = reference_recent_counts(items, times, 4, when, days)
        assert got.shape == (4,), (
            f"shape {got.shape}, expected one count per item (4,)."
        )
        if got[2] > want[2]:
            raise AssertionError(
                "item 2 counts an event at or after the ranking time: that is the "
                "future (the label window), a leak."
            )
        assert got[3] == want[3] and got[0] == want[0], (
            "only the last 30 days before the ranking time count (item 3 sold on "
            "day 10, item 0 on day 60: too early)."
        )
        assert np.array_equal(got, want), (
            f"got {got.tolist()}, expected {want.tolist()}."
        )

    return run_check(
        "Exercise 1 (recent sales, point in time)",
        "keep the events whose time is at least the ranking time minus the window "
        "and strictly before the ranking time, then count them per item (items "
        "nobody bought count zero).",
        test,
    )


def check_next_window_labels(
    next_window_labels: Callable[..., np.ndarray],
) -> CheckResult:
    """Exercise 2: label candidates from the next window's purchases."""

    def test() -> None:
        cand_users = np.array([1, 1, 1, 2, 2, 3])
        cand_items = np.array([10, 11, 12, 10, 13, 11])
        window_users = np.array([1, 2, 2, 3, 1])
        window_items = np.array([11, 12, 12, 14, 11])
        got = np.asarray(
            next_window_labels(cand_users, cand_items, window_users, window_items)
        )
        want = reference_next_window_labels(
            cand_users, cand_items, window_users, window_items
        )
        assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}."
        assert set(np.unique(got).tolist()) <= {0, 1}, (
            "a label is 0 or 1 (user 1 bought item 11 twice: still one positive)."
        )
        assert got[5] == 0, (
            "user 3 did not buy item 11 in the window (user 1 did): a label "
            "belongs to a (user, item) pair, not to the item."
        )
        assert np.array_equal(got, want), (
            f"got {got.tolist()}, expected {want.tolist()}."
        )

    return run_check(
        "Exercise 2 (labels from the next window)",
        "a candidate is positive when its own user bought its item in the "
        "window; build the set of (user, item) pairs of the window and ask, for "
        "each candidate, whether its pair is in it.",
        test,
    )


def check_allowed(allowed: Callable[..., np.ndarray]) -> CheckResult:
    """Exercise 3: the hard business rules."""

    def test() -> None:
        kind = np.array(["durable", "consumable", "durable", "consumable", "durable"])
        launched = np.array([0, 0, 50, 50, 40]) * DAY
        owned = np.array([True, True, False, False, False])
        when = 40 * DAY
        got = np.asarray(allowed(kind, launched, owned, when), dtype=bool)
        want = reference_allowed(kind, launched, owned, when)
        assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}."
        assert not got[0], "item 0 is a durable the user owns: never show it again."
        assert got[1], (
            "item 1 is a consumable the user bought: coffee beans are bought "
            "again, keep it."
        )
        assert not got[2] and not got[3], (
            "items 2 and 3 launch after the ranking time: not on sale yet."
        )
        assert got[4], "item 4 launches exactly at the ranking time: it is on sale."

    return run_check(
        "Exercise 3 (business rules)",
        "two rules, both must hold: an item is out if it is a durable the user "
        "already owns, or if its launch comes after the ranking time; an item "
        "launched at that very moment is on sale.",
        test,
    )


def check_mmr_rerank(mmr_rerank: Callable[..., np.ndarray]) -> CheckResult:
    """Exercise 4: maximal marginal relevance."""

    def test() -> None:
        relevance = np.array([1.0, 0.95, 0.9, 0.6, 0.5])
        groups = np.array([0, 0, 0, 1, 1])
        similarity = (groups[:, None] == groups[None, :]).astype(float)
        for diversity in (0.0, 0.3, 0.6):
            got = np.asarray(mmr_rerank(relevance, similarity, 5, diversity))
            want = reference_mmr_rerank(relevance, similarity, 5, diversity)
            assert got.shape == (5,), f"shape {got.shape}, expected (5,)."
            assert np.unique(got).size == got.size, (
                "an item was picked twice: only items not chosen yet compete."
            )
            assert np.array_equal(got, want), (
                f"with diversity {diversity}: got {got.tolist()}, expected "
                f"{want.tolist()}."
            )

    return run_check(
        "Exercise 4 (maximal marginal relevance)",
        "pick one item at a time; each remaining item scores its relevance "
        "weighted by one minus lambda, minus lambda times its largest "
        "similarity to the items already picked; take the best, repeat.",
        test,
    )
