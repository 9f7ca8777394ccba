import numpy as np
import pytest
import scipy.sparse as sp

from recsys_helpers import data
from recsys_helpers.models import EASE
from recsys_helpers.models import ease as ease_module
from tests.model_contract import ModelContract, checkerboard


class TestEASEContract(ModelContract):
    personalised = True

    def make_model(self):
        return EASE(regularization=1.0)


class TestEASEFloat64Contract(ModelContract):
    personalised = True

    def make_model(self):
        return EASE(regularization=1.0, dtype="float64")


def _direct(dense: np.ndarray, regularization: float) -> np.ndarray:
    """The closed form with numpy's dense inverse, in float64."""
    p = np.linalg.inv(dense.T @ dense + regularization * np.eye(dense.shape[1]))
    return np.eye(dense.shape[1]) - p / np.diag(p)


def _random_binary(n_users: int, n_items: int, density: float, seed: int):
    rng = np.random.default_rng(seed)
    return (rng.random((n_users, n_items)) < density).astype(np.float64)


def test_toy_weights_match_a_direct_solve():
    ds = data.load("toy")
    dense = ds.to_csr().toarray().astype(float)
    model = EASE(regularization=0.5, dtype="float64").fit(ds)
    expected = _direct(dense, 0.5)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-12)
    np.testing.assert_array_equal(np.diag(model.weights_), 0.0)
    np.testing.assert_allclose(model.score(ds.user_ids), dense @ expected, atol=1e-12)


def test_weights_solve_the_constrained_least_squares_problem():
    # KKT: the gradient of ||X - XB||^2 + lambda ||B||^2 is zero off the diagonal
    dense = _random_binary(30, 12, 0.3, seed=1)
    weights = ease_module.ease_weights(sp.csr_matrix(dense), 2.0, np.float64)
    gradient = -2 * dense.T @ (dense - dense @ weights) + 2 * 2.0 * weights
    off_diagonal = gradient[~np.eye(12, dtype=bool)]
    np.testing.assert_allclose(off_diagonal, 0.0, atol=1e-9)
    # and any perturbation that keeps diag(B) = 0 increases the loss
    rng = np.random.default_rng(0)

    def loss(b):
        return np.sum((dense - dense @ b) ** 2) + 2.0 * np.sum(b**2)

    for _ in range(5):
        step = 1e-3 * rng.standard_normal((12, 12))
        np.fill_diagonal(step, 0.0)
        assert loss(weights + step) > loss(weights)


@pytest.mark.parametrize("n_items", [7, 600, 1300])  # 1300 > two mirror blocks
def test_in_place_float32_path_matches_direct_solve(n_items, monkeypatch):
    # small column blocks so the Gram matrix is assembled from several blocks
    monkeypatch.setattr(ease_module, "_BLOCK_CELLS", 40 * 97)
    dense = _random_binary(40, n_items, 0.15, seed=n_items)
    weights = ease_module.ease_weights(sp.csr_matrix(dense), 3.0)
    assert weights.dtype == np.float32 and weights.shape == (n_items, n_items)
    assert weights.flags.c_contiguous
    np.testing.assert_allclose(weights, _direct(dense, 3.0), atol=2e-5)
    np.testing.assert_array_equal(np.diag(weights), 0.0)


def test_float32_and_float64_rank_alike_on_shop():
    ds = data.load("shop")
    users = ds.user_ids[:50]
    low = EASE(dtype="float32").fit(ds)
    high = EASE(dtype="float64").fit(ds)
    assert low.weights_.dtype == np.float32
    assert high.weights_.dtype == np.float64
    np.testing.assert_allclose(low.score(users), high.score(users), atol=1e-4)
    top_low = low.recommend(users, n=10).item_id.to_numpy()
    top_high = high.recommend(users, n=10).item_id.to_numpy()
    assert np.mean(top_low == top_high) > 0.98


def test_more_regularisation_shrinks_the_weights():
    ds, _ = checkerboard()
    norms = [
        np.abs(EASE(regularization=lam).fit(ds).weights_).sum()
        for lam in (0.1, 1.0, 10.0, 100.0)
    ]
    assert np.all(np.diff(norms) < 0)


def test_mirror_lower_fills_the_upper_triangle(monkeypatch):
    monkeypatch.setattr(ease_module, "_MIRROR_ROWS", 3)
    rng = np.random.default_rng(0)
    full = rng.standard_normal((8, 8))
    full = full + full.T
    matrix = np.tril(full) + np.triu(rng.standard_normal((8, 8)), 1)  # junk above
    ease_module._mirror_lower(matrix)
    np.testing.assert_array_equal(matrix, full)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"regularization": 0.0}, "regularization must be > 0, got 0.0"),
        ({"regularization": -5.0}, "regularization must be > 0, got -5.0"),
        ({"regularization": float("inf")}, "regularization must be > 0, got inf"),
        ({"regularization": float("nan")}, "regularization must be > 0, got nan"),
        ({"regularization": None}, "regularization must be > 0, got None"),
        ({"regularization": "300"}, "regularization must be > 0, got '300'"),
        ({"regularization": True}, "regularization must be > 0, got True"),
        ({"dtype": "float16"}, "dtype must be one of"),
        ({"dtype": np.float32}, "dtype must be one of"),
    ],
)
def test_bad_hyper_parameters_name_the_argument_and_value(params, message):
    ds, _ = checkerboard()
    model = EASE(**params)
    with pytest.raises(ValueError, match=f"EASE: {message}".replace("(", r"\(")):
        model.fit(ds)
    assert not hasattr(model, "weights_")


def test_integer_regularisation_is_accepted():
    ds, _ = checkerboard()
    a = EASE(regularization=np.int64(10)).fit(ds).weights_
    b = EASE(regularization=10.0).fit(ds).weights_
    np.testing.assert_array_equal(a, b)


def test_ease_weights_rejects_bad_lambda_directly():
    with pytest.raises(ValueError, match="regularization must be > 0"):
        ease_module.ease_weights(sp.csr_matrix(np.eye(3)), 0.0)


def test_tiny_lambda_in_float32_fails_with_a_clear_error():
    # two identical items and a lambda far below float32 resolution of X^T X:
    # the matrix is singular in float32, so Cholesky must fail loudly
    dense = np.ones((20_000, 2))
    with pytest.raises(np.linalg.LinAlgError, match="increase regularization"):
        ease_module.ease_weights(sp.csr_matrix(dense), 1e-6)
