"""Checks for the exercises of lesson ``01_content_filtering``.

Each ``check_*`` calls the learner's function on fresh inputs, compares the
result with a reference computed here and prints what is wrong (or a hint for
an untouched stub). Every check returns a result that is truthy when the
answer passes.

    from recsys_helpers.exercises import content
    content.check_user_profile(create_user_profile)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from recsys_helpers import data
from recsys_helpers.columns import ITEM, USER
from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = [
    "check_more_like_this",
    "check_recency_weights",
    "check_top_k_unseen",
    "check_user_profile",
]


def _renumbered_toy() -> data.Dataset:
    """The toy shop with ids that are not 1..n and a catalogue out of order."""
    toy = data.load("toy")
    items = toy.items.assign(**{ITEM: toy.items[ITEM] * 10 + 3}).iloc[[3, 0, 4, 2, 1]]
    inter = toy.interactions.assign(**{ITEM: toy.interactions[ITEM] * 10 + 3})
    return data.Dataset.from_frames(inter, items, toy.users, name="toy-renumbered")


def _dense(matrix: Any) -> np.ndarray:
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)


def check_user_profile(create_user_profile: Callable[..., Any]) -> CheckResult:
    """Exercise 1: a user profile that survives ids which are not 1..n.

    ``create_user_profile(ds, item_vectors, user_id)`` must return the mean of
    the rows of ``item_vectors`` (one row per item, in ``ds.items`` order) of
    the items ``user_id`` interacted with, as a 1-D array.
    """

    def test() -> None:
        ds = _renumbered_toy()
        vectors = normalize(TfidfVectorizer().fit_transform(ds.items["tags"]))
        dense = vectors.toarray()
        for user in ds.user_ids:
            bought = ds.interactions.loc[ds.interactions[USER] == user, ITEM]
            expected = dense[ds.item_index(bought.to_numpy())].mean(axis=0)
            got = np.asarray(_dense(create_user_profile(ds, vectors, user)))
            assert got.size == expected.size, (
                f"user {user}: the profile has {got.size} values, expected one "
                f"per word ({expected.size})."
            )
            got = got.reshape(-1)
            assert not np.isnan(got).any(), (
                f"user {user}: the profile is NaN - did the filter select no rows?"
            )
            assert np.allclose(got, expected), (
                f"user {user}: wrong profile. Item ids here are 13, 23, ... and the "
                "catalogue is not sorted, so `item_id - 1` picks the wrong rows."
            )

    return run_check(
        "Exercise 1 (user profile)",
        "item ids are not row numbers: find the user's items in ds.interactions, "
        "then ask the Dataset which rows of item_vectors those ids are (it has a "
        "method for that) before averaging.",
        test,
    )


def check_recency_weights(recency_weights: Callable[..., Any]) -> CheckResult:
    """Exercise 2: recency weights of one user's interactions.

    ``recency_weights(timestamps, half_life_days)`` gets the timestamps (in
    seconds) of ONE user's interactions, in any order, and returns one weight
    per interaction: 1 for the latest, halving every ``half_life_days``.
    """

    def test() -> None:
        rng = np.random.default_rng(1)
        for half_life in (1.0, 30.0, 365.0):
            times = rng.integers(0, 400 * 86_400, size=12)
            got = np.asarray(recency_weights(times.copy(), half_life), dtype=float)
            assert got.shape == times.shape, (
                f"expected {times.size} weights, got shape {got.shape}."
            )
            age_days = (times.max() - times) / 86_400
            expected = 0.5 ** (age_days / half_life)
            assert np.isclose(got[np.argmax(times)], 1.0), (
                "the latest interaction should weigh exactly 1."
            )
            assert np.allclose(got, expected), (
                f"with a half-life of {half_life} days, an interaction "
                f"{half_life} days older than the latest should weigh 0.5."
            )

    return run_check(
        "Exercise 2 (recency weights)",
        "measure each interaction's age from this user's LATEST one, in days (a "
        "day is 86,400 seconds); every half-life of age halves the weight, so "
        "the weight is one half raised to a power.",
        test,
    )


def check_more_like_this(more_like_this: Callable[..., Any]) -> CheckResult:
    """Exercise 3: "more like this" from item vectors alone.

    ``more_like_this(item_vectors, item, n)`` gets L2-normalised item vectors
    (a sparse matrix, one row per item), the row index of one item and n; it
    returns the row indices of the n items most cosine-similar to it, most
    similar first, never the item itself.
    """

    def test() -> None:
        shop = data.load("shop")
        vectors = normalize(TfidfVectorizer().fit_transform(shop.items["tags"]))
        sims = (vectors @ vectors.T).toarray()
        n_items = vectors.shape[0]
        for item, n in ((0, 5), (n_items // 2, 10), (n_items - 1, 3)):
            got = np.asarray(more_like_this(vectors, item, n)).reshape(-1)
            assert got.size == n, f"asked for {n} items, got {got.size}."
            assert item not in got, f"item {item} is recommended as like itself."
            assert len(set(got.tolist())) == n, "an item appears twice."
            others = np.delete(sims[item], item)
            best = np.sort(others)[::-1][:n]
            assert np.allclose(sims[item, got], best), (
                f"for item {item} these are not the {n} most similar items, "
                "most similar first."
            )

    return run_check(
        "Exercise 3 (more like this)",
        "the rows are L2-normalised, so a cosine is a plain dot product with the "
        "item's own row; keep the item itself out of the race, then sort the "
        "scores from high to low.",
        test,
    )


def check_top_k_unseen(top_k_unseen: Callable[..., Any]) -> CheckResult:
    """Exercise 4: never recommend what the user already bought.

    ``top_k_unseen(scores, seen, k)`` gets a float array (n_users, n_items), a
    scipy CSR matrix of the same shape with 1 where the user bought the item,
    and k; it returns an int array (n_users, k) of the k best-scored unseen
    item indices per user, best first.
    """

    def test() -> None:
        rng = np.random.default_rng(3)
        scores = rng.random((6, 20))
        seen = sp.random(6, 20, density=0.3, format="csr", random_state=4)
        seen.data[:] = 1.0
        scores_in = scores.copy()
        got = np.asarray(top_k_unseen(scores_in, seen, 5))
        assert np.array_equal(scores_in, scores), "do not modify `scores` in place."
        assert got.shape == (6, 5), f"expected shape (6, 5), got {got.shape}."
        bought = seen.toarray() > 0
        for user in range(6):
            assert not bought[user, got[user]].any(), (
                f"user {user}: an already bought item is recommended."
            )
            masked = np.where(bought[user], -np.inf, scores[user])
            expected = np.sort(masked)[::-1][:5]
            assert np.allclose(scores[user, got[user]], expected), (
                f"user {user}: not the 5 best unseen items, best first."
            )

    return run_check(
        "Exercise 4 (exclude what was bought)",
        "give every bought item a score no unseen item can lose to (on a copy: "
        "the caller's scores must not change), then sort each row from best to "
        "worst and keep k.",
        test,
    )
