import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_helpers import data, evaluation, split
from recsys_helpers.models import ItemKNN, Popularity, UserKNN
from recsys_helpers.models import neighbors as nb
from tests.model_contract import ModelContract

R6 = np.sqrt(6.0)


class TestUserKNNContract(ModelContract):
    def make_model(self):
        return UserKNN(neighbors=3, shrinkage=1.0)


class TestItemKNNContract(ModelContract):
    def make_model(self):
        return ItemKNN(neighbors=3, shrinkage=1.0)


@pytest.fixture(scope="module")
def toy():
    return data.load("toy")


def test_toy_user_user_cosine_by_hand(toy):
    # users' items: 1 {1,2,3}, 2 {2,4}, 3 {1,2}, 4 {3,4}, 5 {5}
    expected = np.array(
        [
            [0, 1 / R6, 2 / R6, 1 / R6, 0],
            [1 / R6, 0, 1 / 2, 1 / 2, 0],
            [2 / R6, 1 / 2, 0, 0, 0],
            [1 / R6, 1 / 2, 0, 0, 0],
            [0, 0, 0, 0, 0],
        ]
    )
    model = UserKNN(neighbors=4, shrinkage=0.0).fit(toy)
    np.testing.assert_allclose(model.similarity_.toarray(), expected)
    # user 1: item 4 gets the votes of users 2 and 4; item 5 no vote at all
    scores = model.score([1])[0]
    np.testing.assert_allclose(scores, [2 / R6, 3 / R6, 1 / R6, 2 / R6, 0.0])
    recs = model.recommend(1, n=2)
    assert recs.item_id.tolist() == [4, 5]
    assert recs.score.round(3).tolist() == [0.816, 0.0]


def test_toy_item_item_cosine_by_hand(toy):
    # items' users: 1 {1,3}, 2 {1,2,3}, 3 {1,4}, 4 {2,4}, 5 {5}
    expected = np.array(
        [
            [0, 2 / R6, 1 / 2, 0, 0],
            [2 / R6, 0, 1 / R6, 1 / R6, 0],
            [1 / 2, 1 / R6, 0, 1 / 2, 0],
            [0, 1 / R6, 1 / 2, 0, 0],
            [0, 0, 0, 0, 0],
        ]
    )
    model = ItemKNN(neighbors=4, shrinkage=0.0).fit(toy)
    np.testing.assert_allclose(model.similarity_.toarray(), expected)
    # shrinkage s: |U_i ∩ U_j| / (sqrt(|U_i| |U_j|) + s)
    shrunk = ItemKNN(neighbors=4, shrinkage=1.0).fit(toy).similarity_.toarray()
    assert shrunk[0, 1] == pytest.approx(2 / (R6 + 1))
    assert shrunk[2, 3] == pytest.approx(1 / 3)
    # user 2 owns items 2 and 4: score(i) = sim(2, i) + sim(4, i)
    np.testing.assert_allclose(
        model.score([2])[0], expected[1] + expected[3], atol=1e-12
    )


def test_top_k_keeps_the_best_and_all_ties_with_the_kth(toy):
    sim = ItemKNN(neighbors=1, shrinkage=0.0).fit(toy).similarity_
    # item 3 is equally similar (1/2) to items 1 and 4: both are kept, whatever
    # order a sort would put them in; item 5 was bought with nothing
    assert np.diff(sim.indptr).tolist() == [1, 1, 2, 1, 0]
    assert sim.indices.tolist() == [1, 0, 0, 3, 2]
    np.testing.assert_allclose(sim.data, [2 / R6, 2 / R6, 1 / 2, 1 / 2, 1 / 2])


def test_shrinkage_demotes_similarities_from_few_co_occurrences():
    # items 1 and 2 share their single buyer; items 3 and 4 share 20 of 25
    rows = [(1, 1), (1, 2)]
    rows += [(u, 3) for u in range(2, 27)]
    rows += [(u, 4) for u in range(2, 22)] + [(u, 4) for u in range(30, 35)]
    ds = data.Dataset.from_frames(pd.DataFrame(rows, columns=["user_id", "item_id"]))
    plain = ItemKNN(neighbors=3, shrinkage=0.0).fit(ds).similarity_.toarray()
    shrunk = ItemKNN(neighbors=3, shrinkage=10.0).fit(ds).similarity_.toarray()
    assert plain[0, 1] == pytest.approx(1.0) and plain[2, 3] == pytest.approx(0.8)
    assert shrunk[0, 1] == pytest.approx(1 / 11) and shrunk[2, 3] > 0.5


