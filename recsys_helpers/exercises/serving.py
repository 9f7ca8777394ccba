"""Checks for the exercises of lesson ``08_serving`` (indexes and the service).

Plain Python and NumPy: no faiss and no server needed.

    from recsys_helpers.exercises import serving
    serving.check_recall_vs_exact(recall_vs_exact)
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = [
    "check_latency_percentiles",
    "check_parse_user_id",
    "check_recall_vs_exact",
    "check_unseen_top_k",
    "reference_latency_percentiles",
    "reference_parse_user_id",
    "reference_recall_vs_exact",
    "reference_unseen_top_k",
]


# ------------------------------------------------------- 1. recall vs exact
def reference_recall_vs_exact(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean over rows of |found ∩ exact| / |exact|, padding (-1) excluded."""
    shares = []
    for f, e in zip(found, exact, strict=True):
        e = e[e >= 0]
        shares.append(np.intersect1d(f[f >= 0], e).size / max(1, e.size))
    return float(np.mean(shares))


def check_recall_vs_exact(recall: Callable[..., float]) -> CheckResult:
    """Exercise 1: the recall@k of an approximate index against the exact one."""

    def test() -> None:
        exact = np.array([[4, 8, 15, 16], [23, 42, -1, -1], [1, 2, 3, 4]])
        found = np.array([[8, 4, 99, 16], [42, -1, -1, -1], [1, 2, 3, 4]])
        got = recall(found.copy(), exact.copy())
        if got is None:
            raise NotImplementedError
        want = reference_recall_vs_exact(found, exact)  # (3/4 + 1/2 + 1) / 3
        in_place = float(np.mean(found == exact))
        assert not np.isclose(float(got), in_place), (
            "you compared position by position: an index that finds the right "
            "items in another order is not wrong (recall ignores the order)."
        )
        assert float(got) <= want + 1e-9, (
            f"got {float(got):.3f}, more than {want:.3f}: the padding -1 is not an "
            "item, so two paddings never make a hit."
        )
        assert np.isclose(float(got), want), (
            f"got {float(got):.3f}, expected {want:.3f}: the share of each row's "
            "exact items that were found, averaged over rows (a row with 2 exact "
            "items counts out of 2)."
        )

    return run_check(
        "Exercise 1 (recall against exact search)",
        "for each row, count the exact items (ignoring the padding) that also "
        "appear anywhere in the approximate row, divide by the number of exact "
        "items of that row, then average the rows.",
        test,
    )


# ------------------------------------------------------ 2. over-fetch unseen
def reference_unseen_top_k(
    search: Callable[[np.ndarray, int], np.ndarray],
    user_vector: np.ndarray,
    seen: set[int],
    k: int,
) -> list[int]:
    """Ask for k + |seen| items, drop the seen ones, keep the best k in order."""
    fetched = search(user_vector, k + len(seen))
    return [int(i) for i in fetched if i >= 0 and int(i) not in seen][:k]


def _counting_search(items: np.ndarray) -> tuple[Callable, list[int]]:
    """An exact search over ``items`` that records how much it was asked for."""
    asked: list[int] = []

    def search(user_vector: np.ndarray, n: int) -> np.ndarray:
        asked.append(int(n))
        scores = items @ np.asarray(user_vector)
        return np.argsort(-scores, kind="stable")[: min(n, len(items))]

    return search, asked


def check_unseen_top_k(unseen_top_k: Callable[..., list[int]]) -> CheckResult:
    """Exercise 2: top-k without seen items, from an index that cannot filter."""

    def test() -> None:
        rng = np.random.default_rng(8)
        items = rng.normal(size=(40, 4))
        user = items[:6].mean(axis=0)
        order = np.argsort(-(items @ user), kind="stable")
        seen = {int(i) for i in order[[0, 1, 3, 6, 7]]}  # 3 of the top 5
        search, asked = _counting_search(items)
        got = unseen_top_k(search, user, set(seen), 5)
        if got is None:
            raise NotImplementedError
        got = [int(i) for i in got]
        want = reference_unseen_top_k(_counting_search(items)[0], user, seen, 5)
        assert not set(got) & seen, f"seen item(s) {sorted(set(got) & seen)} came back."
        assert len(got) == 5, (
            f"{len(got)} items instead of 5: asking the index for only k leaves "
            "fewer than k once the seen ones are removed."
        )
        assert sorted(got) == sorted(want), "not the 5 best unseen items."
        assert got == want, "the right items, but not in the index's order."
        assert max(asked) <= 5 + len(seen), (
            f"you asked the index for {max(asked)} items: k plus the number of "
            "seen items is always enough."
        )

    return run_check(
        "Exercise 2 (over-fetch, then filter)",
        "the index cannot skip items, so ask it for more than k: enough that k "
        "remain even if every seen item is among them. Then drop the seen ones, "
        "keep the index's order and stop after k.",
        test,
    )


