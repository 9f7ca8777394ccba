"""Unit tests of recsys_helpers.split on the shop and on hand-made frames."""

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


def _pairs(ds):
    return set(zip(ds.interactions.user_id, ds.interactions.item_id, strict=True))


def _rows(ds):
    return set(map(tuple, ds.interactions.itertuples(index=False)))


def _check_partition(ds, train, test, dropped):
    """Train and test partition the rows of ds minus ``dropped`` cold rows."""
    assert not _pairs(train) & _pairs(test)
    assert _rows(train) | _rows(test) <= _rows(ds)
    assert len(train.interactions) + len(test.interactions) + dropped == len(
        ds.interactions
    )
    for part in (train, test):
        assert part.items is ds.items and part.users is ds.users
        pd.testing.assert_frame_equal(part.items, ds.items)
        pd.testing.assert_frame_equal(part.users, ds.users)
        assert part.affinity is ds.affinity
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
    _check_partition(shop, train, test, dropped)
    pd.testing.assert_frame_equal(shop.interactions, before)  # not mutated
    if drop_cold:
        assert set(test.interactions.user_id) <= set(train.interactions.user_id)
        assert set(test.interactions.item_id) <= set(train.interactions.item_id)
    else:
        assert not any(key in test.info for key in COLD_KEYS)
        assert dropped == 0


@pytest.mark.parametrize("how", list(SPLITS))
def test_partition_on_small_frames(small, how):
    before = small.interactions.copy(deep=True)
    train, test = SPLITS[how](small, drop_cold=False)
    _check_partition(small, train, test, 0)
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


@pytest.mark.parametrize("how", ["random", "by_time"])
def test_per_user_test_counts(shop, how):
    f = {"random": 0.25, "by_time": 0.2}[how]
    _, test = SPLITS[how](shop, drop_cold=False)
    n = shop.interactions.groupby("user_id").size()
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
    assert test.info == {"split": "leave_last_out"}
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
        "cutoff": 9,
    }


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
        _check_partition(small, train, test, 0)


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
