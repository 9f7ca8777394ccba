"""Unit tests of recsys_helpers.data: validation, id maps, matrices, summary."""

import copy

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_helpers import data
from recsys_helpers.data import Dataset


# --------------------------------------------------------------------- fixtures
@pytest.fixture
def toy():
    return data.load("toy")


@pytest.fixture
def frames():
    """Small valid frames with ratings and timestamps (int ids)."""
    interactions = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 3],
            "item_id": [10, 20, 10, 30],
            "rating": [5, 3, 4, 1],
            "timestamp": [100, 200, 150, 50],
        }
    )
    items = pd.DataFrame({"item_id": [30, 10, 20, 40], "title": list("cabd")})
    users = pd.DataFrame({"user_id": [3, 2, 1, 4], "age": [30, 20, 10, 40]})
    return interactions, items, users


def _snapshot(*frames):
    return [(f.copy(deep=True), f.dtypes.copy(), list(f.index)) for f in frames]


def _assert_unchanged(before, *frames):
    for (frame, dtypes, index), now in zip(before, frames, strict=True):
        pd.testing.assert_frame_equal(now, frame)
        pd.testing.assert_series_equal(now.dtypes, dtypes)
        assert list(now.index) == index


# ------------------------------------------------------------------------- toy
def test_toy_is_exactly_the_seed(toy):
    assert toy.name == "toy"
    assert toy.item_ids.tolist() == [1, 2, 3, 4, 5]
    assert toy.items["title"].tolist() == [
        "Kindle",
        "Macbook",
        "Brown Leather Shoes",
        "Samsung 75-Inch QLED TV",
        "LG 60-Inch QLED TV",
    ]
    assert toy.items["tags"].tolist() == [
        "Electronics, Tablet",
        "Electronics, Computer, Apple",
        "Clothing",
        "Electronics, Television, QLED",
        "Electronics, Television, QLED",
    ]
    assert list(toy.items.columns) == ["item_id", "title", "tags"]
    assert toy.user_ids.tolist() == [1, 2, 3, 4, 5]
    assert list(toy.interactions.columns) == ["user_id", "item_id"]
    assert toy.interactions["user_id"].tolist() == [1, 1, 1, 2, 2, 3, 3, 4, 4, 5]
    assert toy.interactions["item_id"].tolist() == [1, 2, 3, 2, 4, 1, 2, 3, 4, 5]
    assert toy.interactions["user_id"].dtype == np.int64
    assert toy.truth is None
    assert toy.n_repeats == 0
    assert toy.distinct() is toy


def test_toy_csr_is_the_seed_matrix(toy):
    expected = np.array(
        [
            [1, 1, 1, 0, 0],
            [0, 1, 0, 1, 0],
            [1, 1, 0, 0, 0],
            [0, 0, 1, 1, 0],
            [0, 0, 0, 0, 1],
        ],
        dtype=float,
    )
    matrix = toy.to_csr()
    assert sp.issparse(matrix) and matrix.format == "csr"
    assert matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix.toarray(), expected)


def test_toy_summary_by_hand(toy):
    # per item: 2, 3, 2, 2, 1 (total 10); per user: 3, 2, 2, 2, 1
    # gini of sorted [1,2,2,2,3]: sum((2i-6) x_i) = -4-4+0+4+12 = 8 -> 8/(5*10)
    s = toy.summary()
    assert s.name == "toy"
    assert s["users"] == 5 and s["items"] == 5 and s["interactions"] == 10
    assert s["events"] == 10 and s["repeat_events"] == 0
    # 90th percentile of [1, 2, 2, 2, 3] (linear): 2 + 0.6 * (3 - 2) = 2.6
    assert s["activity_p90_over_median"] == pytest.approx(2.6 / 2)
    assert s["density"] == pytest.approx(10 / 25)
    assert s["interactions_per_user_median"] == 2.0
    assert s["interactions_per_user_max"] == 3
    assert s["items_never_interacted"] == 0
    assert s["item_gini"] == pytest.approx(0.16)
    assert s["top_10pct_items_share"] == pytest.approx(3 / 10)  # max(1, 0.5) item


def test_summary_counts_items_never_interacted(frames):
    ds = Dataset.from_frames(*frames)
    s = ds.summary()
    assert s["items_never_interacted"] == 1  # item 40
    # counts over the catalogue [1, 2, 1, 0] -> sorted [0,1,1,2]:
    # (-3*0 - 1*1 + 1*1 + 3*2) / (4*4) = 6/16
    assert s["item_gini"] == pytest.approx(6 / 16)
    assert s["density"] == pytest.approx(4 / 16)


