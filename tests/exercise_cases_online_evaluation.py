"""Exercise checks of lesson 10 (online evaluation) against right and wrong answers."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from recsys_helpers.exercises import online_evaluation
from tests.exercise_cases import Exercise


def expected_purchases(proba, slates, position_bias):
    return np.take_along_axis(proba, slates, axis=1) @ position_bias


def expected_purchases_no_bias(proba, slates, position_bias):
    return np.take_along_axis(proba, slates, axis=1).sum(axis=1)


def expected_purchases_by_column(proba, slates, position_bias):
    # positions confused with catalogue columns
    return proba[:, : slates.shape[1]] @ position_bias


def ips(rewards, target, logging):
    return float(np.mean(rewards * target / logging))


def ips_self_normalised(rewards, target, logging):
    weights = target / logging
    return float(np.sum(rewards * weights) / np.sum(weights))


def ips_upside_down(rewards, target, logging):
    return float(np.mean(rewards * target * logging))


def ips_unweighted(rewards, target, logging):
    return float(np.mean(rewards * target))


def users_needed(std, difference, alpha, power):
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return math.ceil(2 * z**2 * std**2 / difference**2)


def users_needed_one_sided(std, difference, alpha, power):
    z = stats.norm.ppf(1 - alpha) + stats.norm.ppf(power)
    return math.ceil(2 * z**2 * std**2 / difference**2)


def users_needed_one_arm(std, difference, alpha, power):
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return math.ceil(z**2 * std**2 / difference**2)


def users_needed_not_squared(std, difference, alpha, power):
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return math.ceil(2 * z * std / difference)


EXERCISES = [
    Exercise(
        online_evaluation.check_expected_purchases,
        expected_purchases,
        wrong={
            "no position bias": (
                expected_purchases_no_bias,
                "position bias is missing",
            ),
            "columns, not slates": (expected_purchases_by_column, "examination"),
        },
    ),
    Exercise(
        online_evaluation.check_ips,
        ips,
        wrong={
            "self-normalised": (ips_self_normalised, "self-normalised"),
            "upside down": (ips_upside_down, "upside down"),
            "no logging propensity": (ips_unweighted, "logging propensity is missing"),
        },
    ),
    Exercise(
        online_evaluation.check_users_needed,
        users_needed,
        wrong={
            "one-sided": (users_needed_one_sided, "one-sided"),
            "one arm": (users_needed_one_arm, "factor 2"),
            "not squared": (users_needed_not_squared, "users per arm"),
        },
    ),
]
