"""Unit tests of recsys_helpers.split on the shop and on hand-made frames."""

from collections import Counter

import pandas as pd
import pytest

from recsys_helpers import data, split
from recsys_helpers.data import Dataset

SPLITS = {
    "random": lambda ds, **kw: split.random(ds, test_fraction=0.25, seed=1, **kw),
    "by_time": lambda ds, **kw: split.by_time(ds, test_fraction=0.2, **kw),
    "leave_last_out": lambda ds, **kw: split.leave_last_out(ds, **kw),
    "global_time": lambda ds, **kw: split.global_time(ds, test_fraction=0.2, **kw),
}
COLD_KEYS = ("cold_users_dropped", "cold_items_dropped", "cold_rows_dropped")


@pytest.fixture(scope="module")
def shop():
    return data.load("shop")


@pytest.fixture
def small():
    """10 interactions at times 1..10; item 5 is never bought, user 4 comes last.

    user 1: items 1, 2, 3 at t=1, 2, 3 and item 4 at t=9
    user 2: items 1, 2, 4 at t=4, 5, 6
    user 3: items 2, 3 at t=7, 8
    user 4: item 1 at t=10
    """
    interactions = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2, 2, 3, 3, 1, 4],
            "item_id": [1, 2, 3, 1, 2, 4, 2, 3, 4, 1],
            "rating": [5.0, 4, 3, 2, 1, 2, 3, 4, 5, 1],
            "timestamp": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        }
    )
    items = pd.DataFrame({"item_id": [1, 2, 3, 4, 5], "title": list("abcde")})
    users = pd.DataFrame({"user_id": [1, 2, 3, 4]})
    return Dataset.from_frames(interactions, items, users, name="small")


TIME_SPLITS = ["by_time", "leave_last_out", "global_time"]


def _pairs(ds):
    return set(zip(ds.interactions.user_id, ds.interactions.item_id, strict=True))


def _rows(ds):
    return set(map(tuple, ds.interactions.itertuples(index=False)))


def _row_counts(frame):
    """The rows of a frame as a multiset."""
    return Counter(map(tuple, frame.itertuples(index=False)))


def _repeat_rows(train, test):
    """Test rows whose (user, item) pair is also in train, counted by hand."""
    seen = _pairs(train)
    pairs = zip(test.interactions.user_id, test.interactions.item_id, strict=True)
    return sum(pair in seen for pair in pairs)


def _check_partition(ds, train, test, dropped, how):
    """Train and test divide the view ``how`` splits, minus ``dropped`` cold rows.

    Time splits divide the event log: every event on exactly one side (a
    repeat may sit on both sides). ``random`` divides the distinct pairs: no
    pair on both sides.
    """
    view = ds.distinct() if how == "random" else ds
    both = _row_counts(train.interactions) + _row_counts(test.interactions)
    assert not both - _row_counts(view.interactions)  # nothing invented
    assert len(train.interactions) + len(test.interactions) + dropped == len(
        view.interactions
    )
    if dropped == 0:
        assert both == _row_counts(view.interactions)
    assert test.info["repeat_rows"] == _repeat_rows(train, test)
    if how == "random" or ds.n_repeats == 0:
        assert not _pairs(train) & _pairs(test)
        assert test.info["repeat_rows"] == 0
    for part in (train, test):
        assert part.items is ds.items and part.users is ds.users
        pd.testing.assert_frame_equal(part.items, ds.items)
        pd.testing.assert_frame_equal(part.users, ds.users)
        assert part.truth is ds.truth
        assert list(part.interactions.columns) == list(ds.interactions.columns)
        assert part.interactions.index.tolist() == list(range(len(part.interactions)))
    assert train.name.endswith("/train") and test.name.endswith("/test")


