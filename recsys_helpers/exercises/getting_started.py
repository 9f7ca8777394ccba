"""Checks for the exercises of lesson ``00_getting_started``.

from recsys_helpers.exercises import getting_started
getting_started.check_recall_at_k(recall_at_k)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from recsys_helpers import data, metrics, split
from recsys_helpers.columns import ITEM, USER
from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = ["check_popular_unseen", "check_recall_at_k", "check_user_history"]


def check_recall_at_k(recall_at_k: Callable[[list, set, int], float]) -> CheckResult:
    """Exercise 1: recall@k of one ranked list, by hand.

    ``recall_at_k(recommended, relevant, k)`` must return the fraction of the
    relevant items found in the first k recommendations.
    """
    cases = [
        ([3, 1, 7, 9, 4], {1, 4}, 3),
        ([3, 1, 7, 9, 4], {1, 4}, 5),
        ([3, 1, 7, 4, 9], {1, 4}, 3),  # item 4 sits just past the cut-off
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
        "recall asks: of ALL the relevant items, what fraction made it into the "
        "first k recommendations? Only the first k count, and the denominator is "
        "not k.",
        test,
    )


def _repeat_shop() -> data.Dataset:
    """Four items, five users, one repeat purchase and one tie, by hand.

    Users per item: 1 -> 1 (user 1 bought it 3 times), 2 -> 2, 3 -> 3, 4 -> 2.
    """
    pairs = [(1, 1), (1, 1), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (4, 3)]
    pairs += [(4, 4), (5, 4)]
    return data.Dataset.from_frames(
        pd.DataFrame(pairs, columns=[USER, ITEM]), name="repeats"
    )


def _some_users(train: data.Dataset) -> list:
    """The most active user and three others across the activity range."""
    counts = np.diff(train.to_csr().indptr)
    warm = np.flatnonzero(counts > 0)
    warm = warm[np.lexsort((warm, counts[warm]))]  # by activity, then row
    picks = [warm[-1], warm[len(warm) // 2], warm[len(warm) // 4], warm[0]]
    return train.user_ids[np.unique(picks)].tolist()


def check_popular_unseen(
    popular_unseen: Callable[[data.Dataset, int, int], list],
) -> CheckResult:
    """Exercise 2: the Popularity baseline with pandas alone.

    ``popular_unseen(train, user_id, n)`` must return the ids of the n items
    bought by the most training users (each user counted once per item: a
    repeat purchase is not a second vote), leaving out the items the user
    already has, most popular first, ties broken by the smaller item id
    (fewer than n when fewer are left).
    """

    def expected_for(train: data.Dataset, user_id: object, n: int) -> list:
        users_per_item = np.diff(train.to_csr().tocsc().indptr)
        seen = train.to_csr()[train.user_index([user_id])[0]].indices
        order = np.lexsort((train.item_ids, -users_per_item))  # ties: smaller id
        unseen = order[~np.isin(order, seen)]
        return [int(i) for i in train.item_ids[unseen[:n]]]

    def run(train: data.Dataset, cases: list) -> None:
        for user_id, n in cases:
            got = popular_unseen(train, user_id, n)
            if got is None:
                raise NotImplementedError
            got = [int(i) for i in got]
            expected = expected_for(train, user_id, n)
            assert got == expected, (
                f"on {train.name!r}, for user {user_id} with n={n} you returned "
                f"{got[:5]}{'...' if len(got) > 5 else ''}, expected "
                f"{expected[:5]}{'...' if len(expected) > 5 else ''}."
            )

    def test() -> None:
        run(_repeat_shop(), [(5, 3), (1, 3), (4, 2)])  # small first: fast
        shop, _ = split.by_time(data.load("shop"), test_fraction=0.2)
        run(shop, [(user, 10) for user in _some_users(shop)])

    return run_check(
        "Exercise 2 (popular unseen items)",
        "popularity here is how many different users bought an item (the event "
        "log repeats a user who bought it again); the user's own items are out; "
        "sort_values can sort on several columns with one ascending flag each.",
        test,
    )


def check_user_history(
    user_history: Callable[[data.Dataset, object], set],
) -> CheckResult:
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
        "the seed's bug compared int ids with the string '1': nothing matched "
        "and nothing complained. Refuse an id of the wrong type or one the "
        "dataset does not know BEFORE filtering (a Dataset method that maps "
        "user ids to rows already refuses both).",
        test,
    )