# ------------------------------------------------------- 3. p50 and p99
def reference_latency_percentiles(seconds: np.ndarray) -> tuple[float, float]:
    """(p50, p99) in milliseconds (numpy's default linear interpolation)."""
    ms = np.asarray(seconds, dtype=float) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def _latencies() -> np.ndarray:
    """1,000 request times in seconds: mostly ~2 ms, a slow tail up to 80 ms."""
    rng = np.random.default_rng(9)
    fast = rng.gamma(4.0, 0.0005, size=970)
    slow = rng.uniform(0.02, 0.08, size=30)
    return np.concatenate([fast, slow])[rng.permutation(1000)]


def check_latency_percentiles(
    percentiles: Callable[[np.ndarray], tuple[float, float]],
) -> CheckResult:
    """Exercise 3: the median and the 99th percentile of request times."""

    def test() -> None:
        seconds = _latencies()
        got = percentiles(seconds.copy())
        if got is None:
            raise NotImplementedError
        p50, p99 = (float(v) for v in got)
        want50, want99 = reference_latency_percentiles(seconds)
        assert p50 > 0.1, (
            f"p50 = {p50:.4f}: the times are in seconds, the answer in milliseconds."
        )
        mean_ms = float(seconds.mean() * 1000)
        assert not np.isclose(p50, mean_ms, rtol=0.02), (
            f"p50 = {p50:.2f} ms is the mean: the slow tail pulls the mean up, the "
            "median is the time half of the requests beat."
        )
        assert np.isclose(p50, want50, rtol=0.02), (
            f"p50 = {p50:.2f} ms, expected {want50:.2f} ms."
        )
        assert not np.isclose(p99, seconds.max() * 1000), (
            "p99 is not the slowest request: it is the time 99% of requests beat."
        )
        assert np.isclose(p99, want99, rtol=0.05), (
            f"p99 = {p99:.2f} ms, expected {want99:.2f} ms."
        )

    return run_check(
        "Exercise 3 (p50 and p99 latency)",
        "convert the times to milliseconds, then take the 50th and the 99th "
        "percentile (numpy has a function for percentiles), not the mean and not "
        "the maximum.",
        test,
    )


# ------------------------------------------------------- 4. ids from a path
def reference_parse_user_id(text: str, ids_are_int: bool) -> int | str:
    """The path's text as the dataset's id type; ValueError if it cannot be."""
    if not ids_are_int:
        return text
    if not re.fullmatch(r"-?[0-9]+", text):
        raise ValueError(f"user ids are integers, got {text!r}.")
    return int(text)


def check_parse_user_id(parse: Callable[[str, bool], int | str]) -> CheckResult:
    """Exercise 4: the seed's '1' vs 1 bug, at the service's door."""

    def test() -> None:
        got = parse("1", True)
        if got is None:
            raise NotImplementedError
        assert got == 1 and isinstance(got, int), (
            f"parse('1', True) returned {got!r}: the seed's bug, the text '1' never "
            "equals the integer id 1."
        )
        kept = parse("42", False)
        assert kept == "42" and isinstance(kept, str), (
            f"parse('42', False) returned {kept!r}: when the dataset's ids are text, "
            "'42' is an id as it is."
        )
        assert parse("u7", False) == "u7", "text ids must not be converted."
        for bad in ["abc", "1.5", ""]:
            try:
                value = parse(bad, True)
            except ValueError:
                continue
            raise AssertionError(
                f"parse({bad!r}, True) returned {value!r} instead of raising "
                "ValueError (the service answers 422)."
            )

    return run_check(
        "Exercise 4 (ids from the path)",
        "a path always arrives as text. If the dataset's ids are integers, convert "
        "only text made of digits (an optional minus sign first) and raise "
        "ValueError otherwise; if they are text, keep it.",
        test,
    )
