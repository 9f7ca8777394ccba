"""Checks for the exercises of lesson 00, Getting started."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from recsys_helpers import data, metrics, models, split
from recsys_helpers.exercises._core import run_check


def check_recall_at_k(recall_at_k: Callable[[list, set, int], float]) -> bool:
    """Exercise 1: recall@k of one ranked list, by hand.

    ``recall_at_k(recommended, relevant, k)`` must return the fraction of the
    relevant items found in the first k recommendations.
    """
    cases = [
        ([3, 1, 7, 9, 4], {1, 4}, 3),
        ([3, 1, 7, 9, 4], {1, 4}, 5),
        ([5, 6], {1, 2, 3}, 2),
        (["a", "b", "c"], {"c"}, 1),
        ([2, 8, 5, 1], {2, 8, 5, 1, 6, 7}, 4),
    ]

    def test() -> None:
        for recommended, relevant, k in cases:
            got = recall_at_k(list(recommended), set(relevant), k)
            if got is None:
                raise NotImplementedError
            hits, n_rel = metrics.hits_from_lists([recommended], [relevant], k)
            expected = float(metrics.recall_at_k(hits, n_rel)[0])
            assert np.isclose(got, expected), (
                f"recall_at_k({recommended}, {relevant}, k={k}) returned {got}, "
                f"expected {expected:.3f}."
            )

    return run_check(
        "Exercise 1 (recall@k)",
        "count the relevant items among recommended[:k], divide by len(relevant).",
        test,
    )


def check_popular_unseen(
    popular_unseen: Callable[[data.Dataset, int, int], list],
) -> bool:
    """Exercise 2: the Popularity baseline with pandas alone.

    ``popular_unseen(train, user_id, n)`` must return the ids of the n items
    with the most training interactions that the user has not interacted
    with, most popular first, ties broken by the smaller item id.
    """
    train, _ = split.by_time(data.load("shop"), test_fraction=0.2)
    reference = models.Popularity().fit(train)

    def test() -> None:
        for user_id in (1, 17, 256, 999):
            got = popular_unseen(train, user_id, 10)
            if got is None:
                raise NotImplementedError
            expected = reference.recommend(user_id, n=10).item_id.tolist()
            got = [int(i) for i in got]
            assert got == expected, (
                f"for user {user_id} you returned {got[:5]}..., expected "
                f"{expected[:5]}..."
            )

    return run_check(
        "Exercise 2 (popular unseen items)",
        "count interactions per item_id, drop the user's own items, sort by "
        "count descending then item_id ascending, take the first n.",
        test,
    )


def check_user_history(user_history: Callable[[data.Dataset, object], set]) -> bool:
    """Exercise 3: a user's items, refusing the seed's ``'1'`` bug.

    ``user_history(ds, user_id)`` must return the set of item ids the user
    interacted with, and raise ``TypeError`` when ``user_id`` has a different
    type from the dataset's ids (``'1'`` for ``1``) and ``KeyError`` for an
    unknown user, instead of silently returning an empty set.
    """
    toy = data.load("toy")

    def test() -> None:
        got = user_history(toy, 1)
        if got is None:
            raise NotImplementedError
        assert set(got) == {1, 2, 3}, f"user 1 bought {{1, 2, 3}}, you gave {got}."
        assert set(user_history(toy, 5)) == {5}, "user 5 bought item 5 only."
        frame = toy.interactions.copy()
        user_history(toy, 2)
        pd.testing.assert_frame_equal(toy.interactions, frame)
        for bad, error in (("1", TypeError), (42, KeyError)):
            try:
                result = user_history(toy, bad)
            except error:
                continue
            raise AssertionError(
                f"user_history(toy, {bad!r}) returned {result!r} instead of "
                f"raising {error.__name__}."
            )

    return run_check(
        "Exercise 3 (user history)",
        "check the type against ds.interactions.user_id's dtype first (or use "
        "ds.user_index, which already does), then filter the interactions.",
        test,
    )
