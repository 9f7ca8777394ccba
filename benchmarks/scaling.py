"""How the cost of ALS grows: time per iteration and peak memory by shop size.

Usage (from the repository root)::

    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/scaling.py \\
        --sizes 1000 3000 10000 30000 100000 300000 --budget 2400 --write
    # then the largest size, for some models only, added to the same table:
    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/scaling.py --sizes 1000000 \\
        --models models.ALS implicit --budget 3600 --write --append

For each size, ``data.load("shop", n_users=N, n_items=400 * sqrt(N / 1000))``
is generated once (not timed) and saved to a temporary file; then every
contender fits it in a fresh child process, so each peak is its own.

The simulator draws every user's choice among all items at every step (cost
``O(steps x users x items)``: 13 s at 10,000 users, 96 s at 30,000 here), so
it cannot make a million users. Above ``--generate-up-to`` users (default
10,000) the benchmark *tiles* the shop: copies of the largest generated shop,
each copy's users new, its items mapped by a seeded random injection into
the larger catalogue. Each user keeps a real shop history, row lengths and
the popularity skew per copy are the shop's, the catalogue still grows like
the square root of the users; the cost of ALS depends only on this
structure (numbers of users, items and non-zeros, and how they are spread),
not on what the items are. The contenders:

* ``models.ALS`` (the course's conjugate-gradient ALS, one BLAS thread);
* ``SparkALS`` (``pyspark.ml`` ALS in ``local[2]``, 1 GB driver);
* ``implicit`` 0.7.3's ALS (one thread) when this interpreter has it
  (``make .venv-bench/.installed``, then run with ``.venv-bench/bin/python``).

All fit the whole dataset with the same ``--factors`` (default 32) and
``--iterations`` (default 3). Time per iteration = fit seconds / iterations
(Spark: its ``ALS.fit`` plus collecting the factors, the data already cached,
after a one-iteration warm-up fit so the JVM's JIT has compiled the code;
JVM start-up not included). Peak memory = the largest sum of resident sets of
the child and its children (the JVM for Spark), sampled every 50 ms during
the fit, data included.

Sizes run in increasing order until ``--budget`` seconds have passed; the
script says where it stopped. It prints the table and, per model, the slope
of log(time per iteration) and log(peak MB) against log(interactions), fitted
over the sizes measured. ``--write`` saves the table to
``benchmarks/results/scaling.csv`` and, for lesson 09 (which reads it with
``spark.scaling_figures()`` from any working directory),
``recsys_helpers/datasets/scaling.csv``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_helpers.memory import PeakMemory

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = (
    ROOT / "benchmarks" / "results" / "scaling.csv",
    ROOT / "recsys_helpers" / "datasets" / "scaling.csv",
)
MODELS = ("models.ALS", "SparkALS", "implicit")


def n_items_for(n_users: int) -> int:
    """The catalogue grows like the square root of the users (400 at 1,000)."""
    return round(400 * math.sqrt(n_users / 1000))


def shop_pairs(n_users: int, generate_up_to: int) -> pd.DataFrame:
    """The distinct (user_id, item_id) pairs of a shop of ``n_users`` users.

    Up to ``generate_up_to`` users the simulator makes it; above, copies of
    the ``generate_up_to``-user shop are stacked (see the module docstring).
    """
    from recsys_helpers import data

    n_items = n_items_for(n_users)
    if n_users <= generate_up_to:
        ds = data.load("shop", n_users=n_users, n_items=n_items)
        return ds.distinct().interactions[["user_id", "item_id"]]
    base = shop_pairs(generate_up_to, generate_up_to)
    base_users = pd.factorize(base["user_id"], sort=True)[0]
    base_items, item_ids = pd.factorize(base["item_id"], sort=True)
    rng = np.random.default_rng(0)
    copies = []
    for copy in range(math.ceil(n_users / generate_up_to)):
        keep = base_users < n_users - copy * generate_up_to
        injection = rng.choice(n_items, size=len(item_ids), replace=False)
        copies.append(
            pd.DataFrame(
                {
                    "user_id": base_users[keep] + copy * generate_up_to,
                    "item_id": injection[base_items[keep]],
                }
            )
        )
    return pd.concat(copies, ignore_index=True)


def failure_reason(stderr: str) -> str:
    """The root cause in a failed worker's stderr (Python's or Java's)."""
    causes = re.findall(
        r"^(?:Caused by: )?([\w.$]+(?:Error|Exception)\b.*)$", stderr, re.M
    )
    return causes[-1].strip()[:200] if causes else "no error message"


def worker(model_name: str, path: str, factors: int, iterations: int) -> dict:
    """Fit one model on the saved dataset; time per iteration and peak MB."""
    from recsys_helpers.data import Dataset

    saved = np.load(path)
    frame = pd.DataFrame({"user_id": saved["users"], "item_id": saved["items"]})
    train = Dataset.from_frames(frame)
    with PeakMemory(every=0.05) as memory:
        if model_name == "models.ALS":
            from recsys_helpers.models import ALS

            model = ALS(factors=factors, iterations=iterations)
            start = time.perf_counter()
            model.fit(train)
            seconds = time.perf_counter() - start
        elif model_name == "SparkALS":
            from recsys_helpers import spark

            session = spark.session()
            spark.SparkALS(factors=factors, iterations=1).fit(train)  # JIT warm-up
            model = spark.SparkALS(factors=factors, iterations=iterations)
            model.fit(train)
            seconds = model.fit_seconds_
            session.stop()
        else:
            from threadpoolctl import threadpool_limits

            from benchmarks.als_vs_implicit import ImplicitALS

            model = ImplicitALS(factors=factors, iterations=iterations, threads=1)
            with threadpool_limits(limits=1):
                start = time.perf_counter()
                model.fit(train)
                seconds = time.perf_counter() - start
    return {
        "seconds_per_iteration": seconds / iterations,
        "peak_mb": memory.peak_mb,
    }


