"""Exercise cases of lesson 09 (scaling out): reference and wrong answers."""

from __future__ import annotations

import numpy as np

from recsys_helpers.exercises import scaling
from tests.exercise_cases import Exercise


def _constant_penalties(matrix, reg):
    return np.full(matrix.shape[0], reg), np.full(matrix.shape[1], reg)


def _swapped_penalties(matrix, reg):
    users, items = scaling.reference_spark_penalties(matrix, reg)
    return items, users


def _cut_then_filter(lists, seen, n):
    return [
        [i for i in items[:n] if i not in s]
        for items, s in zip(lists, seen, strict=True)
    ]


def _no_filter(lists, seen, n):
    return [items[:n] for items in lists]


def _linear_fit(sizes, seconds, target):
    slope, intercept = np.polyfit(sizes, seconds, 1)
    return float(slope), float(slope * target + intercept)


def _wrong_base(sizes, seconds, target):
    slope, intercept = np.polyfit(np.log10(sizes), np.log10(seconds), 1)
    return float(slope), float(np.exp(intercept + slope * np.log10(target)))


def _users_only(n_users, n_items, factors):
    return n_users * factors * 4 / 1e9


def _float64(n_users, n_items, factors):
    return (n_users + n_items) * factors * 8 / 1e9


EXERCISES = [
    Exercise(
        scaling.check_spark_penalties,
        scaling.reference_spark_penalties,
        wrong={
            "constant": (_constant_penalties, "models.ALS's lambda"),
            "swapped": (_swapped_penalties, "swapped"),
        },
    ),
    Exercise(
        scaling.check_top_n_unseen_from_longer_lists,
        scaling.reference_top_n_unseen_from_longer_lists,
        wrong={
            "cut first": (_cut_then_filter, "drop first, then cut"),
            "no filter": (_no_filter, "seen item is still"),
        },
    ),
    Exercise(
        scaling.check_extrapolate,
        scaling.reference_extrapolate,
        wrong={
            "linear axes": (_linear_fit, "linear axes"),
            "mixed bases": (_wrong_base, "same base"),
        },
    ),
    Exercise(
        scaling.check_factor_memory,
        scaling.reference_factor_memory,
        wrong={
            "users only": (_users_only, "add the items"),
            "float64": (_float64, "float64"),
        },
    ),
]
