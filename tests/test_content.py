import re

import numpy as np
import pandas as pd
import pytest

from recsys_helpers import data, evaluation, split
from recsys_helpers.models import ContentBased, Popularity, Random
from recsys_helpers.models.content import recency_weights
from tests.model_contract import ModelContract, checkerboard


class TestContentBasedContract(ModelContract):
    personalised = True

    def make_model(self):
        return ContentBased()


class TestContentBasedCountContract(ModelContract):
    personalised = True

    def make_model(self):
        return ContentBased(vectorizer="count", half_life_days=None)


# The toy shop, by hand. Words (columns, alphabetical): apple, clothing,
# computer, electronics, qled, tablet, television.
KINDLE = np.array([0, 0, 0, 1, 0, 1, 0]) / np.sqrt(2)
MACBOOK = np.array([1, 0, 1, 1, 0, 0, 0]) / np.sqrt(3)
SHOES = np.array([0, 1, 0, 0, 0, 0, 0])
TV = np.array([0, 0, 0, 1, 1, 0, 1]) / np.sqrt(3)


def test_toy_count_profile_and_scores_by_hand():
    model = ContentBased(vectorizer="count").fit(data.load("toy"))
    assert model.vocabulary_.tolist() == [
        "apple",
        "clothing",
        "computer",
        "electronics",
        "qled",
        "tablet",
        "television",
    ]
    # user 1 bought Kindle, Macbook, Shoes: the profile is their mean
    profile = (KINDLE + MACBOOK + SHOES) / 3
    np.testing.assert_allclose(model.profiles_[0].toarray()[0], profile)
    cosine = np.array([v @ profile for v in (KINDLE, MACBOOK, SHOES, TV, TV)])
    cosine /= np.linalg.norm(profile)
    np.testing.assert_allclose(model.score(1)[0], cosine)
    # TV: electronics only, (1/sqrt2 + 1/sqrt3)/3 / sqrt3 / |p|
    assert model.score(1)[0, 3] == pytest.approx(0.3796, abs=1e-4)
    # the bought items are excluded: only the two TVs (tied) are left
    recs = model.recommend(1, n=5)
    assert recs.item_id.tolist() == [4, 5]


def test_toy_tfidf_uses_smoothed_idf():
    model = ContentBased(vectorizer="tfidf").fit(data.load("toy"))
    df = np.array([1, 1, 1, 4, 2, 1, 2])  # documents holding each word
    idf = np.log(6 / (1 + df)) + 1
    kindle = np.array([0, 0, 0, 1, 0, 1, 0]) * idf
    np.testing.assert_allclose(
        model.item_vectors_[0].toarray()[0], kindle / np.linalg.norm(kindle)
    )
    tv = np.array([0, 0, 0, 1, 1, 0, 1]) * idf
    tv /= np.linalg.norm(tv)
    # user 5 bought only the LG TV: the Samsung TV has identical text
    assert model.score(5)[0, 3] == pytest.approx(1.0)
    assert model.score(5)[0, 0] == pytest.approx(kindle @ tv / np.linalg.norm(kindle))


