"""Reference recommenders, tested and benchmarked.

Importing this package is cheap: each model's module is imported on first use,
so TensorFlow loads only when :class:`TwoTower` is used.

Models: ``Popularity``, ``Random``, ``Oracle`` (baselines), ``ContentBased``,
``UserKNN``, ``ItemKNN``, ``EASE``, ``PureSVD``, ``ALS``, ``BPR``, ``TwoTower``,
``Transitions``, ``SASRec``.
"""

from __future__ import annotations

import importlib
from typing import Any

from recsys_helpers.models.base import Recommender

_WHERE = {
    "Popularity": "baselines",
    "Random": "baselines",
    "Oracle": "baselines",
    "ContentBased": "content",
    "UserKNN": "neighbors",
    "ItemKNN": "neighbors",
    "EASE": "ease",
    "PureSVD": "factorization",
    "ALS": "factorization",
    "BPR": "bpr",
    "TwoTower": "two_tower",
    "Transitions": "sequential",
    "SASRec": "sasrec",
}

__all__ = ["Recommender", *_WHERE]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module = importlib.import_module(f"recsys_helpers.models.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'recsys_helpers.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
