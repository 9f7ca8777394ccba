"""Every reference model with its default hyper-parameters, in one place.

The comparison lesson (``11_comparison``) and ``benchmarks/leaderboard.py``
compare the same line-up. The
defaults were chosen on validation splits carved from training data by the
``benchmarks/tune_*.py`` scripts, never on test data.
"""

from __future__ import annotations

from recsys_helpers.models.base import Recommender

__all__ = ["CONTENT", "FROM_INTERACTIONS", "SEQUENTIAL", "reference_models"]

# Models that learn from interactions only (gated against Popularity on real data).
FROM_INTERACTIONS = ("UserKNN", "ItemKNN", "PureSVD", "ALS", "TwoTower")
# Models that use the order of purchases (reported, not gated, on by_time).
SEQUENTIAL = ("Transitions",)
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
    from recsys_helpers import models

    zoo: dict[str, Recommender] = {
        "Random": models.Random(random_state=seed),
        "Popularity": models.Popularity(),
        "ContentBased": models.ContentBased(),
        "UserKNN": models.UserKNN(),
        "ItemKNN": models.ItemKNN(),
        "PureSVD": models.PureSVD(random_state=seed),
        "ALS": models.ALS(random_state=seed),
        "TwoTower": models.TwoTower(random_state=seed),
        "Transitions": models.Transitions(),
    }
    if with_oracle:
        zoo["Oracle"] = models.Oracle()
    return zoo