def test_ids_need_not_be_one_to_n():
    toy = data.load("toy")
    items = toy.items.assign(item_id=toy.items.item_id * 100 + 7).iloc[::-1]
    inter = toy.interactions.assign(item_id=toy.interactions.item_id * 100 + 7)
    shuffled = data.Dataset.from_frames(inter, items, toy.users)
    a = ContentBased().fit(toy).recommend(2, n=5, exclude_seen=False)
    b = ContentBased().fit(shuffled).recommend(2, n=5, exclude_seen=False)
    scores_a = dict(zip(a.item_id, a.score, strict=True))
    scores_b = dict(zip((b.item_id - 7) // 100, b.score, strict=True))
    assert scores_b == pytest.approx(scores_a)


def test_recency_weights_halve_every_half_life():
    day = 86_400
    w = recency_weights(
        np.array([0, 0, 0, 1]), np.array([0, 10 * day, 20 * day, 5]), 2, 10.0
    )
    np.testing.assert_allclose(w, [0.25, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(recency_weights(np.array([0, 1]), None, 2, None), 1.0)


def test_recent_items_dominate_the_profile():
    # user 1 bought a tablet long ago and a TV yesterday
    items = pd.DataFrame(
        {"item_id": [1, 2, 3, 4], "tags": ["Tablet", "TV", "Tablet", "TV"]}
    )
    inter = pd.DataFrame(
        {"user_id": [1, 1], "item_id": [1, 2], "timestamp": [0, 400 * 86_400]}
    )
    ds = data.Dataset.from_frames(inter, items)
    recent = ContentBased(half_life_days=30).fit(ds).recommend(1, n=2)
    assert recent.item_id.tolist() == [4, 3]
    plain = ContentBased(half_life_days=None).fit(ds).score(1)[0]
    assert plain[2] == pytest.approx(plain[3])


def test_scores_items_nobody_bought():
    ds, _ = checkerboard()
    new = pd.DataFrame({"item_id": [9], "title": ["New"], "tags": ["Group Even"]})
    items = pd.concat([ds.items, new])
    cold = data.Dataset.from_frames(ds.interactions, items, ds.users)
    model = ContentBased().fit(cold)
    assert model.item_counts_[-1] == 0
    assert model.score(1)[0, -1] == pytest.approx(1.0)  # user 1 buys Group Even
    assert 9 in model.recommend(1, n=2).item_id.tolist()
    assert Popularity().fit(cold).score(1)[0, -1] == 0


def test_similar_items_excludes_itself_and_ranks_by_text():
    model = ContentBased().fit(data.load("toy"))
    sims = model.similar_items([4, 1], n=2)
    assert sims.columns.tolist() == ["item_id", "similar_item_id", "score", "rank"]
    first = sims[sims.item_id == 4]
    assert first.similar_item_id.tolist()[0] == 5
    assert first.score.iloc[0] == pytest.approx(1.0)
    assert 1 not in sims[sims.item_id == 1].similar_item_id.tolist()
    with pytest.raises(ValueError, match="n must be"):
        model.similar_items(1, n=5)


def test_cold_users_are_refused():
    inter = pd.DataFrame({"user_id": [1, 1], "item_id": [1, 2]})
    items = pd.DataFrame(
        {"item_id": [1, 2, 3], "tags": ["red blue", "blue green", "green pink"]}
    )
    users = pd.DataFrame({"user_id": [1, 2]})
    model = ContentBased().fit(data.Dataset.from_frames(inter, items, users))
    assert not ContentBased.serves_cold_users
    with pytest.raises(ValueError, match="cold-start"):
        model.score(2)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"vectorizer": "bert"},
            "ContentBased: vectorizer must be one of ('tfidf', 'count'), got 'bert'",
        ),
        (
            {"vectorizer": None},
            "vectorizer must be one of ('tfidf', 'count'), got None",
        ),
        (
            {"half_life_days": 0},
            "ContentBased: half_life_days must be > 0 or None, got 0",
        ),
        ({"half_life_days": -3.5}, "half_life_days must be > 0 or None, got -3.5"),
        (
            {"half_life_days": float("nan")},
            "half_life_days must be > 0 or None, got nan",
        ),
        ({"half_life_days": "30"}, "half_life_days must be > 0 or None, got '30'"),
        ({"half_life_days": True}, "half_life_days must be > 0 or None, got True"),
        ({"text_column": ""}, "ContentBased: text_column must be the name of a column"),
        (
            {"text_column": 3},
            "ContentBased: text_column must be the name of a column of the items "
            "(a non-empty string), got 3",
        ),
    ],
)
def test_bad_hyper_parameters_name_the_argument_and_value(params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ContentBased(**params).fit(data.load("toy"))


def test_items_without_usable_words():
    toy = data.load("toy")
    empty = toy.items.assign(tags="")
    with pytest.raises(ValueError, match=r"items.tags \(text_column\) has no usable"):
        ContentBased().fit(data.Dataset.from_frames(toy.interactions, empty))


def test_interactions_only_data_is_refused_with_what_to_do():
    # the one model that needs side information: it says so, names the missing
    # column and the alternatives, rather than ranking everything as a tie
    assert ContentBased.requires_item_text
    toy = data.load("toy")
    bare = data.Dataset.from_frames(toy.interactions)
    assert list(bare.items.columns) == ["item_id"]
    with pytest.raises(ValueError) as info:
        ContentBased().fit(bare)
    message = str(info.value)
    assert "ContentBased needs item text" in message
    assert "text_column='tags'" in message
    assert "no item side information" in message
    assert "data.Dataset.from_frames(interactions, items)" in message
    assert "ItemKNN" in message and "Popularity" in message


def test_missing_text_column_lists_the_text_columns():
    toy = data.load("toy")
    with pytest.raises(ValueError) as info:
        ContentBased(text_column="genres").fit(toy)
    message = str(info.value)
    assert "text_column='genres' is not a column of the items" in message
    assert "pass text_column= one of ['title', 'tags']" in message
    # the named column works
    model = ContentBased(text_column="title").fit(toy)
    assert model.item_vectors_.shape[0] == toy.n_items


def test_beats_random_on_shop_by_time():
    # content alone ignores what sells, so it does not beat Popularity on the
    # shop (lesson 01 says why); it must still beat chance on the same users
    train, test = split.by_time(data.load("shop"), test_fraction=0.2)
    result = evaluation.compare(
        {"ContentBased": ContentBased(), "Random": Random(random_state=0)}, train, test
    )
    verdict = evaluation.versus(result.per_user, baseline="Random")
    assert verdict.loc["ContentBased", "low"] > 0


def test_finds_cold_items_that_interaction_models_cannot():
    # items launched after the cut-off sell in test only; a text profile can
    # rank them, a model of interactions cannot
    ds = data.load("shop")
    train, test = split.global_time(ds, test_fraction=0.2, drop_cold=False)
    in_train = set(train.interactions["item_id"])
    warm_user = test.interactions["user_id"].isin(set(train.interactions["user_id"]))
    cold = test.interactions[~test.interactions["item_id"].isin(in_train) & warm_user]
    assert len(cold) > 100
    cold_test = test.with_interactions(cold, "cold", {})
    cold_ids = sorted(set(cold["item_id"]))
    result = evaluation.compare(
        {
            "ContentBased": ContentBased(),
            "Random": Random(random_state=0),
            "Popularity": Popularity(),
        },
        train,
        cold_test,
    )
    hits = result.leaderboard["hit_rate@10"]
    assert hits["Popularity"] == 0.0  # it has never seen them sell
    assert hits["ContentBased"] > hits["Random"]
    assert len(cold_ids) > 3
