"""Helpers for the course *Recommender Systems from Scratch*.

``from recsys_helpers import data, split, metrics, evaluation, models``
"""

from recsys_helpers import data, evaluation, metrics, models, split

__all__ = ["data", "evaluation", "metrics", "models", "split"]
__version__ = "0.1.0"
