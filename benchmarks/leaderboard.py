"""Every reference model on one split: the course's leaderboard.

Usage::

    python benchmarks/leaderboard.py [--dataset movielens-latest-small] [--gate]

Fits each model with its default hyper-parameters (chosen on validation data
by the tune_* benchmarks) on ``split.by_time(ds, 0.2)`` and ranks the full
catalogue for every test user, k=10. ``--gate`` exits non-zero unless every
collaborative, factorisation and two-tower model beats Popularity on nDCG@10
with a paired bootstrap 95% interval above zero (ContentBased is reported,
not gated: content-only profiles may lose on MovieLens).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RECSYS_PROGRESS", "0")

import argparse
import json
from pathlib import Path

import pandas as pd

from recsys_helpers import data, evaluation, split
from recsys_helpers.models.zoo import FROM_INTERACTIONS, reference_models


def run(dataset: str, k: int = 10) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Leaderboard and each model's paired nDCG difference to Popularity."""
    ds = data.load(dataset)
    train, test = split.by_time(ds, test_fraction=0.2)
    results, per_user = [], {}
    zoo = reference_models(with_oracle=dataset == "shop")
    for name, model in zoo.items():
        results.append(evaluation.evaluate(model, train, test, k=k, name=name))
        frame, _ = evaluation.per_user_metrics(model, train, test, k=k)
        per_user[name] = frame["ndcg"].to_numpy()
    versus = {
        name: evaluation.paired_bootstrap(values, per_user["Popularity"])
        for name, values in per_user.items()
        if name != "Popularity"
    }
    return pd.concat(results).sort_values(f"ndcg@{k}", ascending=False), versus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=os.environ.get("RECSYS_DATASET", "shop"))
    parser.add_argument("--gate", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results, versus = run(args.dataset)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)
    print(f"== {args.dataset}: split.by_time(0.2), k=10, full ranking")
    table = evaluation.format_leaderboard(results)
    table["fit_s"] = results["fit_s"].round(2)
    table["recommend_s"] = results["recommend_s"].round(2)
    print(table.to_string())
    print("\nnDCG@10 minus Popularity's, paired bootstrap 95% CI:")
    failures = []
    for name, diff in versus.items():
        verdict = (
            "wins" if diff["low"] > 0 else ("loses" if diff["high"] < 0 else "tie")
        )
        print(
            f"  {name:>12}: {diff['difference']:+.3f} "
            f"[{diff['low']:+.3f}, {diff['high']:+.3f}] {verdict}"
        )
        if name in FROM_INTERACTIONS and diff["low"] <= 0:
            failures.append(name)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "dataset": args.dataset,
            "results": results.reset_index().to_dict("records"),
            "versus_popularity": versus,
        }
        args.json.write_text(json.dumps(payload, indent=2))
    if args.gate and failures:
        print(f"GATE FAILED: {', '.join(failures)} did not beat Popularity on nDCG@10")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