# ------------------------------------------------------------ shared properties
@pytest.mark.parametrize("how", list(SPLITS))
@pytest.mark.parametrize("drop_cold", [True, False])
def test_partition_on_shop(shop, how, drop_cold):
    before = shop.interactions.copy(deep=True)
    train, test = SPLITS[how](shop, drop_cold=drop_cold)
    dropped = test.info.get("cold_rows_dropped", 0)
    _check_partition(shop, train, test, dropped, how)
    pd.testing.assert_frame_equal(shop.interactions, before)  # not mutated
    if drop_cold:
        assert set(test.interactions.user_id) <= set(train.interactions.user_id)
        assert set(test.interactions.item_id) <= set(train.interactions.item_id)
    else:
        assert not any(key in test.info for key in COLD_KEYS)
        assert dropped == 0


@pytest.mark.parametrize("how", TIME_SPLITS)
def test_time_splits_keep_repeats_on_both_sides(shop, how):
    train, test = SPLITS[how](shop, drop_cold=False)
    assert test.info["repeat_rows"] > 0
    assert "repeats_collapsed" not in test.info
    # only consumables are bought again
    shared = _pairs(train) & _pairs(test)
    kind = shop.items.set_index("item_id")["kind"]
    assert {kind[item] for _, item in shared} == {"consumable"}


def test_random_splits_distinct_pairs_of_the_shop(shop):
    train, test = SPLITS["random"](shop, drop_cold=False)
    assert test.info["repeats_collapsed"] == shop.n_repeats > 0
    assert test.info["repeat_rows"] == 0
    assert train.n_repeats == 0 and test.n_repeats == 0
    assert len(train.interactions) + len(test.interactions) == len(
        shop.distinct().interactions
    )


@pytest.mark.parametrize("how", list(SPLITS))
def test_partition_on_small_frames(small, how):
    before = small.interactions.copy(deep=True)
    train, test = SPLITS[how](small, drop_cold=False)
    _check_partition(small, train, test, 0, how)
    pd.testing.assert_frame_equal(small.interactions, before)


@pytest.mark.parametrize("how", list(SPLITS))
def test_cold_rows_are_counted(shop, how):
    train, test = SPLITS[how](shop, drop_cold=True)
    _, kept = SPLITS[how](shop, drop_cold=False)
    full = kept.interactions
    trained_users = set(train.interactions.user_id)
    trained_items = set(train.interactions.item_id)
    cold_user = ~full.user_id.isin(trained_users)
    cold_item = ~full.item_id.isin(trained_items)
    assert test.info["cold_rows_dropped"] == int((cold_user | cold_item).sum())
    assert test.info["cold_users_dropped"] == full.user_id[cold_user].nunique()
    assert test.info["cold_items_dropped"] == full.item_id[cold_item].nunique()
    assert _rows(test) == set(
        map(tuple, full[~(cold_user | cold_item)].itertuples(index=False))
    )
    # a cold row is never a repeat: dropping them keeps every repeat row
    assert test.info["repeat_rows"] == kept.info["repeat_rows"]


@pytest.mark.parametrize("how", ["random", "by_time"])
def test_per_user_test_counts(shop, how):
    # random counts each user's distinct pairs, by_time their events
    f = {"random": 0.25, "by_time": 0.2}[how]
    _, test = SPLITS[how](shop, drop_cold=False)
    view = shop.distinct() if how == "random" else shop
    n = view.interactions.groupby("user_id").size()
    got = test.interactions.groupby("user_id").size().reindex(n.index, fill_value=0)
    expected = n.map(lambda c: min(max(1, round(f * c)), c - 1))
    pd.testing.assert_series_equal(got, expected, check_names=False)


def test_by_time_tests_each_users_latest(shop):
    train, test = split.by_time(shop, 0.2, drop_cold=False)
    last_train = train.interactions.groupby("user_id").timestamp.max()
    first_test = test.interactions.groupby("user_id").timestamp.min()
    assert (first_test >= last_train.reindex(first_test.index)).all()


