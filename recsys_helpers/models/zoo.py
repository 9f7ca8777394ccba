"""Every reference model with its default hyper-parameters, in one place.

The comparison lesson (``11_comparison``) and ``benchmarks/leaderboard.py``
compare the same line-up. The defaults were chosen on validation splits
carved from training data by the ``benchmarks/tune_*.py`` scripts, never on
test data.
"""

from __future__ import annotations

from recsys_helpers.models.base import Recommender

__all__ = [
    "CONTENT",
    "FROM_INTERACTIONS",
    "MULTI_STAGE",
    "SEQUENTIAL",
    "reference_models",
]

# Models that learn from interactions only (gated against Popularity on real data).
FROM_INTERACTIONS = (
    "UserKNN",
    "ItemKNN",
    "EASE",
    "PureSVD",
    "ALS",
    "BPR",
    "TwoTower",
)
# Models that use the order of purchases (reported, not gated, on by_time:
# their task is the next purchase, judged on leave_last_out).
SEQUENTIAL = ("Transitions", "SASRec")
# Retrieve, then rank with features (lesson 07): reported, not gated.
MULTI_STAGE = ("TwoStage",)
# Models that read item text and can score items nobody has bought.
CONTENT = ("ContentBased", "TwoTower")


def reference_models(
    with_oracle: bool = False, seed: int = 42
) -> dict[str, Recommender]:
    """New, unfitted instances of every reference model.

    Args:
        with_oracle: Add the Oracle (synthetic ``shop`` data only).
        seed: ``random_state`` of every model that draws random numbers.

    Returns:
        Name -> model, baselines first.
    """
    from recsys_helpers import models, ranking

    zoo: dict[str, Recommender] = {
        "Random": models.Random(random_state=seed),
        "Popularity": models.Popularity(),
        "ContentBased": models.ContentBased(),
        "UserKNN": models.UserKNN(),
        "ItemKNN": models.ItemKNN(),
        "EASE": models.EASE(),
        "PureSVD": models.PureSVD(random_state=seed),
        "ALS": models.ALS(random_state=seed),
        "BPR": models.BPR(random_state=seed),
        "TwoTower": models.TwoTower(random_state=seed),
        "Transitions": models.Transitions(),
        "SASRec": models.SASRec(random_state=seed),
        "TwoStage": ranking.TwoStage(random_state=seed),
    }
    if with_oracle:
        zoo["Oracle"] = models.Oracle()
    return zoo
