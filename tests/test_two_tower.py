import os
import re
import subprocess
import sys

import numpy as np
import pytest

from recsys_helpers import data
from recsys_helpers.exercises import two_tower as two_tower_exercises
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
    logits = two_tower_exercises.reference_in_batch_logits(q, c, ids, prob, 0.2)
    want = two_tower_exercises.reference_in_batch_softmax_loss(logits.astype("float64"))
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


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"embedding_dim": 0}, "embedding_dim must be a positive integer, got 0"),
        ({"embedding_dim": 2.5}, "embedding_dim must be a positive integer, got 2.5"),
        ({"hidden_units": -1}, "hidden_units must be a positive integer, got -1"),
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"batch_size": None}, "batch_size must be a positive integer, got None"),
        ({"temperature": 0}, "temperature must be > 0, got 0"),
        ({"temperature": -0.2}, "temperature must be > 0, got -0.2"),
        ({"temperature": float("nan")}, "temperature must be > 0, got nan"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0, got 0.0"),
        ({"learning_rate": "fast"}, "learning_rate must be > 0, got 'fast'"),
        (
            {"logq_correction": "no"},
            "logq_correction must be one of (True, False), got 'no'",
        ),
        (
            {"use_features": "yes"},
            "use_features must be one of ('auto', True, False), got 'yes'",
        ),
        (
            {"use_features": 1},
            "use_features must be one of ('auto', True, False), got 1",
        ),
        (
            {"use_features": None},
            "use_features must be one of ('auto', True, False), got None",
        ),
        ({"text_column": ""}, "text_column must be the name of a column"),
        (
            {"text_column": 7},
            "text_column must be the name of a column of the items (a non-empty "
            "string), got 7",
        ),
        ({"max_features": 0}, "max_features must be a positive integer, got 0"),
        ({"random_state": -1}, "random_state must be an integer >= 0, got -1"),
        ({"random_state": None}, "random_state must be an integer >= 0, got None"),
    ],
)
def test_bad_hyper_parameters_name_the_argument_and_value(params, message):
    ds, _ = checkerboard()
    with pytest.raises(ValueError, match=re.escape(f"TwoTower: {message}")):
        two_tower(**params).fit(ds)


# --------------------------------------------------- side information or not
def _interactions_only():
    ds, _ = checkerboard()
    bare = data.Dataset.from_frames(ds.interactions)
    assert list(bare.items.columns) == ["item_id"]
    return bare


def test_defaults_fit_interactions_only_data():
    from recsys_helpers.models import TwoTower

    bare = _interactions_only()
    model = TwoTower().fit(bare)  # the defaults, untouched
    assert model.use_features == "auto"
    assert model.uses_features_ is False
    assert not hasattr(model, "vectorizer_")
    assert model.query_tower_.get_layer("query_embedding") is not None
    with pytest.raises(ValueError):
        model.query_tower_.get_layer("query_hidden")  # id-only towers
    scores = model.score(bare.user_ids)
    assert scores.shape == (bare.n_users, bare.n_items)
    assert np.isfinite(scores).all()
    assert len(model.recommend(bare.user_ids, n=3)) == 3 * bare.n_users
    with pytest.raises(ValueError, match="id-only towers"):
        model.item_vectors_from_tags(["Group Even"])


def test_defaults_use_the_tags_when_present():
    from recsys_helpers.models import TwoTower

    ds, _ = checkerboard()
    model = TwoTower().fit(ds)
    assert model.uses_features_ is True
    assert "group" in model.vectorizer_.get_feature_names_out()
    assert model.candidate_tower_.get_layer("candidate_hidden") is not None
    assert np.isfinite(model.score(ds.user_ids)).all()
    assert model.item_vectors_from_tags(["Group Odd"]).shape == (1, model.embedding_dim)


def test_use_features_true_requires_the_text_column():
    with pytest.raises(ValueError) as info:
        two_tower(use_features=True).fit(_interactions_only())
    message = str(info.value)
    assert "use_features=True needs an items column 'tags'" in message
    assert "['item_id']" in message
    assert "use_features='auto' or False" in message


def test_use_features_true_refuses_empty_text_auto_falls_back():
    ds, _ = checkerboard()
    empty = data.Dataset.from_frames(ds.interactions, ds.items.assign(tags=""))
    with pytest.raises(ValueError, match="has no usable words"):
        two_tower(use_features=True).fit(empty)
    model = two_tower(epochs=1).fit(empty)
    assert model.uses_features_ is False


def test_use_features_false_never_reads_the_text():
    model = fitted_on_checkerboard(use_features=False)
    assert model.uses_features_ is False
    assert not hasattr(model, "vectorizer_")


def test_text_column_names_another_column():
    ds, _ = checkerboard()
    items = ds.items.rename(columns={"tags": "description"})
    renamed = data.Dataset.from_frames(ds.interactions, items)
    assert two_tower(epochs=1).fit(renamed).uses_features_ is False
    model = two_tower(epochs=1, text_column="description").fit(renamed)
    assert model.uses_features_ is True


def test_tensorflow_environment_applied_without_overriding(monkeypatch):
    from recsys_helpers import environment
    from recsys_helpers.models.two_tower import _keras

    for key in environment.TENSORFLOW_ENV:
        monkeypatch.delenv(key, raising=False)
    _keras()
    for key, value in environment.TENSORFLOW_ENV.items():
        assert os.environ[key] == value
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")  # the user's choice stays
    _keras()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"
