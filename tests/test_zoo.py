"""Tests of recsys_helpers.models.zoo: the line-up every comparison uses."""

import subprocess
import sys

import pytest

from recsys_helpers import models
from recsys_helpers.models.base import Recommender
from recsys_helpers.models.zoo import (
    CONTENT,
    FROM_INTERACTIONS,
    MULTI_STAGE,
    SEQUENTIAL,
    reference_models,
)


def test_every_model_is_an_unfitted_recommender():
    for name, model in reference_models().items():
        assert isinstance(model, Recommender), name
        assert not hasattr(model, "train_"), f"{name} is already fitted"
        learned = [k for k in vars(model) if k.endswith("_")]
        assert not learned, f"{name} has learned state {learned}"
        with pytest.raises(RuntimeError, match="not fitted"):
            model.score([1])


def test_names_are_the_class_names_and_unique():
    zoo = reference_models(with_oracle=True)
    assert all(type(model).__name__ == name for name, model in zoo.items())
    assert len({type(model) for model in zoo.values()}) == len(zoo)
    assert list(zoo)[:2] == ["Random", "Popularity"]  # baselines first


@pytest.mark.parametrize("seed", [0, 7, 42])
def test_random_state_comes_from_the_seed(seed):
    zoo = reference_models(seed=seed)
    seeded = [name for name, m in zoo.items() if "random_state" in m.get_params()]
    # every model that draws random numbers takes the seed
    assert {
        "Random",
        "PureSVD",
        "ALS",
        "BPR",
        "TwoTower",
        "SASRec",
        "TwoStage",
    } <= set(seeded)
    for name in seeded:
        assert zoo[name].get_params()["random_state"] == seed, name


def test_default_seed_is_42():
    zoo = reference_models()
    assert zoo["ALS"].random_state == 42
    assert zoo["TwoTower"].random_state == 42


def test_models_keep_their_default_hyper_parameters():
    for name, model in reference_models(seed=3).items():
        params = model.get_params()
        defaults = type(model)().get_params()
        if "random_state" in params:
            defaults["random_state"] = 3
        assert params == defaults, name


def test_every_call_gives_new_instances():
    first, second = reference_models(), reference_models()
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] is not second[name], name


def test_with_oracle_adds_the_oracle():
    plain = reference_models()
    with_oracle = reference_models(with_oracle=True)
    assert "Oracle" not in plain
    assert list(with_oracle) == [*plain, "Oracle"]
    assert isinstance(with_oracle["Oracle"], models.Oracle)


@pytest.mark.parametrize("group", [FROM_INTERACTIONS, SEQUENTIAL, MULTI_STAGE, CONTENT])
def test_groups_name_models_of_the_zoo(group):
    zoo = reference_models()
    assert group, "empty group"
    assert len(set(group)) == len(group)
    assert set(group) <= set(zoo), set(group) - set(zoo)
    for name in group:
        assert name not in ("Random", "Popularity", "Oracle"), name


def test_content_models_read_item_text():
    zoo = reference_models()
    for name in CONTENT:
        assert "text_column" in zoo[name].get_params(), name


def test_building_the_zoo_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from recsys_helpers.models.zoo import reference_models\n"
        "reference_models(with_oracle=True)\n"
        "heavy = ('tensorflow', 'keras', 'lightgbm', 'keras_rs')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"imported eagerly: {out.stdout}"
