"""The synthetic shop looks like a shop: size, tails, tastes, habits, time."""

import numpy as np
import pandas as pd
import pytest

from recsys_helpers import data
from recsys_helpers.datasets.shop import CATALOG, HABITS, YEAR_START, make_shop

YEAR_END = pd.Timestamp("2026-01-01", tz="UTC").timestamp()


@pytest.fixture(scope="module")
def shop():
    return data.load("shop")


@pytest.fixture(scope="module")
def bought(shop):
    """users x subcategories: did the user buy at least one item of it."""
    rows = shop.interactions.merge(
        shop.items[["item_id", "category", "subcategory"]], on="item_id"
    )
    return rows.groupby(["user_id", "subcategory"]).size().unstack(fill_value=0) > 0


def _lift(bought, source, target):
    """P(bought target | bought source) / P(bought target)."""
    return bought.loc[bought[source], target].mean() / bought[target].mean()


def test_deterministic(shop):
    again = data.load("shop")
    pd.testing.assert_frame_equal(shop.interactions, again.interactions)
    pd.testing.assert_frame_equal(shop.items, again.items)
    pd.testing.assert_frame_equal(shop.users, again.users)
    np.testing.assert_array_equal(shop.affinity, again.affinity)


def test_another_seed_gives_another_shop():
    a, b = make_shop(n_users=50, seed=1), make_shop(n_users=50, seed=2)
    assert not a.interactions.equals(b.interactions)


def test_size_and_columns(shop):
    assert shop.name == "shop"
    assert shop.n_users == 1000 and shop.n_items == 400
    assert 12_000 <= len(shop.interactions) <= 20_000
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
        "released",
    ]
    assert list(shop.users.columns) == ["user_id", "joined"]
    assert shop.item_ids.tolist() == list(range(1, 401))
    assert shop.user_ids.tolist() == list(range(1, 1001))
    assert not shop.interactions.duplicated(["user_id", "item_id"]).any()


def test_every_user_has_at_least_five_interactions(shop):
    per_user = shop.interactions.groupby("user_id").size()
    assert len(per_user) == shop.n_users
    assert per_user.min() >= 5


def test_heavy_tails(shop):
    s = shop.summary()
    assert s["item_gini"] > 0.4
    assert s["top_10pct_items_share"] > 0.25
    assert s["interactions_per_user_max"] > 5 * s["interactions_per_user_median"]
    counts = shop.interactions.groupby("item_id").size()
    top = counts.sort_values(ascending=False).iloc[:40].sum() / counts.sum()
    assert top == pytest.approx(s["top_10pct_items_share"])


def test_tastes_concentrate_on_few_categories(shop):
    rows = shop.interactions.merge(shop.items[["item_id", "category"]], on="item_id")
    per_cat = rows.groupby(["user_id", "category"]).size().unstack(fill_value=0)
    counts = per_cat.to_numpy()
    top3 = np.sort(counts, axis=1)[:, ::-1][:, :3].sum(axis=1) / counts.sum(axis=1)
    assert per_cat.shape[1] == len(CATALOG) == 10
    # under uniform tastes the top 3 of 10 categories hold ~30-50%
    assert np.mean(top3 > 0.5) > 0.9
    assert np.median(top3) > 0.7


def test_cross_category_habits_exist(bought):
    # Buying a TV creates demand for a soundbar; shoes do not. Unrelated pairs
    # still show a lift a little above 1, because heavy buyers buy everything.
    controls = [("Shoes", "Soundbar"), ("Novel", "Soundbar"), ("Shoes", "Beans")]
    control_lift = max(_lift(bought, source, target) for source, target in controls)
    assert control_lift < 1.35
    assert _lift(bought, "Television", "Soundbar") > 1.6
    for source, target, _ in HABITS:
        assert _lift(bought, source, target) > control_lift + 0.15, (source, target)


def test_habit_pairs_share_no_tag_word(shop):
    tags = shop.items.groupby("subcategory")["tags"].agg(
        lambda t: {w for tag in t for w in tag.replace(",", " ").split()}
    )
    category = shop.items.groupby("subcategory")["category"].first()
    for source, target, _ in HABITS:
        if category[source] != category[target]:
            assert not tags[source] & tags[target], (source, target)


def test_affinity(shop):
    a = shop.affinity
    assert a.shape == (shop.n_users, shop.n_items)
    assert a.dtype == np.float64
    assert (a > 0).all()
    np.testing.assert_allclose(a.sum(axis=1), 1.0)


def test_purchases_follow_affinity(shop):
    # the items users bought sit high in their hidden affinity ranking
    rows = shop.user_index(shop.interactions.user_id)
    cols = shop.item_index(shop.interactions.item_id)
    pct = (np.argsort(np.argsort(shop.affinity, axis=1), axis=1) / 399)[rows, cols]
    assert pct.mean() > 0.8


def test_items_look_like_the_seed(shop):
    items = shop.items
    parts = items["tags"].str.split(", ")
    assert (parts.str.len() == 3).all()
    assert (parts.str[0] == items["category"]).all()
    assert (parts.str[1] == items["subcategory"]).all()
    for _, row in items.iterrows():
        features = CATALOG[row.category][row.subcategory][0]
        brands = CATALOG[row.category][row.subcategory][1]
        assert row.tags.split(", ")[2] in features
        assert row.brand in brands
        assert row.title.startswith(f"{row.brand} ")
    assert items["title"].is_unique or items["title"].nunique() > 390
    assert items["subcategory"].value_counts().min() >= 3


def test_ratings_are_one_to_five(shop):
    ratings = shop.interactions["rating"]
    assert ratings.dtype == np.float64
    assert set(ratings.unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}


def test_timestamps_within_2025(shop):
    ts = shop.interactions["timestamp"]
    assert ts.dtype == np.int64
    assert pd.Timestamp("2025-01-01", tz="UTC").timestamp() == YEAR_START
    assert ts.min() >= YEAR_START and ts.max() < YEAR_END
    joined = shop.users.set_index("user_id")["joined"]
    first = shop.interactions.groupby("user_id")["timestamp"].min()
    assert (first >= joined.reindex(first.index)).all()


def test_late_items_are_bought_only_after_release(shop):
    released = shop.items.set_index("item_id")["released"]
    late = released[released > YEAR_START]
    assert 10 <= len(late) <= 60  # a few cold-start items
    assert late.max() < YEAR_END
    rows = shop.interactions.join(released, on="item_id")
    assert (rows["timestamp"] >= rows["released"]).all()
    bought_late = rows[rows["item_id"].isin(late.index)]
    assert bought_late["item_id"].nunique() > len(late) // 2
    # late items are bought only at the end of the year
    assert bought_late["timestamp"].min() >= YEAR_START + 300 * 86_400


def test_make_shop_validates_its_arguments():
    with pytest.raises(ValueError, match="n_items"):
        make_shop(n_items=10)
    with pytest.raises(ValueError, match="n_users"):
        make_shop(n_users=0)
