import numpy as np
import pandas as pd
import pytest

from recsys_helpers import data, evaluation, split
from recsys_helpers.models import Oracle, Popularity, Random
from tests.model_contract import ModelContract, checkerboard


@pytest.fixture(scope="module")
def shop():
    return data.load("shop")


class TestPopularityContract(ModelContract):
    personalised = False

    def make_model(self):
        return Popularity()


class TestRandomContract(ModelContract):
    personalised = False

    def make_model(self):
        return Random(random_state=3)


def test_popularity_counts_users_per_item():
    interactions = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 20, 10, 10]})
    ds = data.Dataset.from_frames(interactions)
    model = Popularity().fit(ds)
    np.testing.assert_array_equal(model.score([1])[0], [3.0, 1.0])
    # user 2 has seen item 10: only item 20 is left
    recs = model.recommend(2, n=2)
    assert recs.item_id.tolist() == [20]


def test_popularity_ties_go_to_the_first_item():
    ds, _ = checkerboard()  # every item is equally popular
    recs = Popularity().fit(ds).recommend(1, n=3)
    unseen = sorted(
        set(range(1, 9)) - set(ds.interactions.query("user_id == 1").item_id)
    )
    assert recs.item_id.tolist() == unseen[:3]


def test_popularity_serves_cold_users_others_refuse():
    interactions = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 1]})
    users = pd.DataFrame({"user_id": [1, 2, 3]})
    ds = data.Dataset.from_frames(interactions, users=users)
    assert Popularity().fit(ds).recommend(3, n=1).item_id.tolist() == [1]


def test_random_is_uniform_and_seeded(shop):
    ds = shop
    scores = Random(random_state=1).fit(ds).score(ds.user_ids[:50])
    assert scores.min() >= 0.0 and scores.max() < 1.0
    assert abs(scores.mean() - 0.5) < 0.01
    other = Random(random_state=2).fit(ds).score(ds.user_ids[:50])
    assert not np.allclose(scores, other)
    # the same pair gets the same score whatever else is scored with it
    alone = Random(random_state=1).fit(ds).score(ds.user_ids[7:8])
    np.testing.assert_array_equal(alone[0], scores[7])


def test_oracle_needs_the_hidden_truth():
    toy = data.load("toy")
    model = Oracle()
    with pytest.raises(
        ValueError, match=r"Oracle needs the hidden truth.*'toy' has none"
    ):
        model.fit(toy)
    assert not hasattr(model, "train_")  # the failed fit left nothing behind


def test_oracle_needs_timestamps(shop):
    untimed = data.Dataset.from_frames(
        shop.interactions.drop(columns="timestamp"),
        shop.items,
        shop.users,
        truth=shop.truth,
    )
    with pytest.raises(ValueError, match="Oracle needs a 'timestamp' column"):
        Oracle().fit(untimed)


@pytest.fixture(scope="module")
def by_time(shop):
    return split.by_time(shop, test_fraction=0.2)


@pytest.fixture(scope="module")
def ladder(by_time):
    train, test = by_time
    models = {
        "Oracle": Oracle(),
        "Oracle(at=test)": Oracle(at=test),
        "Popularity": Popularity(),
        "Random": Random(),
    }
    return evaluation.compare(models, train, test)


def test_oracle_beats_popularity_beats_random_on_shop(ladder):
    board = ladder.leaderboard
    assert board.index.tolist()[-2:] == ["Popularity", "Random"]
    vs_popularity = evaluation.versus(
        ladder.per_user, baseline="Popularity", models=["Oracle", "Oracle(at=test)"]
    )
    assert (vs_popularity["low"] > 0).all()
    vs_random = evaluation.versus(
        ladder.per_user, baseline="Random", models=["Popularity"]
    )
    assert vs_random.loc["Popularity", "low"] > 0
    assert vs_random.loc["Popularity", "verdict"] == "wins"


def test_oracle_ranks_at_the_end_of_training_by_default(by_time, shop):
    train, _ = by_time
    model = Oracle().fit(train)
    last = train.interactions.groupby("user_id").timestamp.max()
    np.testing.assert_array_equal(model.when_, last.reindex(train.user_ids) + 1)
    users = train.user_ids[:20]
    expected = shop.truth.next_item_proba(
        users, last.reindex(users).to_numpy() + 1, train.interactions
    )
    np.testing.assert_allclose(model.score(users), expected)


def test_oracle_at_ranks_at_each_users_first_test_time(by_time, shop):
    train, test = by_time
    model = Oracle(at=test).fit(train)
    first = test.interactions.groupby("user_id").timestamp.min()
    last = train.interactions.groupby("user_id").timestamp.max()
    expected = last.reindex(train.user_ids) + 1
    expected.update(first)
    np.testing.assert_array_equal(model.when_, expected.to_numpy())
    assert (model.when_ != Oracle().fit(train).when_).any()
    users = first.index[:20].to_numpy()
    proba = shop.truth.next_item_proba(
        users, first.loc[users].to_numpy(), train.interactions
    )
    np.testing.assert_allclose(model.score(users), proba)
    # a frame works as well as a Dataset; users absent from it keep the default
    some = test.interactions[test.interactions.user_id <= 10]
    partial = Oracle(at=some[["user_id", "timestamp"]]).fit(train)
    rows = train.user_index(np.arange(1, 21))
    np.testing.assert_array_equal(partial.when_[rows[:10]], first.loc[1:10].to_numpy())
    np.testing.assert_array_equal(
        partial.when_[rows[10:]], (last.loc[11:20] + 1).to_numpy()
    )


def test_oracle_history_is_the_training_data_only(by_time):
    train, test = by_time
    kind = train.items.set_index("item_id")["kind"]
    # rank after each user's test period: durables bought in test are not
    # owned as far as training knows, those bought in train are
    after = test.interactions.groupby("user_id", as_index=False).timestamp.max()
    after["timestamp"] += 1
    model = Oracle(at=after).fit(train)
    bought = test.interactions[test.interactions.item_id.map(kind) == "durable"]
    bought = bought.drop_duplicates("user_id").iloc[:50]
    scores = model.score(bought.user_id)
    assert (scores[np.arange(len(bought)), train.item_index(bought.item_id)] > 0).all()
    owned = train.interactions[train.interactions.item_id.map(kind) == "durable"]
    owned = owned[owned.user_id.isin(bought.user_id)].drop_duplicates("user_id")
    rows = pd.Index(bought.user_id).get_indexer(owned.user_id)
    assert (scores[rows, train.item_index(owned.item_id)] == 0).all()