def test_leave_last_out_on_shop(shop):
    _, test = split.leave_last_out(shop, drop_cold=False)
    assert test.interactions.user_id.is_unique
    assert len(test.interactions) == shop.n_users  # every shop user has >= 5
    latest = shop.interactions.groupby("user_id").timestamp.max()
    got = test.interactions.set_index("user_id").timestamp
    pd.testing.assert_series_equal(
        got.sort_index(), latest.reindex(got.index).sort_index(), check_names=False
    )


def test_global_time_cutoff_on_shop(shop):
    train, test = split.global_time(shop, 0.2, drop_cold=False)
    cutoff = test.info["cutoff"]
    assert train.interactions.timestamp.max() < cutoff
    assert cutoff <= test.interactions.timestamp.min()
    assert len(test.interactions) / len(shop.interactions) == pytest.approx(
        0.2, abs=0.01
    )
    _, warm = split.global_time(shop, 0.2)
    assert warm.info["cutoff"] == cutoff
    assert warm.info["cold_items_dropped"] > 0  # items launched after the cut-off


# --------------------------------------------------------- hand-computed cases
def test_by_time_small_by_hand(small):
    # f=0.5: user 1 (n=4) -> 2 latest: items 3, 4; user 2 (n=3) -> round(1.5)=2:
    # items 2, 4; user 3 (n=2) -> 1: item 3; user 4 (n=1) -> 0.
    train, test = split.by_time(small, 0.5, drop_cold=False)
    assert _pairs(test) == {(1, 3), (1, 4), (2, 2), (2, 4), (3, 3)}
    assert _pairs(train) == {(1, 1), (1, 2), (2, 1), (3, 2), (4, 1)}
    # items 3 and 4 have no training row: 4 test rows are cold
    train, test = split.by_time(small, 0.5)
    assert _pairs(test) == {(2, 2)}
    assert test.info == {
        "split": "by_time(0.5)",
        "cold_users_dropped": 0,
        "cold_items_dropped": 2,
        "cold_rows_dropped": 4,
        "repeat_rows": 0,
    }
    assert train.info == {"split": "by_time(0.5)"}


def test_by_time_small_quarter(small):
    # f=0.25: user 1 -> 1 (item 4), user 2 -> round(0.75)=1 (item 4),
    # user 3 -> max(1, round(0.5)=0)=1 (item 3), user 4 -> 0
    _, test = split.by_time(small, 0.25, drop_cold=False)
    assert _pairs(test) == {(1, 4), (2, 4), (3, 3)}
    _, test = split.by_time(small, 0.25)
    assert _pairs(test) == {(3, 3)}
    assert test.info["cold_rows_dropped"] == 2
    assert test.info["cold_items_dropped"] == 1


def test_leave_last_out_small_by_hand(small):
    train, test = split.leave_last_out(small, drop_cold=False)
    assert _pairs(test) == {(1, 4), (2, 4), (3, 3)}  # user 4 has one row
    assert test.info == {"split": "leave_last_out", "repeat_rows": 0}
    assert len(train.interactions) == 7


def test_global_time_small_by_hand(small):
    # quantile 0.8 ("higher") of times 1..10: position 7.2 -> 9
    train, test = split.global_time(small, 0.2, drop_cold=False)
    assert test.info["cutoff"] == 9
    assert _pairs(test) == {(1, 4), (4, 1)}
    assert sorted(train.interactions.timestamp) == list(range(1, 9))
    train, test = split.global_time(small, 0.2)
    assert _pairs(test) == {(1, 4)}  # user 4 is cold
    assert test.info == {
        "split": "global_time(0.2)",
        "cold_users_dropped": 1,
        "cold_items_dropped": 0,
        "cold_rows_dropped": 1,
        "repeat_rows": 0,
        "cutoff": 9,
    }