def test_cosine_top_k_matches_dense_definition_and_is_block_independent(monkeypatch):
    rng = np.random.default_rng(0)
    dense_x = (rng.random((60, 45)) < 0.15).astype(float)
    dense_x[3] = 0  # an empty row: similarities 0, never NaN
    x = sp.csr_matrix(dense_x)
    counts = np.asarray(x.sum(axis=1)).ravel()
    dense = (x @ x.T).toarray() / (np.sqrt(np.outer(counts, counts)) + 2.0)
    np.fill_diagonal(dense, 0.0)
    result = nb.cosine_top_k(x, x, neighbors=60, shrinkage=2.0).toarray()
    np.testing.assert_allclose(result, dense)
    top5 = nb.cosine_top_k(x, x, neighbors=5, shrinkage=2.0).toarray()
    fifth = np.sort(dense, axis=1)[:, -5:-4]
    np.testing.assert_array_equal(top5, np.where(dense >= fifth, dense, 0.0))
    assert ((top5 > 0).sum(axis=1) >= np.minimum(5, (dense > 0).sum(axis=1))).all()
    monkeypatch.setattr(nb, "_BLOCK_CELLS", 7 * 60)  # blocks of 7 rows
    small_blocks = nb.cosine_top_k(x, x, neighbors=5, shrinkage=2.0)
    np.testing.assert_array_equal(small_blocks.toarray(), top5)


@pytest.mark.parametrize("model_class", [UserKNN, ItemKNN])
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"neighbors": 0}, "neighbors must be a positive integer, got 0"),
        ({"neighbors": -5}, "neighbors must be a positive integer, got -5"),
        ({"neighbors": 2.5}, "neighbors must be a positive integer, got 2.5"),
        ({"neighbors": True}, "neighbors must be a positive integer, got True"),
        ({"neighbors": "10"}, "neighbors must be a positive integer, got '10'"),
        ({"neighbors": None}, "neighbors must be a positive integer, got None"),
        ({"shrinkage": -1.0}, "shrinkage must be >= 0, got -1.0"),
        ({"shrinkage": float("nan")}, "shrinkage must be >= 0, got nan"),
        ({"shrinkage": float("inf")}, "shrinkage must be >= 0, got inf"),
        ({"shrinkage": "20"}, "shrinkage must be >= 0, got '20'"),
        ({"shrinkage": None}, "shrinkage must be >= 0, got None"),
    ],
)
def test_bad_hyper_parameters_name_the_argument_and_value(
    toy, model_class, params, message
):
    expected = f"{model_class.__name__}: {message}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        model_class(**params).fit(toy)


def test_numpy_integers_are_valid_hyper_parameters(toy):
    model = ItemKNN(neighbors=np.int64(2), shrinkage=np.float32(1.0)).fit(toy)
    assert model.similarity_.shape == (toy.n_items, toy.n_items)


@pytest.mark.parametrize(
    ("neighbors", "shrinkage", "message"),
    [
        (0, 0.0, "neighbors must be a positive integer, got 0"),
        (1.5, 0.0, "neighbors must be a positive integer, got 1.5"),
        (3, -2.0, "shrinkage must be >= 0, got -2.0"),
    ],
)
def test_cosine_top_k_bad_arguments(neighbors, shrinkage, message):
    x = sp.csr_matrix(np.eye(3))
    with pytest.raises(ValueError, match=re.escape(message)):
        nb.cosine_top_k(x, x, neighbors, shrinkage)


def test_item_similarities_stay_sparse_on_shop():
    ds = data.load("shop")
    model = ItemKNN(neighbors=10).fit(ds)
    assert sp.issparse(model.similarity_)
    assert np.median(np.diff(model.similarity_.indptr)) <= 10  # ties: a few more
    assert model.similarity_.diagonal().sum() == 0


def test_both_beat_popularity_on_shop():
    # paired bootstrap over the same users decides, not overlapping intervals
    train, test = split.by_time(data.load("shop"), test_fraction=0.2)
    result = evaluation.compare(
        {"UserKNN": UserKNN(), "ItemKNN": ItemKNN(), "Popularity": Popularity()},
        train,
        test,
    )
    verdicts = evaluation.versus(result.per_user, baseline="Popularity")
    assert verdicts["verdict"].tolist() == ["wins", "wins"]
    assert (verdicts["low"] > 0).all()


def test_neighbourhoods_nest():
    # the top-3 are the top-3 of the top-10: the lesson's sweep cuts once-computed
    # similarities down instead of recomputing them
    rng = np.random.default_rng(1)
    x = sp.csr_matrix((rng.random((80, 30)) < 0.2).astype(float))
    top10 = nb.cosine_top_k(x, x, neighbors=10, shrinkage=1.0).toarray()
    top3 = nb.cosine_top_k(x, x, neighbors=3, shrinkage=1.0).toarray()
    np.testing.assert_array_equal(nb._keep_top_k(top10, 3).toarray(), top3)
