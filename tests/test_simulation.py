"""The online simulator and its estimators (recsys_helpers.simulation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_helpers import data, evaluation, models
from recsys_helpers import simulation as sim


@pytest.fixture(scope="module")
def shop():
    return data.load("shop")


@pytest.fixture(scope="module")
def world(shop):
    simulator = sim.Simulator(shop, start_day=300, k=10)
    visits = simulator.arrivals(days=7, visit_rate=0.5, seed=0)
    return simulator, visits


@pytest.fixture(scope="module")
def fitted(world):
    simulator, _ = world
    return {
        "Random": models.Random().fit(simulator.history),
        "Popularity": models.Popularity().fit(simulator.history),
        "Oracle": models.Oracle().fit(simulator.history),
    }


def test_history_is_the_shop_before_the_start(shop, world):
    simulator, visits = world
    start = sim.YEAR_START + 300 * sim.DAY
    assert simulator.history.interactions["timestamp"].max() < start
    assert len(simulator.history.interactions) == int(
        (shop.interactions["timestamp"] < start).sum()
    )
    assert visits.frame["timestamp"].min() >= start
    np.testing.assert_allclose(visits.proba.sum(axis=1), 1.0)


def test_oracle_beats_random_online_with_a_ci_above_zero(world, fitted):
    simulator, visits = world
    users = simulator.active_users
    oracle = sim.purchases_per_user(simulator.run(fitted["Oracle"], visits, 1), users)
    rand = sim.purchases_per_user(simulator.run(fitted["Random"], visits, 1), users)
    result = evaluation.paired_bootstrap(oracle, rand)
    assert result["low"] > 0, result
    # and as an A/B test with other users in each arm
    half = users.size // 2
    ab = sim.ab_test(rand[:half], oracle[half:])
    assert ab["low"] > 0 and ab["p_value"] < 0.05, ab


def test_logged_purchases_agree_with_the_exact_expected_value(world, fitted):
    simulator, visits = world
    log = simulator.run(fitted["Popularity"], visits, seed=3)
    observed = log["purchased"].sum() / len(visits)
    expected = simulator.expected_purchases(fitted["Popularity"], visits)
    per_visit = log.groupby("visit")["purchased"].sum().to_numpy()
    se = per_visit.std() / np.sqrt(per_visit.size)
    assert abs(observed - expected) < 4 * se


def test_position_bias_lowers_purchases_at_lower_positions(world, fitted):
    simulator, visits = world
    log = simulator.run(fitted["Random"], visits, seed=2)
    rate = log.groupby("position")["examined"].mean().to_numpy()
    assert rate[0] > rate[4] > rate[9]
    # a random slate puts the same kind of item everywhere: only examination
    # makes the top position sell more
    bought = log.groupby("position")["purchased"].sum().to_numpy()
    assert bought[:3].sum() > bought[-3:].sum() * 1.5
    flat = sim.Simulator(simulator.shop, 300, 10, position_bias=np.ones(10))
    log_flat = flat.run(fitted["Random"], visits, seed=2)
    assert log_flat["examined"].all()


def test_one_log_row_per_impression_with_propensities(world, fitted):
    simulator, visits = world
    log = simulator.run(fitted["Popularity"], visits, seed=0)
    assert len(log) == len(visits) * 10
    assert (log["propensity"] == 1.0).all()
    assert set(log["position"]) == set(range(1, 11))
    assert log.groupby("visit")["purchased"].sum().max() <= 1
    policy = sim.Softmax(fitted["Popularity"], temperature=1.0)
    log = simulator.run(policy, visits, seed=0)
    assert ((log["propensity"] > 0) & (log["propensity"] <= 1)).all()
    assert not log.duplicated(["visit", "item_id"]).any()


def test_same_seed_same_log_other_seed_other_log(world, fitted):
    simulator, visits = world
    policy = sim.EpsilonGreedy(fitted["Popularity"], epsilon=0.3)
    first = simulator.run(policy, visits, seed=5)
    pd.testing.assert_frame_equal(first, simulator.run(policy, visits, seed=5))
    assert not first.equals(simulator.run(policy, visits, seed=6))
    again = simulator.arrivals(days=7, visit_rate=0.5, seed=0)
    pd.testing.assert_frame_equal(again.frame, visits.frame)


def test_ips_is_unbiased_for_a_uniform_logging_policy(shop, fitted):
    simulator = sim.Simulator(shop, start_day=300, k=1)
    visits = simulator.arrivals(days=10, visit_rate=1.0, seed=1)
    target = sim.Greedy(fitted["Popularity"])
    truth = simulator.expected_purchases(target, visits)
    logging = sim.EpsilonGreedy(fitted["Random"], epsilon=1.0)  # uniform
    wanted = target.first_proba(visits.frame)
    estimates = []
    for seed in range(40):
        log = simulator.run(logging, visits, seed=seed)
        pi_e = wanted[log["visit"], log["item"]]
        estimates.append(sim.ips(log["purchased"], pi_e, log["propensity"]))
    low, high = evaluation.bootstrap_ci(np.array(estimates))
    assert low <= truth <= high, (low, truth, high)


def test_snips_equals_ips_when_weights_average_one():
    rewards = np.array([1.0, 0.0, 1.0, 0.0])
    logging = np.full(4, 0.5)
    target = np.array([1.0, 1.0, 0.0, 0.0])
    assert sim.ips(rewards, target, logging) == pytest.approx(0.5)
    assert sim.snips(rewards, target, logging) == pytest.approx(0.5)
    assert sim.snips(rewards, np.zeros(4), logging) == 0.0


def test_team_draft_is_fair_and_credits_teams():
    rng = np.random.default_rng(0)
    a = np.tile(np.arange(10), (2000, 1))
    b = np.tile(np.arange(10)[::-1], (2000, 1))
    slate, team = sim.team_draft(a, b, 6, rng)
    for row in slate[:50]:
        assert len(set(row)) == 6
    assert abs(team.mean() - 0.5) < 0.02
    # an item picked by A is always A's best item not already in the slate
    same, team_same = sim.team_draft(a, a, 4, rng)
    np.testing.assert_array_equal(same, np.tile(np.arange(4), (2000, 1)))
    assert (np.abs(team_same.sum(axis=1) - 2) <= 0).all()


def test_interleaving_finds_the_better_policy(world, fitted):
    simulator, visits = world
    log = simulator.run_interleaved(fitted["Random"], fitted["Oracle"], visits, 0)
    pref = sim.interleaving_preferences(log, simulator.active_users)
    assert pref.sum() > 0
    assert sim.interleaving_detection_rate(pref, 500, 200) > 0.9


def test_power_analysis_and_detection_rate_agree():
    rng = np.random.default_rng(0)
    a = rng.poisson(0.5, 20_000).astype(float)
    b = rng.poisson(0.55, 20_000).astype(float)
    n = sim.users_needed(std=np.sqrt(0.5), difference=0.05)
    assert 3000 < n < 3300  # 2 * (1.96 + 0.84)^2 * 0.5 / 0.05^2 = 3140
    rate = sim.ab_detection_rate(a, b, n, n_experiments=400)
    assert 0.7 < rate < 0.9


def test_peeking_inflates_false_positives():
    rng = np.random.default_rng(1)
    daily = rng.poisson(0.1, (2000, 20)).astype(float)
    rates = sim.peeking_false_positives(daily, n_experiments=500)
    assert rates["final"] < 0.09
    assert rates["peeking"] > rates["final"] + 0.05


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"k": 401}, ValueError, "larger than the catalogue"),
        ({"k": 0}, ValueError, "at least 1"),
        ({"position_bias": -np.ones(10)}, ValueError, "in [0, 1]"),
        ({"position_bias": np.ones(3)}, ValueError, "one value per position"),
        ({"start_day": -5}, ValueError, "start_day"),
    ],
)
def test_bad_simulator_arguments_get_clear_errors(shop, kwargs, error, text):
    with pytest.raises(error, match=text.replace("[", r"\[").replace("]", r"\]")):
        sim.Simulator(shop, **kwargs)


def test_bad_rates_and_datasets_get_clear_errors(world):
    simulator, _ = world
    with pytest.raises(ValueError, match="visit_rate"):
        simulator.arrivals(days=3, visit_rate=-0.1)
    with pytest.raises(ValueError, match="epsilon"):
        sim.EpsilonGreedy(models.Popularity().fit(simulator.history), -0.2)
    with pytest.raises(ValueError, match="temperature"):
        sim.Softmax(models.Popularity().fit(simulator.history), 0.0)
    with pytest.raises(ValueError, match="logging propensities"):
        sim.ips(np.ones(2), np.ones(2), np.array([0.5, 0.0]))
    toy = data.load("toy")
    with pytest.raises(ValueError, match=r"always data\.load"):
        sim.Simulator(toy)


class _BadPolicy:
    def __init__(self, items, propensity):
        self.items, self.propensity = items, propensity

    def slate(self, visits, k, rng):
        n = len(visits)
        return self.items(n, k), self.propensity(n, k)


@pytest.mark.parametrize(
    ("items", "propensity", "text"),
    [
        (lambda n, k: np.zeros((n, k - 1), int), np.ones, "expected"),
        (lambda n, k: np.full((n, k), 999), np.ones, "outside"),
        (lambda n, k: np.zeros((n, k), int), np.ones, "twice"),
        (lambda n, k: np.tile(np.arange(k), (n, 1)), np.zeros, "propensities"),
        (lambda n, k: np.tile(np.arange(k), (n, 1)) + 0.5, np.ones, "integer"),
    ],
)
def test_unknown_policy_output_gets_a_clear_error(world, items, propensity, text):
    simulator, visits = world
    with pytest.raises((ValueError, TypeError), match=text):
        simulator.run(_BadPolicy(items, lambda n, k: propensity((n, k))), visits)


def test_not_a_policy_gets_a_clear_error(world):
    simulator, visits = world
    with pytest.raises(TypeError, match="slate"):
        simulator.run("Popularity", visits)


def test_inputs_are_never_mutated(shop, world, fitted):
    simulator, visits = world
    before = shop.interactions.copy()
    frame, proba = visits.frame.copy(), visits.proba.copy()
    bias = np.ones(10)
    simulator_flat = sim.Simulator(shop, 300, 10, position_bias=bias)
    bias[0] = 0.0
    assert simulator_flat.position_bias[0] == 1.0
    log = simulator.run(sim.Softmax(fitted["Popularity"], 0.5), visits, seed=0)
    log_copy = log.copy()
    later = simulator.after(log, days=7)
    sim.purchases_per_user(log, simulator.active_users)
    pd.testing.assert_frame_equal(shop.interactions, before)
    pd.testing.assert_frame_equal(visits.frame, frame)
    np.testing.assert_array_equal(visits.proba, proba)
    pd.testing.assert_frame_equal(log, log_copy)
    added = len(later.history.interactions) - len(simulator.history.interactions)
    assert added >= log["purchased"].sum()
