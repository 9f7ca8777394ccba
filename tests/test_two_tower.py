import subprocess
import sys

import numpy as np
import pytest

from recsys_helpers.exercises import lesson04
from tests.model_contract import ModelContract, checkerboard

pytest.importorskip("keras")


def two_tower(**params):
    from recsys_helpers.models import TwoTower

    defaults = {
        "embedding_dim": 8,
        "hidden_units": 16,
        "epochs": 30,
        "batch_size": 24,
        "learning_rate": 0.05,
        "random_state": 1,
    }
    return TwoTower(**{**defaults, **params})


_CACHE = {}


def fitted_on_checkerboard(**params):
    """Fit once per parameter set: TensorFlow models take seconds to build."""
    key = tuple(sorted(params.items()))
    if key not in _CACHE:
        _CACHE[key] = two_tower(**params).fit(checkerboard()[0])
    return _CACHE[key]


class TestTwoTowerContract(ModelContract):
    personalised = True

    def make_model(self):
        return two_tower()

    @pytest.fixture
    def fitted(self, board):
        # the contract's read-only tests share one fitted model
        return fitted_on_checkerboard()


def test_importing_the_package_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "import recsys_helpers\n"
        "from recsys_helpers import data, evaluation, metrics, models, split\n"
        "assert 'TwoTower' in dir(models)\n"
        "models.Popularity\n"
        "print(','.join(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"imported eagerly: {out.stdout}"


def test_loss_matches_numpy_reference():
    from recsys_helpers.models.two_tower import in_batch_softmax_loss

    rng = np.random.default_rng(0)
    q = rng.normal(size=(6, 4)).astype("float32")
    c = rng.normal(size=(6, 4)).astype("float32")
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    ids = np.array([1, 2, 1, 3, 4, 2], dtype="int32")
    prob = rng.uniform(0.05, 0.5, size=6).astype("float32")
    got = float(in_batch_softmax_loss(q, c, ids, np.log(prob), 0.2))
    logits = lesson04.reference_in_batch_logits(q, c, ids, prob, 0.2)
    want = lesson04.reference_in_batch_softmax_loss(logits.astype("float64"))
    assert got == pytest.approx(want, rel=1e-4)


def test_scores_are_cosines_over_temperature_and_history_is_logged():
    model = fitted_on_checkerboard()
    scores = model.score([1, 2])
    assert np.all(np.abs(scores) <= 1 / model.temperature + 1e-5)
    assert len(model.history_) == model.epochs
    assert model.history_[-1] < model.history_[0]  # the tracker logs a real loss
    assert model.history_[-1] > 0


def test_id_only_two_tower_is_normalised_matrix_factorisation():
    ds, _ = checkerboard()
    model = fitted_on_checkerboard(use_features=False)
    p = model.query_tower_.get_layer("query_embedding").get_weights()[0]
    q = model.candidate_tower_.get_layer("candidate_embedding").get_weights()[0]
    p = p / np.linalg.norm(p, axis=1, keepdims=True)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    np.testing.assert_allclose(
        model.score(ds.user_ids), p @ q.T / model.temperature, rtol=1e-4, atol=1e-6
    )


def test_cold_item_gets_an_embedding_from_its_tags():
    ds, _ = checkerboard()
    model = fitted_on_checkerboard()
    new = model.item_vectors_from_tags(["Group Even", "Group Odd"])
    assert np.allclose(np.linalg.norm(new, axis=1), 1.0, atol=1e-5)
    rows = ds.user_index([1, 2])  # user 1 buys "Group Even" items, user 2 odd
    affinity = model.user_vectors_[rows] @ new.T
    assert affinity[0, 0] > affinity[0, 1]
    assert affinity[1, 1] > affinity[1, 0]


def test_bad_hyper_parameters():
    ds, _ = checkerboard()
    with pytest.raises(ValueError, match="temperature"):
        two_tower(temperature=0).fit(ds)
    with pytest.raises(ValueError, match=">= 1"):
        two_tower(epochs=0).fit(ds)
