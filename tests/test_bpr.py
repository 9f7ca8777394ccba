import numpy as np
import pytest
import scipy.sparse as sp

from recsys_helpers import data, split
from recsys_helpers.evaluation import per_user_metrics
from recsys_helpers.models import BPR, Popularity
from recsys_helpers.models.bpr import bpr_gradients, bpr_loss, sample_triples
from tests.model_contract import ModelContract, checkerboard


class TestBPRContract(ModelContract):
    personalised = True

    def make_model(self):
        return BPR(factors=8, epochs=200, batch_size=8, learning_rate=0.1)


class TestBPRPopularityNegativesContract(ModelContract):
    personalised = True

    def make_model(self):
        return BPR(
            factors=8,
            epochs=200,
            batch_size=8,
            learning_rate=0.1,
            negatives="popularity",
            exclude_positives=False,
        )


def _tiny(seed: int = 0):
    rng = np.random.default_rng(seed)
    p, q, b = rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=5)
    triples = (np.array([0, 1, 3, 0]), np.array([2, 0, 4, 1]), np.array([1, 3, 0, 4]))
    return p, q, b, triples


def test_gradients_match_finite_differences():
    p, q, b, triples = _tiny()
    reg, n = 0.05, triples[0].size
    gp, gqi, gqj, gbi, gbj = bpr_gradients(p, q, b, triples, reg)
    u, i, j = triples
    # the analytic gradient of the *summed* loss, rows of one id added up
    analytic = {"p": np.zeros_like(p), "q": np.zeros_like(q), "b": np.zeros_like(b)}
    np.add.at(analytic["p"], u, gp)
    np.add.at(analytic["q"], i, gqi)
    np.add.at(analytic["q"], j, gqj)
    np.add.at(analytic["b"], i, gbi)
    np.add.at(analytic["b"], j, gbj)
    params = {"p": p, "q": q, "b": b}

    def total(values):
        return n * bpr_loss(values["p"], values["q"], values["b"], triples, reg)

    eps = 1e-6
    for name, array in params.items():
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name][index] += eps
            down[name][index] -= eps
            numeric[index] = (total(up) - total(down)) / (2 * eps)
        np.testing.assert_allclose(analytic[name], numeric, atol=1e-6, err_msg=name)


def test_loss_at_equal_scores_is_log_two():
    p, q, b, triples = _tiny()
    loss = bpr_loss(np.zeros_like(p), np.zeros_like(q), np.zeros_like(b), triples, 1.0)
    assert loss == pytest.approx(np.log(2.0))


def test_loss_is_stable_for_huge_scores():
    p, q, b, triples = _tiny()
    assert np.isfinite(bpr_loss(1e4 * p, 1e4 * q, b, triples, 0.0))
    assert all(np.isfinite(g).all() for g in bpr_gradients(1e4 * p, q, b, triples, 0))


def test_training_loss_decreases_on_shop():
    train, _ = split.by_time(data.load("shop"), test_fraction=0.2)
    model = BPR(epochs=8, track_loss=True).fit(train)
    assert model.loss_.shape == (8,)
    assert model.loss_[0] < np.log(2.0) + 0.05
    assert model.loss_[-1] < 0.6 * model.loss_[0]
    assert np.all(np.diff(model.loss_) < 0)
    assert BPR(epochs=2).fit(train).loss_.size == 0


def test_same_seed_same_model_other_seed_other_model():
    ds, _ = checkerboard()
    first = BPR(epochs=5, random_state=3).fit(ds)
    second = BPR(epochs=5, random_state=3).fit(ds)
    other = BPR(epochs=5, random_state=4).fit(ds)
    np.testing.assert_array_equal(first.item_factors_, second.item_factors_)
    np.testing.assert_array_equal(first.score([1, 2]), second.score([1, 2]))
    assert not np.allclose(first.item_factors_, other.item_factors_)


def _matrix():
    rows = [[0, 1, 2], [3], [0, 4, 5, 6, 7, 8], [9]]
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.concatenate(rows)
    return sp.csr_matrix((np.ones(indices.size), indices, indptr), shape=(4, 10))


def test_sampled_triples_cover_each_pair_once_and_exclude_positives():
    matrix = _matrix()
    dense = matrix.toarray() > 0
    for negatives in ("uniform", "popularity"):
        u, i, j = sample_triples(matrix, np.random.default_rng(0), negatives)
        pairs = sorted(zip(u.tolist(), i.tolist(), strict=True))
        assert pairs == sorted(zip(*matrix.nonzero(), strict=True))
        assert not dense[u, j].any()


def test_keeping_positives_samples_them_sometimes():
    matrix = _matrix()
    dense = matrix.toarray() > 0
    rng = np.random.default_rng(0)
    hits = [
        dense[u, j].mean()
        for u, _, j in (
            sample_triples(matrix, rng, exclude_positives=False) for _ in range(200)
        )
    ]
    # user 2 owns 6 of 10 items: about a third of all draws hit a positive
    assert 0.25 < np.mean(hits) < 0.45


def test_popularity_negatives_follow_item_counts():
    matrix = _matrix()
    rng = np.random.default_rng(1)
    draws = np.concatenate(
        [sample_triples(matrix, rng, "popularity", False)[2] for _ in range(3000)]
    )
    counts = np.bincount(matrix.indices, minlength=10)
    share = np.bincount(draws, minlength=10) / draws.size
    np.testing.assert_allclose(share, counts / counts.sum(), atol=0.01)
    uniform = np.concatenate(
        [sample_triples(matrix, rng, "uniform", False)[2] for _ in range(3000)]
    )
    np.testing.assert_allclose(np.bincount(uniform) / uniform.size, 0.1, atol=0.01)


def test_beats_popularity_on_shop_test_split():
    train, test = split.by_time(data.load("shop"), test_fraction=0.2)
    bpr = per_user_metrics(BPR().fit(train), train, test, k=10)[0]["ndcg"].mean()
    pop = per_user_metrics(Popularity().fit(train), train, test, k=10)[0]["ndcg"]
    assert bpr > pop.mean() + 0.005


def test_divergence_is_an_error_and_leaves_the_model_unfitted():
    ds, _ = checkerboard()
    model = BPR(learning_rate=1e30, init_scale=1e30, epochs=2)
    with pytest.raises(FloatingPointError, match="lower learning_rate"):
        model.fit(ds)
    assert not hasattr(model, "item_factors_")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"factors": 0}, "factors must be a positive integer, got 0"),
        ({"factors": 2.0}, "factors must be a positive integer, got 2.0"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0, got 0.0"),
        ({"learning_rate": float("nan")}, "learning_rate must be > 0, got nan"),
        ({"regularization": -1.0}, "regularization must be >= 0, got -1.0"),
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"batch_size": True}, "batch_size must be a positive integer, got True"),
        ({"negatives": "hard"}, "negatives must be one of"),
        ({"exclude_positives": 1}, "exclude_positives must be one of"),
        ({"init_scale": -0.1}, "init_scale must be >= 0, got -0.1"),
        ({"track_loss": "yes"}, "track_loss must be one of"),
        ({"random_state": -1}, "random_state must be an integer >= 0, got -1"),
    ],
)
def test_bad_hyper_parameters_name_the_argument_and_value(params, message):
    ds, _ = checkerboard()
    model = BPR(**params)
    with pytest.raises(ValueError, match=f"BPR: {message}"):
        model.fit(ds)
    assert not hasattr(model, "item_factors_")