def slope(x: pd.Series, y: pd.Series) -> float:
    """Slope of log(y) against log(x) (NaN with fewer than two points)."""
    if len(x) < 2:
        return float("nan")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--factors", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--budget", type=float, default=600.0, help="seconds")
    parser.add_argument(
        "--generate-up-to",
        type=int,
        default=10_000,
        help="users; larger shops are tiled from one of this size",
    )
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--write", action="store_true")
    parser.add_argument(
        "--append",
        action="store_true",
        help="with --write: keep the committed rows of other (model, size) pairs",
    )
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "NPZ"))
    args = parser.parse_args()
    if args.worker:
        result = worker(args.worker[0], args.worker[1], args.factors, args.iterations)
        print("RESULT " + json.dumps(result))
        return 0

    from protocol import made_by, write_committed_table

    from recsys_helpers import environment
    from recsys_helpers.datasets import read_committed_table

    models = list(args.models)
    try:
        import implicit  # noqa: F401
    except ImportError:
        if "implicit" in models:
            models.remove("implicit")
            print("implicit is not installed here: it is left out.")
    load_at_start = os.getloadavg()[0]
    start = time.perf_counter()
    rows, failures, stopped = [], [], None
    with tempfile.TemporaryDirectory() as tmp:
        last = None  # (users, seconds) of the previous size, to predict the next
        for n_users in sorted(args.sizes):
            spent = time.perf_counter() - start
            guess = 0.0 if last is None else last[1] * (n_users / last[0]) ** 1.2
            if spent + guess > args.budget:
                stopped = n_users
                break
            size_start = time.perf_counter()
            n_items = n_items_for(n_users)
            pairs = shop_pairs(n_users, args.generate_up_to)
            path = str(Path(tmp) / f"shop_{n_users}.npz")
            np.savez(
                path,
                users=pairs["user_id"].to_numpy(),
                items=pairs["item_id"].to_numpy(),
            )
            for name in models:
                command = [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--worker",
                    name,
                    path,
                    "--factors",
                    str(args.factors),
                    "--iterations",
                    str(args.iterations),
                ]
                run = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    env=environment.quiet_env({"PYTHONPATH": str(ROOT)}),
                    check=False,
                )
                lines = [x for x in run.stdout.splitlines() if x.startswith("RESULT ")]
                if run.returncode != 0 or not lines:
                    reason = failure_reason(run.stderr)
                    failures.append(f"{name} failed at {n_users:,} users ({reason})")
                    print(
                        f"{failures[-1]}; the end of its stderr:\n{run.stderr[-2000:]}"
                    )
                    continue
                result = json.loads(lines[-1][len("RESULT ") :])
                row = {
                    "model": name,
                    "n_users": n_users,
                    "n_items": n_items,
                    "interactions": len(pairs),
                    **result,
                }
                rows.append(row)
                print(
                    f"{name:>10} {n_users:>9,} users {n_items:>6,} items "
                    f"{len(pairs):>11,} pairs: {row['seconds_per_iteration']:8.3f} "
                    f"s/iteration, peak {row['peak_mb']:7.0f} MB",
                    flush=True,
                )
            last = (n_users, time.perf_counter() - size_start)
    elapsed = time.perf_counter() - start
    if stopped is not None:
        print(
            f"stopped before {stopped:,} users: it would not fit in the "
            f"{args.budget:.0f} s budget ({elapsed:.0f} s spent, the next size "
            "predicted from the last one's time)."
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return 1
    print(f"\nslopes on log-log axes against interactions ({elapsed:.0f} s in all):")
    for name, group in table.groupby("model", sort=False):
        time_slope = slope(group.interactions, group.seconds_per_iteration)
        print(
            f"{name:>10}: time {time_slope:.2f}"
            f", memory {slope(group.interactions, group.peak_mb):.2f}"
            f" ({len(group)} sizes)"
        )
    if args.write:
        command = made_by(
            "scaling.py",
            f"load average {load_at_start:.1f} at the start; shops above "
            f"{args.generate_up_to:,} users tiled from one of that size"
            + (f"; stopped before {stopped:,} users by the budget" if stopped else "")
            + "".join(f"; {failure}" for failure in failures),
        )
        table["factors"] = args.factors
        table["iterations"] = args.iterations
        table["memory"] = "peak RSS of the process tree (Python + JVM), data included"
        if args.append:
            committed = read_committed_table("scaling.csv")
            command = f"{committed.attrs['made_by']} | then {command}"
            mine = set(zip(table.model, table.n_users, strict=True))
            kept = committed[
                [
                    (m, n) not in mine
                    for m, n in zip(committed.model, committed.n_users, strict=True)
                ]
            ]
            table = pd.concat([kept, table], ignore_index=True)
            table = table.sort_values(["n_users", "model"], kind="stable")
        for target in OUTPUTS:
            write_committed_table(table, target, command, index=False, digits=4)
            print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