def test_repr_names_the_dataset(toy):
    assert repr(toy) == (
        "Dataset('toy': 5 users, 5 items, 10 interactions [user_id, item_id])"
    )


# ----------------------------------------------------------------------- gini
@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([1, 1, 1, 1], 0.0),
        ([0, 0, 0, 1], 0.75),
        ([1, 0, 0, 0], 0.75),  # order does not matter
        ([5, 5], 0.0),
        ([0, 0], 0.0),  # all zero
        ([], 0.0),
        ([1, 3], 0.25),  # (-1*1 + 1*3) / (2*4)
    ],
)
def test_gini_known_values(counts, expected):
    assert data.gini(np.array(counts)) == pytest.approx(expected)


def test_gini_is_scale_invariant_and_bounded():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 50, size=100)
    g = data.gini(x)
    assert 0.0 <= g <= 1 - 1 / x.size
    assert data.gini(3 * x) == pytest.approx(g)


# ------------------------------------------------------------- from_frames ok
def test_from_frames_orders_and_copies(frames):
    interactions, items, users = frames
    ds = Dataset.from_frames(interactions, items, users, name="small")
    assert ds.name == "small"
    # catalogue order is the caller's order, id column first
    assert ds.item_ids.tolist() == [30, 10, 20, 40]
    assert ds.user_ids.tolist() == [3, 2, 1, 4]
    assert list(ds.items.columns) == ["item_id", "title"]
    assert ds.interactions["rating"].dtype == np.float64
    assert ds.interactions["timestamp"].dtype == np.int64
    assert ds.interactions is not interactions
    assert ds.items is not items and ds.users is not users


def test_from_frames_default_catalogues_are_sorted_ids():
    interactions = pd.DataFrame({"user_id": [7, 3, 7], "item_id": ["b", "a", "c"]})
    ds = Dataset.from_frames(interactions)
    assert ds.user_ids.tolist() == [3, 7]
    assert ds.item_ids.tolist() == ["a", "b", "c"]
    assert list(ds.items.columns) == ["item_id"]


def test_from_frames_moves_id_column_first():
    interactions = pd.DataFrame({"user_id": [1], "item_id": [2]})
    items = pd.DataFrame({"title": ["x"], "item_id": [2]})
    ds = Dataset.from_frames(interactions, items)
    assert list(ds.items.columns) == ["item_id", "title"]


def test_from_frames_never_mutates_inputs(frames):
    interactions, items, users = frames
    interactions = interactions.assign(
        timestamp=pd.to_datetime(interactions["timestamp"], unit="s"),
        user_id=interactions["user_id"].astype("int32"),
    )
    interactions = pd.concat([interactions, interactions.iloc[[0]]])  # dup pair
    items = items.assign(item_id=items["item_id"].astype(float))
    before = _snapshot(interactions, items, users)
    Dataset.from_frames(interactions, items, users)
    _assert_unchanged(before, interactions, items, users)


@pytest.fixture
def repeats():
    """User 1 buys item 5 three times (t=100, 200, 300), item 6 once; user 2 item 5.

    The log is not in time order: the rows are t=200, 100, 250, 300, 50.
    """
    interactions = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 2],
            "item_id": [5, 5, 6, 5, 5],
            "rating": [2.0, 1.0, 3.0, 4.0, 5.0],
            "timestamp": [200, 100, 250, 300, 50],
        }
    )
    return Dataset.from_frames(interactions, name="repeats", truth="hidden")


def test_from_frames_keeps_every_row_in_the_given_order(repeats):
    inter = repeats.interactions
    assert len(inter) == 5
    assert inter["timestamp"].tolist() == [200, 100, 250, 300, 50]
    assert inter["rating"].tolist() == [2.0, 1.0, 3.0, 4.0, 5.0]
    assert inter.index.tolist() == list(range(5))
    assert repeats.n_repeats == 2


