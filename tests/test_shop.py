"""The simulated shop: a year of a believable shop, with a clock and a hidden truth."""

import numpy as np
import pandas as pd
import pytest

from recsys_helpers import data, split
from recsys_helpers.datasets.shop import (
    CATALOG,
    CONSUMABLES,
    DAY,
    HABITS,
    SEASONS,
    YEAR_START,
    make_shop,
)

YEAR_END = pd.Timestamp("2026-01-01", tz="UTC").timestamp()
N_SUBCATEGORIES = sum(len(subs) for subs in CATALOG.values())


@pytest.fixture(scope="module")
def shop():
    return data.load("shop")


@pytest.fixture(scope="module")
def events(shop):
    """The event log with each item's subcategory, kind and launch time."""
    columns = ["item_id", "category", "subcategory", "kind", "launched"]
    return shop.interactions.merge(shop.items[columns], on="item_id", how="left")


@pytest.fixture(scope="module")
def sample(shop):
    """300 events of the log, drawn once (seeded)."""
    rng = np.random.default_rng(0)
    picked = rng.choice(len(shop.interactions), size=300, replace=False)
    return shop.interactions.iloc[np.sort(picked)]


def _sub_mass(shop, proba, subcategory):
    """Probability mass of each row on the items of one subcategory."""
    cols = shop.item_index(
        shop.items.loc[shop.items.subcategory == subcategory].item_id
    )
    return proba[:, cols].sum(axis=1)


# ----------------------------------------------------------- determinism, size
def test_deterministic(shop):
    again = data.load("shop")
    pd.testing.assert_frame_equal(shop.interactions, again.interactions)
    pd.testing.assert_frame_equal(shop.items, again.items)
    pd.testing.assert_frame_equal(shop.users, again.users)
    for name in ("appeal", "interest_before", "interest_after", "repeat_days"):
        np.testing.assert_array_equal(
            getattr(shop.truth, name), getattr(again.truth, name)
        )


def test_another_seed_gives_another_shop():
    a, b = make_shop(n_users=50, seed=1), make_shop(n_users=50, seed=2)
    assert not a.interactions.equals(b.interactions)
    assert not a.items.equals(b.items)
    again = make_shop(n_users=50, seed=1)
    pd.testing.assert_frame_equal(a.interactions, again.interactions)


def test_default_size(shop):
    assert shop.name == "shop"
    assert shop.n_users == 1000 and shop.n_items == 400
    assert shop.item_ids.tolist() == list(range(1, 401))
    assert shop.user_ids.tolist() == list(range(1, 1001))
    assert shop.truth.n_items == 400
    np.testing.assert_array_equal(shop.truth.user_ids, shop.user_ids)
    np.testing.assert_array_equal(shop.truth.item_ids, shop.item_ids)
    per_user = shop.interactions.groupby("user_id").size()
    assert len(per_user) == shop.n_users and per_user.min() >= 5


