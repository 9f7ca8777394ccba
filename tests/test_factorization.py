import numpy as np
import pytest
import scipy.sparse as sp

from recsys_helpers import data, split
from recsys_helpers.exercises import lesson03
from recsys_helpers.models import ALS, Popularity, PureSVD
from recsys_helpers.models.factorization import als_loss
from tests.model_contract import ModelContract, checkerboard


class TestPureSVDContract(ModelContract):
    personalised = True

    def make_model(self):
        return PureSVD(factors=2)


class TestALSContract(ModelContract):
    personalised = True

    def make_model(self):
        return ALS(factors=4, iterations=5)


class TestExactALSContract(ModelContract):
    personalised = True

    def make_model(self):
        return ALS(factors=4, iterations=5, solver="exact")


def test_pure_svd_equals_truncated_reconstruction():
    ds = data.load("toy")
    model = PureSVD(factors=2).fit(ds)
    dense = ds.to_csr().toarray()
    u, s, vt = np.linalg.svd(dense)
    expected = u[:, :2] * s[:2] @ vt[:2]
    np.testing.assert_allclose(model.score(ds.user_ids), expected, atol=1e-10)
    assert np.all(np.diff(model.singular_values_) <= 0)


def _exact_reference(user_items, factors, regularization, alpha, iterations, seed):
    """Hu et al.'s closed-form updates, one user (item) at a time, dense."""
    dense = user_items.toarray()
    rng = np.random.default_rng(seed)
    x = 0.01 * rng.standard_normal((dense.shape[0], factors))
    y = 0.01 * rng.standard_normal((dense.shape[1], factors))

    def solve(r, other):
        out = np.empty((r.shape[0], factors))
        for row, values in enumerate(r):
            c = 1.0 + alpha * values
            a = (other.T * c) @ other + regularization * np.eye(factors)
            out[row] = np.linalg.solve(a, (other.T * c) @ (values > 0))
        return out

    for _ in range(iterations):
        x = solve(dense, y)
        y = solve(dense.T, x)
    return x, y


@pytest.mark.parametrize("solver", ["exact", "cg"])
def test_als_matches_the_closed_form(solver):
    ds = data.load("shop")
    train, _ = split.by_time(ds, 0.2)
    small = train.with_interactions(
        train.interactions[train.interactions.user_id <= 60], "small", {}
    )
    model = ALS(
        factors=6,
        regularization=2.0,
        alpha=5.0,
        iterations=4,
        solver=solver,
        cg_steps=6,
        random_state=7,
    ).fit(small)
    x, y = _exact_reference(small.to_csr(), 6, 2.0, 5.0, 4, 7)
    # with f=6, six CG steps solve each system exactly up to rounding (float32)
    tol = 1e-9 if solver == "exact" else 2e-3
    np.testing.assert_allclose(model.user_factors_, x, atol=tol)
    np.testing.assert_allclose(model.item_factors_, y, atol=tol)


def test_exact_als_loss_never_increases():
    ds, _ = checkerboard()
    model = ALS(factors=3, iterations=6, solver="exact", track_loss=True).fit(ds)
    assert model.loss_.shape == (6,)
    assert np.all(np.diff(model.loss_) <= 1e-9)
    assert ALS(iterations=2).fit(ds).loss_.size == 0


def test_als_loss_matches_dense_formula():
    rng = np.random.default_rng(0)
    dense = (rng.random((12, 9)) < 0.3).astype(float)
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(9, 3))
    alpha, reg = 4.0, 0.5
    c = 1.0 + alpha * dense
    expected = np.sum(c * (dense - x @ y.T) ** 2) + reg * (np.sum(x**2) + np.sum(y**2))
    cui = sp.csr_matrix(alpha * dense)
    assert als_loss(cui, x, y, reg) == pytest.approx(expected)


@pytest.mark.parametrize(
    "params",
    [{"factors": 0}, {"regularization": -1.0}, {"iterations": 0}, {"solver": "lu"}],
)
def test_als_rejects_bad_parameters(params):
    ds, _ = checkerboard()
    with pytest.raises(ValueError):
        ALS(**params).fit(ds)


def test_pure_svd_rejects_zero_factors():
    ds, _ = checkerboard()
    with pytest.raises(ValueError, match="factors"):
        PureSVD(factors=0).fit(ds)


def test_factorisations_beat_popularity_on_shop():
    from recsys_helpers import evaluation

    train, test = split.by_time(data.load("shop"), test_fraction=0.2)
    results = evaluation.compare(
        {"ALS": ALS(), "PureSVD": PureSVD(), "Popularity": Popularity()},
        train,
        test,
    )
    for name in ("ALS", "PureSVD"):
        assert (
            results.loc[name, "ndcg@10_low"] > results.loc["Popularity", "ndcg@10_high"]
        )


# ------------------------------------------------------------ exercise checks
def _pure_svd_scores(user_items, k):
    from scipy.sparse.linalg import svds

    _, _, vt = svds(user_items, k=k)
    return np.asarray(user_items @ vt.T @ vt)


def _als_user_update(user_items, y, regularization, alpha):
    dense = user_items.toarray()
    out = np.empty((dense.shape[0], y.shape[1]))
    for u, row in enumerate(dense):
        c = 1.0 + alpha * row
        a = (y.T * c) @ y + regularization * np.eye(y.shape[1])
        out[u] = np.linalg.solve(a, (y.T * c) @ (row > 0))
    return out


def _als_loss(user_items, x, y, regularization, alpha):
    cui = user_items.copy()
    cui.data = alpha * cui.data
    return als_loss(cui, x, y, regularization)


def _stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    ("check", "solution"),
    [
        (lesson03.check_pure_svd_scores, _pure_svd_scores),
        (lesson03.check_als_user_update, _als_user_update),
        (lesson03.check_als_loss, _als_loss),
    ],
)
def test_exercise_checks(check, solution, capsys):
    assert check(solution)
    assert "correct" in capsys.readouterr().out
    assert not check(_stub)
    assert "Hint" in capsys.readouterr().out
    assert not check(lambda *args: np.zeros((3, 3)) if len(args) != 5 else 0.0)
    assert "not yet" in capsys.readouterr().out


def test_pure_svd_check_spots_mean_centring(capsys):
    def centred(user_items, k):
        dense = user_items.toarray()
        dense = dense - dense.mean(axis=1, keepdims=True)
        _, _, vt = np.linalg.svd(dense, full_matrices=False)
        return dense @ vt[:k].T @ vt[:k]

    assert not lesson03.check_pure_svd_scores(centred)
    assert "mean-centred" in capsys.readouterr().out


def test_als_update_check_spots_missing_confidence(capsys):
    def no_confidence(user_items, y, regularization, alpha):
        return _als_user_update(user_items, y, regularization, 0.0)

    assert not lesson03.check_als_user_update(no_confidence)
    assert "confidence" in capsys.readouterr().out