@pytest.fixture
def bought_again():
    """A log with repeats, at times 1..11 (rows: user, item, timestamp).

    user 1: item 1 (t=1), 2 (t=2), 1 (t=3), 3 (t=4), 1 (t=5)
    user 2: item 2 (t=6), 2 (t=7), 1 (t=8)
    user 3: item 4 (t=9), 5 (t=10), 5 (t=11)
    """
    rows = [
        (1, 1, 1),
        (1, 2, 2),
        (1, 1, 3),
        (1, 3, 4),
        (1, 1, 5),
        (2, 2, 6),
        (2, 2, 7),
        (2, 1, 8),
        (3, 4, 9),
        (3, 5, 10),
        (3, 5, 11),
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    return Dataset.from_frames(frame, name="again")


def _triples(ds):
    return sorted(map(tuple, ds.interactions.itertuples(index=False)))


def test_leave_last_out_with_repeats_by_hand(bought_again):
    train, test = split.leave_last_out(bought_again, drop_cold=False)
    # (1, 1) and (3, 5) were bought in train too; (2, 1) was not
    assert _triples(test) == [(1, 1, 5), (2, 1, 8), (3, 5, 11)]
    assert test.info == {"split": "leave_last_out", "repeat_rows": 2}
    assert len(train.interactions) == 8
    _check_partition(bought_again, train, test, 0, "leave_last_out")


def test_by_time_with_repeats_by_hand(bought_again):
    # f=0.5: user 1 (n=5) -> rint(2.5)=2, user 2 -> rint(1.5)=2, user 3 -> 2
    train, test = split.by_time(bought_again, 0.5, drop_cold=False)
    assert _triples(test) == [
        (1, 1, 5),  # repeat of (1, 1) in train
        (1, 3, 4),
        (2, 1, 8),
        (2, 2, 7),  # repeat of (2, 2) in train
        (3, 5, 10),  # (3, 5) twice in test, never in train: no repeat row
        (3, 5, 11),
    ]
    assert test.info["repeat_rows"] == 2
    _check_partition(bought_again, train, test, 0, "by_time")
    # items 3 and 5 are cold; the repeats stay
    _, warm = split.by_time(bought_again, 0.5)
    assert _triples(warm) == [(1, 1, 5), (2, 1, 8), (2, 2, 7)]
    assert warm.info == {
        "split": "by_time(0.5)",
        "cold_users_dropped": 0,
        "cold_items_dropped": 2,
        "cold_rows_dropped": 3,
        "repeat_rows": 2,
    }


def test_global_time_with_repeats_by_hand(bought_again):
    # quantile 0.6 ("higher") of times 1..11: position 6 -> t=7
    train, test = split.global_time(bought_again, 0.4, drop_cold=False)
    assert test.info["cutoff"] == 7
    assert _triples(test) == [(2, 1, 8), (2, 2, 7), (3, 4, 9), (3, 5, 10), (3, 5, 11)]
    assert test.info["repeat_rows"] == 1  # (2, 2); (2, 1) was user 1's in train
    _check_partition(bought_again, train, test, 0, "global_time")


def test_random_with_repeats_by_hand(bought_again):
    # distinct pairs: user 1 {1, 2, 3}, user 2 {2, 1}, user 3 {4, 5}
    for seed in range(5):
        train, test = split.random(bought_again, 0.5, seed=seed, drop_cold=False)
        assert test.info["repeats_collapsed"] == 4
        assert test.info["repeat_rows"] == 0
        counts = test.interactions.groupby("user_id").size().to_dict()
        assert counts == {1: 2, 2: 1, 3: 1}
        _check_partition(bought_again, train, test, 0, "random")
        # each pair keeps its first event
        first = {(1, 1): 1, (1, 2): 2, (1, 3): 4, (2, 2): 6, (2, 1): 8}
        first |= {(3, 4): 9, (3, 5): 10}
        for part in (train, test):
            for user, item, t in _triples(part):
                assert first[(user, item)] == t


def test_by_time_ties_keep_row_order():
    interactions = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 2],
            "item_id": [1, 2, 3, 1, 3],
            "timestamp": [5, 5, 1, 0, 0],
        }
    )
    ds = Dataset.from_frames(interactions)
    _, test = split.by_time(ds, 0.3, drop_cold=False)
    # user 1: order by time is item 3 (t=1), 1, 2 (tie, row order) -> item 2
    # user 2: tie at t=0 -> the later row, item 3
    assert _pairs(test) == {(1, 2), (2, 3)}