def test_size_arguments():
    small = data.load("shop", n_users=60, n_items=100, seed=3)
    assert small.n_users == 60 and small.n_items == 100
    assert small.truth.n_items == 100 and small.truth.user_ids.size == 60
    assert set(small.interactions.user_id) <= set(range(1, 61))
    frames = make_shop(n_users=60, n_items=100, seed=3)
    pd.testing.assert_frame_equal(frames.interactions, small.interactions)
    # the smallest catalogue: 3 items per subcategory
    least = make_shop(n_users=1, n_items=3 * N_SUBCATEGORIES)
    assert least.items.subcategory.value_counts().eq(3).all()
    assert len(least.users) == 1


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"n_items": 3 * N_SUBCATEGORIES - 1}, "n_items"),
        ({"n_items": 10}, "n_items"),
        ({"n_users": 0}, "n_users"),
        ({"n_users": -5}, "n_users"),
    ],
)
def test_bad_sizes_raise(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        make_shop(**kwargs)
    with pytest.raises(ValueError, match=argument):
        data.load("shop", **kwargs)


def test_columns_and_kinds(shop):
    assert list(shop.interactions.columns) == [
        "user_id",
        "item_id",
        "rating",
        "timestamp",
    ]
    assert list(shop.items.columns) == [
        "item_id",
        "title",
        "category",
        "subcategory",
        "brand",
        "tags",
        "kind",
        "launched",
    ]
    assert list(shop.users.columns) == ["user_id", "joined"]
    assert shop.interactions.timestamp.dtype == np.int64
    assert shop.items.launched.dtype == np.int64
    assert shop.users.joined.dtype == np.int64
    consumable = shop.items.subcategory.isin(CONSUMABLES)
    assert set(shop.items.kind) == {"durable", "consumable"}
    assert (shop.items.kind == "consumable").equals(consumable)
    np.testing.assert_array_equal(shop.truth.consumable, consumable.to_numpy())


def test_items_look_like_the_seed(shop):
    items = shop.items
    parts = items["tags"].str.split(", ")
    assert (parts.str.len() == 3).all()
    assert (parts.str[0] == items["category"]).all()
    assert (parts.str[1] == items["subcategory"]).all()
    for row in items.itertuples():
        features, brands, _ = CATALOG[row.category][row.subcategory]
        assert row.tags.split(", ")[2] in features
        assert row.brand in brands
        assert row.title.startswith(f"{row.brand} ")
    assert items["title"].nunique() > 390
    assert items["subcategory"].value_counts().min() >= 3
    assert items["subcategory"].nunique() == N_SUBCATEGORIES


def test_habit_pairs_share_no_tag_word(shop):
    tags = shop.items.groupby("subcategory")["tags"].agg(
        lambda t: {w for tag in t for w in tag.replace(",", " ").split()}
    )
    category = shop.items.groupby("subcategory")["category"].first()
    for source, target, _ in HABITS:
        if category[source] != category[target]:
            assert not tags[source] & tags[target], (source, target)


def test_ratings_are_one_to_five(shop):
    ratings = shop.interactions["rating"]
    assert ratings.dtype == np.float64
    assert set(ratings.unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}


# ----------------------------------------------------------------------- time
def test_timestamps_are_in_the_year_and_after_joining(shop):
    ts = shop.interactions["timestamp"]
    assert pd.Timestamp("2025-01-01", tz="UTC").timestamp() == YEAR_START
    # a session that starts late on Dec 31 may run a few minutes past midnight
    assert ts.min() >= YEAR_START and ts.max() < YEAR_END + DAY
    joined = shop.users.set_index("user_id")["joined"]
    first = shop.interactions.groupby("user_id")["timestamp"].min()
    assert (first >= joined.reindex(first.index)).all()


def test_log_is_sorted_by_time(shop):
    assert shop.interactions.timestamp.is_monotonic_increasing


def test_user_timestamps_strictly_increase(shop):
    steps = (
        shop.interactions.sort_values(["user_id", "timestamp"], kind="stable")
        .groupby("user_id")
        .timestamp.diff()
        .dropna()
    )
    assert (steps > 0).all()


def test_no_item_is_bought_before_it_launches(events):
    assert (events.timestamp >= events.launched).all()
    launched_in_year = events.launched >= YEAR_START
    assert launched_in_year.any()  # new items are bought, only once launched


def test_half_the_catalogue_launches_during_the_year(shop):
    in_year = shop.items.launched >= YEAR_START
    assert 0.35 < in_year.mean() < 0.65
    assert shop.items.launched.max() < YEAR_END


def test_durables_are_never_bought_twice(events):
    durable = events[events.kind == "durable"]
    assert not durable.duplicated(["user_id", "item_id"]).any()


def test_consumables_are_bought_again(shop, events):
    repeat = events.duplicated(["user_id", "item_id"])
    assert shop.n_repeats == repeat.sum() > 0
    assert (events.loc[repeat, "kind"] == "consumable").all()
    assert events.loc[repeat, "subcategory"].nunique() == len(CONSUMABLES)
    # a good share of the consumables bought are bought again
    pairs = events[events.kind == "consumable"].groupby(["user_id", "item_id"]).size()
    assert (pairs > 1).mean() > 0.2


def _within(events, anchor, target, days):
    """Share of anchored users buying ``target`` in (t0, t0 + days]."""
    bought = events.loc[events.subcategory == target, ["user_id", "timestamp"]]
    joined = bought.merge(anchor.rename("t0"), left_on="user_id", right_index=True)
    soon = (joined.timestamp > joined.t0) & (joined.timestamp <= joined.t0 + days * DAY)
    return joined.loc[soon, "user_id"].nunique() / len(anchor)


def _habit_lift(events, source, target, days=30):
    """P(target within ``days`` after a first source purchase) over its base rate.

    The base rate: the same window after the first purchase of the users who
    never bought the source.
    """
    first_source = events[events.subcategory == source].groupby("user_id").timestamp
    first_source = first_source.min()
    others = events[~events.user_id.isin(first_source.index)]
    base = _within(events, others.groupby("user_id").timestamp.min(), target, days)
    return _within(events, first_source, target, days) / base


def test_habits_unfold_in_time(events):
    assert _habit_lift(events, "Television", "Soundbar") > 4
    for source, target, _ in HABITS:
        assert _habit_lift(events, source, target) > 2.5, (source, target)
    # unrelated subcategories show no such lift: it is the habit, not activity
    controls = [
        ("Shoes", "Soundbar"),
        ("Novel", "Soundbar"),
        ("Desk", "Cookbook"),
        ("Television", "Tent"),
    ]
    for source, target in controls:
        assert _habit_lift(events, source, target) < 2, (source, target)


def _season_share(events, subcategory, months):
    """Share of the purchases made in ``months`` that fall in the subcategory."""
    month = pd.to_datetime(events.timestamp, unit="s").dt.month
    window = events[month.isin(months)]
    return (window.subcategory == subcategory).mean()


def test_seasonal_subcategories_sell_more_in_season(events):
    winter, summer = [12, 1, 2], [6, 7, 8]
    assert {"Jacket", "Tent"} <= set(SEASONS)
    jacket = _season_share(events, "Jacket", winter) / _season_share(
        events, "Jacket", summer
    )
    tent = _season_share(events, "Tent", summer) / _season_share(events, "Tent", winter)
    # launches also move sales (jackets launched in August-October sell then)
    assert jacket > 1.3
    assert tent > 3


def test_new_items_sell_most_just_after_launch(events, shop):
    # items launched early enough in the year that days 90-120 are observed
    new = shop.items[
        (shop.items.launched >= YEAR_START)
        & (shop.items.launched < YEAR_START + 240 * DAY)
    ]
    assert len(new) > 50
    sold = events[events.item_id.isin(new.item_id)]
    age = (sold.timestamp - sold.launched) / DAY
    first_month = (age < 30).sum()
    later = ((age >= 90) & (age < 120)).sum()
    assert first_month > 1.4 * later


# -------------------------------------------------------------------- realism
def test_realism_figures(shop):
    s = shop.summary()
    assert 0.55 <= s["item_gini"] <= 0.75
    assert s["density"] <= 0.05
    assert s["activity_p90_over_median"] >= 2.5
    assert s["events"] == len(shop.interactions)
    assert s["repeat_events"] == shop.n_repeats
    assert s["interactions"] == len(shop.distinct().interactions)


def test_ratings_drift_down_over_time(shop):
    # later purchases are often second items of a kind already owned: rated lower
    train, test = split.by_time(shop, 0.2)
    shift = train.interactions.rating.mean() - test.interactions.rating.mean()
    assert 0.04 <= shift <= 0.25


def test_tastes_concentrate_on_few_categories(events):
    per_cat = events.groupby(["user_id", "category"]).size().unstack(fill_value=0)
    counts = per_cat.to_numpy()
    top3 = np.sort(counts, axis=1)[:, ::-1][:, :3].sum(axis=1) / counts.sum(axis=1)
    assert per_cat.shape[1] == len(CATALOG) == 10
    # under uniform tastes the top 3 of 10 categories would hold ~30-50%
    assert np.mean(top3 > 0.5) > 0.9
    assert np.median(top3) > 0.7


def test_top_share_is_the_top_tenth_of_distinct_pairs(shop):
    s = shop.summary()
    counts = shop.distinct().interactions.groupby("item_id").size()
    top = counts.sort_values(ascending=False).iloc[:40].sum() / counts.sum()
    assert top == pytest.approx(s["top_10pct_items_share"])
    assert s["top_10pct_items_share"] > 0.3


# ---------------------------------------------------------------------- truth
def test_truth_rows_are_distributions(shop):
    rng = np.random.default_rng(1)
    users = rng.choice(shop.user_ids, size=200)
    at = YEAR_START + rng.integers(0, 365 * DAY, size=200)
    proba = shop.truth.next_item_proba(users, at, shop.interactions)
    assert proba.shape == (200, shop.n_items)
    assert (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # one time for every user broadcasts
    same = shop.truth.next_item_proba(users[:5], int(at[0]), shop.interactions)
    np.testing.assert_allclose(same.sum(axis=1), 1.0)


def test_truth_chunks_do_not_change_the_answer(shop, sample):
    users, at = sample.user_id.to_numpy(), sample.timestamp.to_numpy()
    whole = shop.truth.next_item_proba(users, at, shop.interactions)
    chunked = shop.truth.next_item_proba(users, at, shop.interactions, chunk_size=7)
    np.testing.assert_allclose(chunked, whole)


def test_items_have_no_probability_before_launch(shop):
    new = shop.items[shop.items.launched >= YEAR_START + 30 * DAY]
    cols = shop.item_index(new.item_id)
    users = shop.user_ids[:20]
    for item_col, launched in zip(cols[:10], new.launched[:10], strict=True):
        before = shop.truth.next_item_proba(users, launched - DAY, shop.interactions)
        after = shop.truth.next_item_proba(users, launched + DAY, shop.interactions)
        assert (before[:, item_col] == 0).all()
        assert (after[:, item_col] > 0).all()


def test_an_owned_durable_has_no_probability(shop, events):
    durable = events[events.kind == "durable"].iloc[::100]
    at = durable.timestamp.to_numpy() + DAY
    proba = shop.truth.next_item_proba(durable.user_id, at, shop.interactions)
    owned = proba[np.arange(len(durable)), shop.item_index(durable.item_id)]
    assert (owned == 0).all()
    # a consumable bought before can be bought again
    consumable = events[events.kind == "consumable"].iloc[::50]
    at = consumable.timestamp.to_numpy() + 20 * DAY
    proba = shop.truth.next_item_proba(consumable.user_id, at, shop.interactions)
    again = proba[np.arange(len(consumable)), shop.item_index(consumable.item_id)]
    assert (again > 0).all()


def test_every_purchase_had_a_positive_probability(shop, sample):
    proba = shop.truth.next_item_proba(
        sample.user_id.to_numpy(), sample.timestamp.to_numpy(), shop.interactions
    )
    bought = proba[np.arange(len(sample)), shop.item_index(sample.item_id)]
    assert (bought > 0).all()


def test_truth_explains_purchases_far_better_than_popularity(shop, sample):
    proba = shop.truth.next_item_proba(
        sample.user_id.to_numpy(), sample.timestamp.to_numpy(), shop.interactions
    )
    cols = shop.item_index(sample.item_id)
    truth_ll = np.log(proba[np.arange(len(sample)), cols]).mean()
    frequency = shop.interactions.item_id.value_counts(normalize=True)
    popularity = frequency.reindex(shop.item_ids, fill_value=0).to_numpy()
    popularity_ll = np.log(popularity[cols]).mean()
    # e^1.5: the truth gives the actual next item 4.5 times the probability
    assert truth_ll > popularity_ll + 1.5


def test_only_the_users_earlier_history_counts(shop, sample):
    users, at = sample.user_id.to_numpy(), sample.timestamp.to_numpy()
    full = shop.truth.next_item_proba(users, at, shop.interactions)
    inter = shop.interactions
    own = inter[inter.user_id.isin(users)]
    np.testing.assert_allclose(
        shop.truth.next_item_proba(users, at, own), full
    )  # other users' rows are ignored
    earlier = own.merge(
        pd.DataFrame({"user_id": users, "at": at}).groupby("user_id").at.max(),
        left_on="user_id",
        right_index=True,
    )
    # rows at or after the latest query time of each user change nothing
    earlier = earlier[earlier.timestamp < earlier["at"]].drop(columns="at")
    np.testing.assert_allclose(shop.truth.next_item_proba(users, at, earlier), full)


def test_truth_follows_a_changed_history(shop, events):
    # users who never bought a TV nor a soundbar
    subs = events.groupby("user_id").subcategory.agg(set)
    clean = subs[subs.map(lambda s: not s & {"Television", "Soundbar"})].index
    users = clean[:50].to_numpy()
    at = np.full(users.size, YEAR_START + 200 * DAY)
    history = shop.interactions[shop.interactions.user_id.isin(users)]
    tv = shop.items.loc[shop.items.subcategory == "Television", "item_id"].iloc[0]

    def with_purchases(*purchases):
        rows = [
            {"user_id": u, "item_id": item, "timestamp": at[0] - days * DAY}
            for u in users
            for item, days in purchases
        ]
        return pd.concat([history, pd.DataFrame(rows)], ignore_index=True)

    def soundbar_mass(frame):
        return _sub_mass(shop, shop.truth.next_item_proba(users, at, frame), "Soundbar")

    base = soundbar_mass(history)
    just_after = soundbar_mass(with_purchases((tv, 1)))
    long_after = soundbar_mass(with_purchases((tv, 120)))
    assert (just_after > 2 * base).all()
    assert (just_after > long_after).all()  # the habit fades
    # once the soundbar is bought the habit is over
    soundbar = shop.items.loc[shop.items.subcategory == "Soundbar", "item_id"].iloc[0]
    bought_both = soundbar_mass(with_purchases((tv, 2), (soundbar, 1)))
    assert (bought_both < just_after / 2).all()


def test_truth_rejects_unknown_ids(shop):
    history = shop.interactions
    with pytest.raises(KeyError, match="unknown user"):
        shop.truth.next_item_proba([0], [YEAR_START], history)
    with pytest.raises(KeyError, match="unknown user"):
        shop.truth.next_item_proba([1, 1001], [YEAR_START, YEAR_START], history)
    strange = pd.DataFrame({"user_id": [1], "item_id": [9999], "timestamp": [0]})
    with pytest.raises(KeyError, match="unknown item"):
        shop.truth.next_item_proba([1], [YEAR_START], strange)
    with pytest.raises(KeyError, match="timestamp"):
        shop.truth.next_item_proba([1], [YEAR_START], history.drop(columns="timestamp"))


def test_committed_reference_figures_match_the_shop_as_built(shop):
    # lesson 00 sets these beside the live shop: regenerate them when the
    # generator changes (python benchmarks/dataset_stats.py --write ...)
    committed = data.reference_figures()
    assert {"shop", "uniform noise", "movielens-latest-small"} <= set(committed)
    live = shop.summary()
    for figure in ("events", "repeat_events", "density", "item_gini"):
        assert committed.loc[figure, "shop"] == pytest.approx(live[figure], abs=5e-4)
    assert committed.loc["rating_shift_by_time", "shop"] == pytest.approx(
        split.rating_shift(shop), abs=5e-4
    )
    real = committed["movielens-latest-small"]
    assert real["item_gini"] == pytest.approx(0.717, abs=5e-4)
    assert real["users"] == 610
