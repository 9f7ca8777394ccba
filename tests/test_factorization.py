import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_helpers import data, split
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


def test_cg_blocks_heavy_rows_and_empty_rows_give_the_closed_form(monkeypatch):
    """Tiny blocks and a low heavy-row bar send every path of the blocked CG
    update (per-row products, several np.repeat blocks, never-bought items)
    through the same systems; the answers must not depend on the blocking."""
    from recsys_helpers.models import factorization

    ds = data.load("shop")
    train, _ = split.by_time(ds, 0.2)
    small = train.with_interactions(
        train.interactions[train.interactions.user_id <= 60], "small", {}
    )
    counts = np.diff(small.to_csr().tocsc().indptr)
    assert (counts == 0).any() and (counts >= 3).any() and (counts < 3).any()
    params = {"factors": 6, "regularization": 2.0, "alpha": 5.0, "iterations": 4}
    default = ALS(**params, cg_steps=6, random_state=7).fit(small)
    monkeypatch.setattr(factorization, "_HEAVY_ROW", 3)
    monkeypatch.setattr(factorization, "_BLOCK_NNZ", 16)
    blocked = ALS(**params, cg_steps=6, random_state=7).fit(small)
    side = factorization._Side(small.to_csr().T.tocsr(), np.float32)
    assert sum(b.per_row for b in side.blocks) > 1
    assert sum(not b.per_row for b in side.blocks) > 1
    x, y = _exact_reference(small.to_csr(), 6, 2.0, 5.0, 4, 7)
    for model in (default, blocked):
        np.testing.assert_allclose(model.user_factors_, x, atol=2e-3)
        np.testing.assert_allclose(model.item_factors_, y, atol=2e-3)
    np.testing.assert_allclose(blocked.item_factors_, default.item_factors_, atol=1e-4)


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
    ("params", "message"),
    [
        ({"factors": 0}, "factors must be a positive integer, got 0"),
        ({"factors": -3}, "factors must be a positive integer, got -3"),
        ({"factors": 2.0}, "factors must be a positive integer, got 2.0"),
        ({"factors": True}, "factors must be a positive integer, got True"),
        ({"regularization": -1.0}, "regularization must be >= 0, got -1.0"),
        ({"regularization": float("nan")}, "regularization must be >= 0, got nan"),
        ({"regularization": None}, "regularization must be >= 0, got None"),
        ({"alpha": -0.5}, "alpha must be >= 0, got -0.5"),
        ({"alpha": "1"}, "alpha must be >= 0, got '1'"),
        ({"iterations": 0}, "iterations must be a positive integer, got 0"),
        ({"iterations": 2.5}, "iterations must be a positive integer, got 2.5"),
        ({"solver": "lu"}, "solver must be one of ('cg', 'exact'), got 'lu'"),
        ({"cg_steps": 0}, "cg_steps must be a positive integer, got 0"),
        ({"track_loss": "yes"}, "track_loss must be one of (True, False), got 'yes'"),
        ({"track_loss": 1}, "track_loss must be one of (True, False), got 1"),
        ({"random_state": -1}, "random_state must be an integer >= 0, got -1"),
        ({"random_state": None}, "random_state must be an integer >= 0, got None"),
    ],
)
def test_als_bad_hyper_parameters_name_the_argument_and_value(params, message):
    ds, _ = checkerboard()
    with pytest.raises(ValueError, match=re.escape(f"ALS: {message}")):
        ALS(**params).fit(ds)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"factors": 0}, "factors must be a positive integer, got 0"),
        ({"factors": 1.5}, "factors must be a positive integer, got 1.5"),
        ({"factors": None}, "factors must be a positive integer, got None"),
        ({"random_state": -2}, "random_state must be an integer >= 0, got -2"),
        ({"random_state": 0.5}, "random_state must be an integer >= 0, got 0.5"),
    ],
)
def test_pure_svd_bad_hyper_parameters_name_the_argument_and_value(params, message):
    ds, _ = checkerboard()
    with pytest.raises(ValueError, match=re.escape(f"PureSVD: {message}")):
        PureSVD(**params).fit(ds)


def test_pure_svd_says_how_small_the_data_is():
    one_user = data.Dataset.from_frames(
        pd.DataFrame({"user_id": [1, 1], "item_id": [1, 2]})
    )
    with pytest.raises(ValueError, match=re.escape("got 1 user(s) and 2 item(s)")):
        PureSVD().fit(one_user)


def test_factorisations_beat_popularity_on_shop():
    from recsys_helpers import evaluation

    train, test = split.by_time(data.load("shop"), test_fraction=0.2)
    results = evaluation.compare(
        {"ALS": ALS(), "PureSVD": PureSVD(), "Popularity": Popularity()},
        train,
        test,
    ).leaderboard
    for name in ("ALS", "PureSVD"):
        assert (
            results.loc[name, "ndcg@10_low"] > results.loc["Popularity", "ndcg@10_high"]
        )