def test_from_frames_keeps_repeats_without_time():
    interactions = pd.DataFrame(
        {"user_id": [1, 1, 2], "item_id": [5, 5, 5], "rating": [1.0, 4.0, 2.0]}
    )
    ds = Dataset.from_frames(interactions)
    assert ds.interactions.to_dict("list") == interactions.to_dict("list")
    assert ds.n_repeats == 1
    # without a clock, the first row of a pair is its first event
    assert ds.distinct().interactions.to_dict("list") == {
        "user_id": [1, 2],
        "item_id": [5, 5],
        "rating": [1.0, 2.0],
    }


def test_distinct_keeps_the_first_event_of_each_pair(repeats):
    pairs = repeats.distinct()
    assert pairs is not repeats
    # (1, 5): the t=100 row, the earliest; remaining rows keep the log's order
    assert pairs.interactions.to_dict("list") == {
        "user_id": [1, 1, 2],
        "item_id": [5, 6, 5],
        "rating": [1.0, 3.0, 5.0],
        "timestamp": [100, 250, 50],
    }
    assert pairs.interactions.index.tolist() == [0, 1, 2]
    assert pairs.info == {"repeats_collapsed": 2}
    assert pairs.n_repeats == 0
    assert pairs.distinct() is pairs
    assert pairs.name == "repeats"
    assert pairs.items is repeats.items and pairs.users is repeats.users
    assert pairs.truth == "hidden"
    assert len(repeats.interactions) == 5  # the original is untouched


def test_distinct_keeps_earlier_info(repeats):
    tagged = repeats.with_interactions(repeats.interactions, "tagged", {"a": 1})
    assert tagged.distinct().info == {"a": 1, "repeats_collapsed": 2}


def test_to_csr_with_a_repeated_pair():
    interactions = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 2, 1],
            "item_id": [5, 5, 6, 5, 5],
            "rating": [2.0, 1.0, 3.0, 5.0, 4.0],
            "timestamp": [100, 200, 250, 260, 300],
        }
    )
    ds = Dataset.from_frames(interactions)  # users [1, 2] x items [5, 6]
    binary = ds.to_csr()
    np.testing.assert_array_equal(binary.toarray(), [[1, 1], [1, 0]])
    assert binary.nnz == 3 and set(binary.data) == {1.0}
    count = ds.to_csr("count")
    np.testing.assert_array_equal(count.toarray(), [[3, 1], [1, 0]])
    assert count.nnz == 3 and count.dtype == np.float64
    rating = ds.to_csr("rating")  # the pair's latest rating: t=300
    np.testing.assert_array_equal(rating.toarray(), [[4, 3], [5, 0]])
    assert rating.nnz == 3 and rating.has_sorted_indices
    # the distinct view has the same binary matrix, and counts of one
    np.testing.assert_array_equal(ds.distinct().to_csr().toarray(), binary.toarray())
    np.testing.assert_array_equal(
        ds.distinct().to_csr("count").toarray(), [[1, 1], [1, 0]]
    )


def test_summary_counts_distinct_pairs_and_events(repeats):
    s = repeats.summary()
    assert s["events"] == 5 and s["repeat_events"] == 2
    assert s["interactions"] == 3  # distinct pairs
    assert s["density"] == pytest.approx(3 / 4)  # 2 users x 2 items
    assert s["interactions_per_user_median"] == 1.5  # pairs per user: 2, 1
    assert s["interactions_per_user_max"] == 2
    assert s["item_gini"] == pytest.approx(data.gini(np.array([2, 1])))
    # the distinct view differs only in its event counts
    pairs = repeats.distinct().summary()
    assert pairs["events"] == 3 and pairs["repeat_events"] == 0
    same = s.index.drop(["events", "repeat_events"])
    pd.testing.assert_series_equal(pairs[same], s[same])


# ---------------------------------------------------------- identity, equals
def test_equality_is_identity_and_datasets_hash(frames):
    a = Dataset.from_frames(*frames)
    b = Dataset.from_frames(*frames)
    assert a == a and a != b
    assert hash(a) == hash(a)
    cache = {a: "a", b: "b"}
    assert cache[a] == "a" and cache[b] == "b"
    assert a in {a} and b not in {a}


def test_equals_compares_values(frames):
    interactions, items, users = frames
    a = Dataset.from_frames(interactions, items, users, name="x")
    assert a.equals(Dataset.from_frames(interactions, items, users, name="x"))
    assert a.equals(a)
    assert not a.equals(Dataset.from_frames(interactions, items, users, name="y"))
    other_rows = interactions.assign(rating=interactions.rating.replace(5, 4))
    assert not a.equals(Dataset.from_frames(other_rows, items, users, name="x"))
    reordered = Dataset.from_frames(interactions, items.iloc[::-1], users, name="x")
    assert not a.equals(reordered)
    assert not a.equals(a.with_interactions(a.interactions, "x", {"split": "s"}))
    assert not a.equals(interactions)


