"""Lesson 10's online figures at a larger size, and the simulator's throughput.

Usage::

    python benchmarks/online_experiments.py [--users 10000] [--redraws 10]

On ``data.load("shop", n_users=...)`` (the same world, more users) it prints:

1. throughput: 100,000 impressions (10,000 visits x k=10) drawn on the
   default shop: the truth's probabilities (``arrivals``) and the policy's
   slates + purchases (``run``) timed apart;
2. the A/B test Popularity (A) vs ALS (B) over 14 days: the test's
   difference and 95% CI, the true difference (exact expected purchases,
   paired bootstrap), the users per arm the power analysis asks for, and the
   false-positive rate of an A/A test checked daily;
3. team-draft interleaving vs the A/B test: users for 80% power of each to
   find the truly better of the two policies, from ``--redraws`` redraws of
   the two weeks;
4. off-policy evaluation (k=1): bias and spread of IPS and SNIPS for the
   ItemKNN target, logged by Softmax(ALS, T) over temperatures.

Timings depend on the machine; the statistical figures are seeded.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from recsys_helpers import data, evaluation, models, simulation

SEED = 42


def throughput() -> None:
    """Seconds to draw 100,000 impressions on the default shop."""
    shop = data.load("shop")
    simulator = simulation.Simulator(shop, start_day=300, k=10)
    start = time.perf_counter()
    visits = simulator.arrivals(days=21, visit_rate=0.5, seed=SEED)
    visits = simulation.Visits(visits.frame.iloc[:10_000], visits.proba[:10_000])
    arrivals_s = time.perf_counter() - start
    policies = {
        "Greedy(ALS)": models.ALS().fit(simulator.history),
        "Softmax(ALS, T=1)": None,
    }
    policies["Softmax(ALS, T=1)"] = simulation.Softmax(policies["Greedy(ALS)"], 1.0)
    print("== throughput (default shop, 10,000 visits x k=10 = 100,000 impressions)")
    print(f"truth probabilities (arrivals of 21 days, all visits): {arrivals_s:.2f} s")
    for name, policy in policies.items():
        start = time.perf_counter()
        log = simulator.run(policy, visits, seed=SEED)
        seconds = time.perf_counter() - start
        print(
            f"run {name}: {len(log):,} impressions in {seconds:.2f} s "
            f"({len(log) / seconds:,.0f} impressions/s)"
        )


def expected_per_user(simulator, policy, visits, users) -> np.ndarray:
    """Each user's exact expected purchases over the visits."""
    values = pd.Series(simulator.expected_per_visit(policy, visits))
    per_user = values.groupby(visits.frame["user_id"].to_numpy()).sum()
    return per_user.reindex(users, fill_value=0.0).to_numpy()


