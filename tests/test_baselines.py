import numpy as np
import pandas as pd
import pytest

from recsys_helpers import data, split
from recsys_helpers.models import Oracle, Popularity, Random
from tests.model_contract import ModelContract, checkerboard


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


def test_random_is_uniform_and_seeded():
    ds = data.load("shop")
    scores = Random(random_state=1).fit(ds).score(ds.user_ids[:50])
    assert scores.min() >= 0.0 and scores.max() < 1.0
    assert abs(scores.mean() - 0.5) < 0.01
    other = Random(random_state=2).fit(ds).score(ds.user_ids[:50])
    assert not np.allclose(scores, other)
    # the same pair gets the same score whatever else is scored with it
    alone = Random(random_state=1).fit(ds).score(ds.user_ids[7:8])
    np.testing.assert_array_equal(alone[0], scores[7])


def test_oracle_needs_the_hidden_truth():
    with pytest.raises(ValueError, match="hidden affinity"):
        Oracle().fit(data.load("toy"))


def test_oracle_beats_popularity_beats_random_on_shop():
    from recsys_helpers import evaluation

    train, test = split.by_time(data.load("shop"), test_fraction=0.2)
    results = evaluation.compare(
        {"Oracle": Oracle(), "Popularity": Popularity(), "Random": Random()},
        train,
        test,
    )
    ndcg = results["ndcg@10"]
    assert ndcg["Oracle"] > results.loc["Popularity", "ndcg@10_high"]
    assert (
        results.loc["Popularity", "ndcg@10_low"] > results.loc["Random", "ndcg@10_high"]
    )