def test_from_frames_keeps_row_order_with_a_repeated_index():
    # concat without ignore_index gives index 0, 1, 0, 1
    a = pd.DataFrame({"user_id": [1, 1], "item_id": [1, 2]})
    b = pd.DataFrame({"user_id": [2, 2], "item_id": [3, 4]})
    ds = Dataset.from_frames(pd.concat([a, b]))
    assert ds.interactions["item_id"].tolist() == [1, 2, 3, 4]
    assert ds.interactions.index.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("tz", [None, "UTC", "Europe/Paris"])
def test_datetime_timestamps_become_int_seconds(tz):
    when = pd.to_datetime(["2025-01-01 00:00:00", "2025-01-02 00:00:01"])
    if tz is not None:
        when = when.tz_localize("UTC").tz_convert(tz)
    interactions = pd.DataFrame(
        {"user_id": [1, 2], "item_id": [1, 1], "timestamp": when}
    )
    ds = Dataset.from_frames(interactions)
    assert ds.interactions["timestamp"].dtype == np.int64
    assert ds.interactions["timestamp"].tolist() == [1_735_689_600, 1_735_776_001]


def test_float_ids_that_are_whole_become_int():
    interactions = pd.DataFrame({"user_id": [1.0, 2.0], "item_id": [3.0, 3.0]})
    ds = Dataset.from_frames(interactions)
    assert ds.interactions["user_id"].dtype == np.int64
    assert ds.user_ids.tolist() == [1, 2]


def test_from_frames_stores_the_truth(frames):
    interactions, items, users = frames
    truth = object()
    ds = Dataset.from_frames(interactions, items, users, truth=truth)
    assert ds.truth is truth
    part = ds.with_interactions(ds.interactions.iloc[:2], "part", {})
    assert part.truth is truth
    assert Dataset.from_frames(interactions).truth is None


def test_the_shop_carries_its_truth():
    from recsys_helpers.datasets.shop import ShopTruth

    shop = data.load("shop", n_users=30, n_items=100)
    assert isinstance(shop.truth, ShopTruth)
    assert shop.truth.n_items == shop.n_items


# --------------------------------------------------------- from_frames errors
@pytest.mark.parametrize(
    ("drop", "missing"),
    [(["user_id"], "user_id"), (["item_id"], "item_id"), (["user_id", "item_id"], "")],
)
def test_missing_interaction_columns_are_named(drop, missing):
    interactions = pd.DataFrame({"user_id": [1], "item_id": [1], "x": [0]})
    with pytest.raises(KeyError) as error:
        Dataset.from_frames(interactions.drop(columns=drop))
    for column in drop:
        assert column in str(error.value)
    assert "interactions" in str(error.value)


def test_missing_catalogue_columns_are_named(frames):
    interactions, items, users = frames
    with pytest.raises(KeyError, match="items is missing column"):
        Dataset.from_frames(interactions, items.rename(columns={"item_id": "id"}))
    with pytest.raises(KeyError, match=r"users is missing column\(s\) \['user_id'\]"):
        Dataset.from_frames(interactions, items, users.rename(columns={"user_id": "u"}))


def test_interactions_must_be_a_dataframe():
    with pytest.raises(TypeError, match="DataFrame"):
        Dataset.from_frames({"user_id": [1], "item_id": [1]})


@pytest.mark.parametrize("column", ["user_id", "item_id"])
def test_nan_ids_raise(column):
    interactions = pd.DataFrame({"user_id": [1.0, 2.0], "item_id": [1.0, 2.0]})
    interactions.loc[1, column] = np.nan
    with pytest.raises(ValueError, match=f"{column} has 1 missing"):
        Dataset.from_frames(interactions)


def test_nan_string_ids_raise():
    interactions = pd.DataFrame({"user_id": ["a", None], "item_id": ["x", "y"]})
    with pytest.raises(ValueError, match="missing"):
        Dataset.from_frames(interactions)


