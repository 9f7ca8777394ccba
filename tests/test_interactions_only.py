"""Defaults that fit any data: a MovieLens file read as a bare interaction log.

A learner who brings their own data has ratings and no catalogue features.
Every reference model must fit it with its defaults (see the contract in
``tests/model_contract.py``), and the two-tower model must still beat
Popularity there. Skipped without a MovieLens copy (``RECSYS_DATA_DIR``).
"""

import os
from pathlib import Path

import pandas as pd
import pytest

from recsys_helpers import evaluation, models, split
from recsys_helpers.data import Dataset

SHARED_DATA = Path(
    os.environ.get("RECSYS_DATA_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
RATINGS = SHARED_DATA / "ml-latest-small" / "ratings.csv"


@pytest.fixture(scope="module")
def bare_movielens():
    if not RATINGS.is_file():
        pytest.skip(f"no ml-latest-small ratings.csv under {SHARED_DATA}")
    frame = pd.read_csv(RATINGS).rename(
        columns={"userId": "user_id", "movieId": "item_id"}
    )
    return Dataset.from_frames(frame, name="ratings.csv alone")


def test_two_tower_with_defaults_beats_popularity_on_bare_movielens(bare_movielens):
    assert list(bare_movielens.items.columns) == ["item_id"]  # no side information
    train, test = split.by_time(bare_movielens, test_fraction=0.2)
    two_tower = models.TwoTower(random_state=42)
    result = evaluation.compare(
        {"TwoTower": two_tower, "Popularity": models.Popularity()}, train, test
    )
    assert two_tower.uses_features_ is False
    verdict = evaluation.versus(result.per_user, baseline="Popularity")
    assert verdict.loc["TwoTower", "verdict"] == "wins", verdict