def ab_and_interleaving(shop: data.Dataset, redraws: int) -> None:
    """Section 3 and 5 of the lesson on a bigger shop."""
    simulator = simulation.Simulator(shop, start_day=300, k=10)
    visits = simulator.arrivals(days=14, visit_rate=0.5, seed=SEED)
    users = simulator.active_users
    pop = models.Popularity().fit(simulator.history)
    als = models.ALS().fit(simulator.history)
    print(f"\n== A/B test, {users.size:,} users, {len(visits):,} visits in 14 days")
    in_b = np.random.default_rng(SEED).random(users.size) < 0.5
    log_a = simulator.run(pop, visits, seed=1)
    per_a = simulation.purchases_per_user(log_a, users)
    per_b = simulation.purchases_per_user(simulator.run(als, visits, seed=2), users)
    ab = simulation.ab_test(per_a[~in_b], per_b[in_b])
    print("A/B test (ALS - Popularity):", {k: round(v, 4) for k, v in ab.items()})
    truth = evaluation.paired_bootstrap(
        expected_per_user(simulator, als, visits, users),
        expected_per_user(simulator, pop, visits, users),
        seed=SEED,
    )
    print("true difference:", {k: round(v, 4) for k, v in truth.items()})
    better, worse = (als, pop) if truth["difference"] > 0 else (pop, als)
    print(f"the better policy (power below is for finding it): {type(better).__name__}")
    std = float(np.sqrt((per_a.var() + per_b.var()) / 2))
    needed = simulation.users_needed(std, truth["difference"])
    print(f"users needed per arm (80% power, alpha 0.05): {needed:,}")
    daily = (
        log_a.pivot_table(
            index="user_id", columns="day", values="purchased", aggfunc="sum"
        )
        .reindex(users, fill_value=0)
        .fillna(0)
        .to_numpy()
    )
    peeking = simulation.peeking_false_positives(daily, 1000, seed=SEED)
    print(
        f"A/A false positives: one look {peeking['final']:.3f}, "
        f"daily {peeking['peeking']:.3f}"
    )

    pools = {"A": [], "B": [], "preference": []}
    for r in range(redraws):
        pools["A"].append(
            simulation.purchases_per_user(simulator.run(worse, visits, 100 + r), users)
        )
        pools["B"].append(
            simulation.purchases_per_user(simulator.run(better, visits, 100 + r), users)
        )
        mixed = simulator.run_interleaved(worse, better, visits, 100 + r)
        pools["preference"].append(simulation.interleaving_preferences(mixed, users))
    pools = {name: np.concatenate(values) for name, values in pools.items()}
    sizes = [
        100,
        200,
        300,
        500,
        1000,
        2000,
        3000,
        4000,
        6000,
        8000,
        12000,
        16000,
        24000,
    ]
    ab_power = [
        simulation.ab_detection_rate(pools["A"], pools["B"], n // 2, 400, seed=SEED)
        for n in sizes
    ]
    mix_power = [
        simulation.interleaving_detection_rate(pools["preference"], n, 400, seed=SEED)
        for n in sizes
    ]
    power = pd.DataFrame(
        {"A/B test": ab_power, "interleaving": mix_power},
        index=pd.Index(sizes, name="users"),
    )
    print(f"\n== power ({redraws} redraws of the two weeks)")
    print(power.round(3).to_string())
    enough = {
        m: (int(power.index[power[m] >= 0.8][0]) if (power[m] >= 0.8).any() else None)
        for m in power
    }
    print(f"users for 80% power: {enough}")


def off_policy(shop: data.Dataset) -> None:
    """Section 6 of the lesson on a bigger shop."""
    simulator = simulation.Simulator(shop, start_day=300, k=1)
    visits = simulator.arrivals(days=14, visit_rate=0.5, seed=SEED)
    als = models.ALS().fit(simulator.history)
    target = simulation.Greedy(models.ItemKNN().fit(simulator.history))
    truth = simulator.expected_purchases(target, visits)
    wanted = target.first_proba(visits.frame)
    print(
        f"\n== off-policy (k=1), {len(visits):,} visits; "
        f"true value of ItemKNN {truth:.4f}"
    )
    rows = []
    for temperature in (np.inf, 4.0, 2.0, 1.0, 0.5, 0.25, 0.1):
        policy = simulation.Softmax(als, temperature)
        draws = []
        for seed in range(10):
            log = simulator.run(policy, visits, seed=seed)
            pi_e = wanted[log["visit"], log["item"]]
            args = (log["purchased"], pi_e, log["propensity"])
            draws.append((simulation.ips(*args), simulation.snips(*args)))
        draws = np.array(draws)
        rows.append({
            "T": temperature,
            "IPS bias": draws[:, 0].mean() - truth, "IPS std": draws[:, 0].std(),
            "SNIPS bias": draws[:, 1].mean() - truth, "SNIPS std": draws[:, 1].std(),
        })  # fmt: skip
    print(pd.DataFrame(rows).set_index("T").round(4).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="users of the shop")
    parser.add_argument("--redraws", type=int, default=10, help="redraws for power")
    args = parser.parse_args()
    throughput()
    start = time.perf_counter()
    shop = data.load("shop", n_users=args.users)
    print(
        f"\nshop with {args.users:,} users built in {time.perf_counter() - start:.1f} s"
    )
    ab_and_interleaving(shop, args.redraws)
    off_policy(shop)


if __name__ == "__main__":
    main()