@pytest.mark.parametrize("column", ["user_id", "item_id"])
def test_mixed_id_types_raise(column):
    interactions = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2]})
    interactions[column] = pd.Series([1, "1"], dtype=object)
    with pytest.raises(TypeError, match="mixes value types"):
        Dataset.from_frames(interactions)


def test_fractional_and_boolean_ids_raise():
    with pytest.raises(TypeError, match="non-integer"):
        Dataset.from_frames(pd.DataFrame({"user_id": [1.5], "item_id": [1]}))
    with pytest.raises(TypeError, match="booleans"):
        Dataset.from_frames(pd.DataFrame({"user_id": [True], "item_id": [1]}))


def test_int_interactions_with_str_catalogue_raise():
    interactions = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2]})
    items = pd.DataFrame({"item_id": ["1", "2"]})
    with pytest.raises(TypeError, match="use one type for the ids"):
        Dataset.from_frames(interactions, items)
    users = pd.DataFrame({"user_id": ["1", "2"]})
    with pytest.raises(TypeError, match="user_id is int64 in interactions"):
        Dataset.from_frames(interactions, users=users)


def test_duplicate_catalogue_ids_raise():
    interactions = pd.DataFrame({"user_id": [1], "item_id": [1]})
    with pytest.raises(ValueError, match=r"items\.item_id has duplicate ids"):
        Dataset.from_frames(interactions, pd.DataFrame({"item_id": [1, 2, 1]}))
    with pytest.raises(ValueError, match=r"users\.user_id has duplicate ids"):
        Dataset.from_frames(interactions, users=pd.DataFrame({"user_id": [1, 1]}))


def test_interactions_naming_unknown_items_or_users_raise(frames):
    interactions, items, users = frames
    with pytest.raises(ValueError, match=r"item_ids missing from items, e.g. \[20\]"):
        Dataset.from_frames(interactions, items[items.item_id != 20], users)
    with pytest.raises(ValueError, match=r"2 interaction\(s\) name user_ids"):
        Dataset.from_frames(interactions, items, users[users.user_id != 1])


def test_non_numeric_rating_raises():
    interactions = pd.DataFrame(
        {"user_id": [1, 2], "item_id": [1, 1], "rating": ["good", "bad"]}
    )
    with pytest.raises(TypeError, match="rating must be numeric"):
        Dataset.from_frames(interactions)
    interactions["rating"] = [1.0, np.nan]
    with pytest.raises(ValueError, match="rating has missing"):
        Dataset.from_frames(interactions)


@pytest.mark.parametrize("bad", [["a", "b"], [1.0, np.nan]])
def test_bad_timestamps_raise(bad):
    interactions = pd.DataFrame(
        {"user_id": [1, 2], "item_id": [1, 1], "timestamp": bad}
    )
    with pytest.raises(ValueError, match="timestamp"):
        Dataset.from_frames(interactions)


# --------------------------------------------------------------------- id maps
def test_user_and_item_index(frames):
    ds = Dataset.from_frames(*frames)
    np.testing.assert_array_equal(ds.user_index([1, 3, 4]), [2, 0, 3])
    np.testing.assert_array_equal(ds.item_index(20), [2])
    np.testing.assert_array_equal(ds.item_index(np.array([40, 30])), [3, 0])
    np.testing.assert_array_equal(ds.user_index(pd.Series([2])), [1])
    np.testing.assert_array_equal(ds.user_index(np.float64(2.0)), [1])
    assert ds.user_index([]).size == 0
    assert ds.user_index([1]).dtype == np.int64


def test_unknown_ids_raise_key_error(toy):
    with pytest.raises(KeyError, match=r"unknown user id\(s\) \[9\]"):
        toy.user_index(9)
    with pytest.raises(KeyError, match=r"unknown item id\(s\) \[0, 6\]"):
        toy.item_index([1, 0, 6])


@pytest.mark.parametrize("query", ["1", ["1", "2"], np.array(["1"])])
def test_the_seeds_string_user_id_bug_is_caught(toy, query):
    # the seed's `df_user.user_id == '1'`: ids are ints, '1' silently matches none
    with pytest.raises(TypeError, match="did you mean user_id == 1"):
        toy.user_index(query)


def test_mistyped_id_error_names_the_offending_id(toy):
    with pytest.raises(TypeError, match=r"got str '2': did you mean item_id == 2"):
        toy.item_index([1, "2"])


