"""Hyper-parameter checks shared by the reference models.

Each names the owner, the argument and its value ("ALS: factors must be a
positive integer, got 0") and is called at the start of ``_fit``, scikit-learn
style, so a bad value fails before any work and the model stays unfitted.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["check_choice", "check_int", "check_number"]


def _prefix(owner: str) -> str:
    return f"{owner}: " if owner else ""


def check_int(owner: str, name: str, value: Any, minimum: int = 1) -> None:
    """Raise ValueError unless ``value`` is an integer >= ``minimum``."""
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{_prefix(owner)}{name} must be {what}, got {value!r}")


def check_number(
    owner: str,
    name: str,
    value: Any,
    minimum: float = 0.0,
    strict: bool = False,
    allow_none: bool = False,
) -> None:
    """Raise ValueError unless ``value`` is a finite number >= (or >) minimum."""
    if value is None and allow_none:
        return
    ok = (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool | np.bool_)
        and math.isfinite(value)
        and (value > minimum if strict else value >= minimum)
    )
    if not ok:
        bound = f"{'>' if strict else '>='} {minimum:g}"
        none = " or None" if allow_none else ""
        raise ValueError(f"{_prefix(owner)}{name} must be {bound}{none}, got {value!r}")


def check_choice(owner: str, name: str, value: Any, choices: Sequence[Any]) -> None:
    """Raise ValueError unless ``value`` is one of ``choices`` (type-strict)."""
    if isinstance(value, np.bool_):
        value = bool(value)
    if not any(type(value) is type(c) and value == c for c in choices):
        raise ValueError(
            f"{_prefix(owner)}{name} must be one of {tuple(choices)}, got {value!r}"
        )
