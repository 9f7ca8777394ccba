"""Checks for the exercises of lesson ``10_online_evaluation``.

Each check calls the learner's function on fresh random inputs and compares
it with the formula of :mod:`recsys_helpers.simulation`; a wrong answer is
told what went wrong (a forgotten position bias, an IPS weight upside down,
a one-sided z).

    from recsys_helpers.exercises import online_evaluation
    online_evaluation.check_expected_purchases(expected_purchases)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

from recsys_helpers import simulation
from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = [
    "check_expected_purchases",
    "check_ips",
    "check_users_needed",
    "reference_expected_purchases",
]


def reference_expected_purchases(
    proba: np.ndarray, slates: np.ndarray, position_bias: np.ndarray
) -> np.ndarray:
    """E[purchases of visit v] = sum_j e_j * p_v[slate_vj], one value per visit."""
    shown = np.take_along_axis(proba, slates, axis=1)
    return shown @ position_bias


def check_expected_purchases(
    expected_purchases: Callable[..., np.ndarray],
) -> CheckResult:
    """Exercise 1: a slate's expected purchases under position bias."""

    def test() -> None:
        rng = np.random.default_rng(10)
        proba = rng.dirichlet(np.full(12, 0.3), size=8)
        slates = np.argsort(rng.random((8, 12)), axis=1)[:, :4]
        bias = 1.0 / np.log2(np.arange(2, 6))
        got = np.asarray(expected_purchases(proba.copy(), slates, bias), dtype=float)
        want = reference_expected_purchases(proba, slates, bias)
        assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}."
        unbiased = np.take_along_axis(proba, slates, axis=1).sum(axis=1)
        if np.allclose(got, unbiased):
            raise AssertionError(
                "every position counts fully: the position bias is missing."
            )
        assert np.allclose(got, want), (
            "expected, per visit, the sum over positions of the examination "
            "probability times the truth's probability of the item shown there."
        )

    return run_check(
        "Exercise 1 (expected purchases)",
        "look up, for each visit, the truth's probability of every item in its "
        "slate (in slate order), weight each position by its examination "
        "probability and add them up.",
        test,
    )


def check_ips(ips: Callable[..., float]) -> CheckResult:
    """Exercise 2: the inverse-propensity estimate of a new policy's value."""

    def test() -> None:
        rng = np.random.default_rng(11)
        logging = rng.uniform(0.05, 1.0, 500)
        target = (rng.random(500) < 0.4).astype(float)
        rewards = (rng.random(500) < 0.3).astype(float)
        got = float(ips(rewards, target, logging))
        want = simulation.ips(rewards, target, logging)
        if np.isclose(got, simulation.snips(rewards, target, logging)):
            raise AssertionError(
                "that is the self-normalised estimate (divided by the sum of the "
                "weights); plain IPS divides by the number of logged decisions."
            )
        if np.isclose(got, np.mean(rewards * target * logging)):
            raise AssertionError(
                "the weight is upside down: divide by the logging propensity."
            )
        if np.isclose(got, np.mean(rewards * target)):
            raise AssertionError("the logging propensity is missing from the weight.")
        assert np.isclose(got, want), (
            f"got {got:.4f}, expected {want:.4f}: the mean of reward times "
            "target propensity over logging propensity."
        )

    return run_check(
        "Exercise 2 (IPS)",
        "re-weight every logged reward by how much more (or less) often the new "
        "policy would have taken the logged action than the logging policy did, "
        "then average over all logged decisions.",
        test,
    )


def check_users_needed(users_needed: Callable[..., float]) -> CheckResult:
    """Exercise 3: the users per arm of a two-sided A/B test."""

    def test() -> None:
        for std, diff, alpha, power in ((0.7, 0.05, 0.05, 0.8), (1.3, 0.2, 0.01, 0.9)):
            got = float(users_needed(std, diff, alpha, power))
            want = simulation.users_needed(std, diff, alpha, power)
            one_sided = stats.norm.ppf(1 - alpha) + stats.norm.ppf(power)
            if abs(got - 2 * one_sided**2 * std**2 / diff**2) <= 1:
                raise AssertionError(
                    "that z is one-sided: the test is two-sided (alpha / 2)."
                )
            if abs(got - want / 2) <= 1:
                raise AssertionError(
                    "half the answer: the difference of two means has the "
                    "variance of both arms (the factor 2)."
                )
            assert abs(got - want) <= 1, (
                f"got {got:.0f}, expected {want} users per arm for std={std}, "
                f"difference={diff}, alpha={alpha}, power={power}."
            )

    return run_check(
        "Exercise 3 (users needed)",
        "the two normal quantiles (one for the two-sided significance level, one "
        "for the power) add up; square their sum, scale it by the variance of both "
        "arms and divide by the squared difference; round up.",
        test,
    )