def test_numbers_for_string_ids_raise():
    ds = Dataset.from_frames(
        pd.DataFrame({"user_id": ["a", "1"], "item_id": ["x", "y"]})
    )
    with pytest.raises(TypeError, match="did you mean '1'"):
        ds.user_index(1)
    with pytest.raises(TypeError, match="ids are strings"):
        ds.item_index([2.0])
    np.testing.assert_array_equal(ds.user_index(["1", "a"]), [0, 1])
    np.testing.assert_array_equal(ds.item_index(np.array(["y"])), [1])
    with pytest.raises(KeyError):
        ds.user_index("b")


def test_two_dimensional_ids_raise(toy):
    with pytest.raises(ValueError, match="one-dimensional"):
        toy.user_index([[1, 2]])


# ----------------------------------------------------------------------- to_csr
def test_to_csr_implicit_and_ratings(frames):
    ds = Dataset.from_frames(*frames)
    # users [3, 2, 1, 4] x items [30, 10, 20, 40]
    implicit = np.array(
        [[1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]], dtype=float
    )
    ratings = np.array(
        [[1, 0, 0, 0], [0, 4, 0, 0], [0, 5, 3, 0], [0, 0, 0, 0]], dtype=float
    )
    np.testing.assert_array_equal(ds.to_csr().toarray(), implicit)
    matrix = ds.to_csr(values="rating")
    assert matrix.shape == (4, 4) and matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix.toarray(), ratings)
    assert matrix.nnz == 4 and matrix.has_sorted_indices


def test_to_csr_with_an_absent_column_raises(toy):
    with pytest.raises(KeyError, match="rating"):
        toy.to_csr(values="rating")


def test_to_csr_with_string_ids():
    interactions = pd.DataFrame({"user_id": ["b", "a"], "item_id": ["y", "x"]})
    matrix = Dataset.from_frames(interactions).to_csr()
    np.testing.assert_array_equal(matrix.toarray(), np.eye(2))


# ----------------------------------------------------------------- loaders
def test_load_unknown_name_raises():
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        data.load("nope")


@pytest.mark.parametrize("kwargs", [{"n_users": 5}, {"n_items": 10}, {"seed": 1}])
def test_shop_arguments_for_another_dataset_raise(kwargs):
    with pytest.raises(ValueError, match="apply to 'shop' only"):
        data.load("toy", **kwargs)


def test_default_dataset_name(monkeypatch):
    monkeypatch.delenv("RECSYS_DATASET", raising=False)
    assert data.default_dataset_name() == "shop"
    monkeypatch.setenv("RECSYS_DATASET", "  ")
    assert data.default_dataset_name() == "shop"
    monkeypatch.setenv("RECSYS_DATASET", "movielens-latest-small")
    assert data.default_dataset_name() == "movielens-latest-small"
    monkeypatch.setenv("RECSYS_DATASET", "toy")
    assert data.default_dataset_name() == "toy"
    monkeypatch.setenv("RECSYS_DATASET", "netflix")
    with pytest.raises(ValueError, match="RECSYS_DATASET='netflix'"):
        data.default_dataset_name()


def test_every_listed_name_is_known():
    assert data.DATASETS[:2] == ("toy", "shop")
    for name in ("toy", "shop"):
        assert data.load(name).name == name


def test_with_interactions_keeps_the_id_space(toy):
    part = toy.with_interactions(
        toy.interactions.iloc[[3, 1]], name="part", info={"a": 1}
    )
    assert part.items is toy.items and part.users is toy.users
    assert part.interactions.index.tolist() == [0, 1]
    assert part.name == "part" and part.info == {"a": 1}
    assert len(toy.interactions) == 10  # original untouched


def test_copy_module_used_for_deep_snapshots(frames):
    # guard of the helper itself: a mutated frame is detected
    interactions, _, _ = frames
    before = _snapshot(interactions)
    changed = copy.deepcopy(interactions)
    changed.loc[0, "rating"] = 2
    with pytest.raises(AssertionError):
        _assert_unchanged(before, changed)


def test_rating_matrix_takes_the_latest_rating_by_time():
    frame = pd.DataFrame(
        {
            "user_id": [1, 1],
            "item_id": [5, 5],
            "rating": [1.0, 4.0],
            "timestamp": [300, 100],
        }
    )
    ds = Dataset.from_frames(frame)
    assert ds.to_csr("rating").toarray().tolist() == [[1.0]]
    assert ds.to_csr("count").toarray().tolist() == [[2.0]]