def test_random_small_counts_and_rows(small):
    for seed in range(5):
        train, test = split.random(small, 0.5, seed=seed, drop_cold=False)
        counts = test.interactions.groupby("user_id").size().to_dict()
        assert counts == {1: 2, 2: 2, 3: 1}
        _check_partition(small, train, test, 0, "random")


# ------------------------------------------------------------ random seeding
def test_random_is_seeded(shop):
    a_train, a_test = split.random(shop, 0.25, seed=3)
    b_train, b_test = split.random(shop, 0.25, seed=3)
    pd.testing.assert_frame_equal(a_test.interactions, b_test.interactions)
    pd.testing.assert_frame_equal(a_train.interactions, b_train.interactions)
    _, c_test = split.random(shop, 0.25, seed=4)
    assert _pairs(a_test) != _pairs(c_test)
    assert len(_pairs(a_test) & _pairs(c_test)) < 0.5 * len(_pairs(a_test))


def test_random_is_not_by_time(shop):
    _, test = split.random(shop, 0.2, seed=0, drop_cold=False)
    _, latest = split.by_time(shop, 0.2, drop_cold=False)
    assert len(_pairs(test) & _pairs(latest)) < 0.5 * len(_pairs(latest))


def test_split_of_a_split(shop):
    train, _ = split.by_time(shop, 0.2)
    fit, valid = split.by_time(train, 0.2)
    assert fit.name == "shop/train/train" and valid.name == "shop/train/test"
    assert _pairs(fit) | _pairs(valid) <= _pairs(train)
    assert fit.items is shop.items
    assert fit.truth is shop.truth and valid.truth is shop.truth


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
@pytest.mark.parametrize("how", ["random", "by_time", "global_time"])
def test_fraction_outside_unit_interval_raises(small, how, fraction):
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\)"):
        getattr(split, how)(small, test_fraction=fraction)


@pytest.mark.parametrize("how", ["by_time", "leave_last_out", "global_time"])
def test_time_splits_need_timestamps(how):
    toy = data.load("toy")
    with pytest.raises(ValueError, match=r"needs a 'timestamp'.*split\.random"):
        getattr(split, how)(toy)


def test_random_works_without_timestamps():
    toy = data.load("toy")
    train, test = split.random(toy, 0.5, seed=0, drop_cold=False)
    # users with 3, 2, 2, 2, 1 rows -> 2, 1, 1, 1, 0 test rows
    assert len(test.interactions) == 5 and len(train.interactions) == 5


@pytest.mark.parametrize("how", list(SPLITS))
def test_split_leaving_no_test_rows_raises(how):
    one_each = pd.DataFrame(
        {"user_id": [1, 2, 3], "item_id": [1, 2, 3], "timestamp": [1, 2, 3]}
    )
    ds = Dataset.from_frames(one_each, name="single")
    with pytest.raises(ValueError, match=r"no test interactions|cannot cut"):
        SPLITS[how](ds)


def test_split_whose_test_is_all_cold_raises(small):
    # f=0.5 leaves only (2, 2) warm; dropping user 2's rows makes all test cold
    rows = small.interactions[small.interactions.user_id != 2]
    ds = Dataset.from_frames(rows, small.items, small.users)
    with pytest.raises(ValueError, match="left no test interactions in 'custom'"):
        split.by_time(ds, 0.5)


def test_global_time_with_equal_timestamps_raises():
    ds = Dataset.from_frames(
        pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 1], "timestamp": 7})
    )
    with pytest.raises(ValueError, match="cut-off leaves train or test empty"):
        split.global_time(ds, 0.5)
