"""Every reference model on one split: the course's leaderboard.

Usage::

    python benchmarks/leaderboard.py [--dataset movielens-latest-small] [--gate]
        [--no-spark] [--write]

Fits each model with its default hyper-parameters (chosen on validation data
by the tune_* benchmarks) on ``split.by_time(ds, 0.2)`` and ranks the full
catalogue for every test user, k=10. SparkALS (lesson 09, at the settings
mapped from ``models.ALS``) runs first and on its own, its JVM shut down
before the other models train; without Java (or with ``--no-spark``) it is
left out, and the script says so. ``--gate`` exits non-zero unless every
collaborative, factorisation and two-tower model beats Popularity on nDCG@10
with a paired bootstrap 95% interval above zero (ContentBased, Transitions,
SparkALS and the two-stage model are reported, not gated; SASRec is judged on
the next purchase by lessons 06 and 11, not here). ``--write`` saves the
leaderboard with each model's paired difference from Popularity to
``recsys_helpers/datasets/leaderboard_<dataset>.csv``, which lesson 11 reads
offline (``evaluation.published_leaderboard``), the command and the date on
its first line.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pandas as pd
from protocol import made_by, write_committed_table

from recsys_helpers import data, environment, evaluation, models, split
from recsys_helpers import spark as rs
from recsys_helpers.models.zoo import FROM_INTERACTIONS, reference_models

ROOT = Path(__file__).resolve().parents[1]

# before TensorFlow is imported; values already set (by the caller) win
environment.apply(environment.QUIET_ENV, override=False)


def run(dataset: str, k: int = 10, with_spark: bool = True) -> evaluation.Comparison:
    """Every reference model on ``split.by_time(ds, 0.2)``, ranked once each."""
    ds = data.load(dataset)
    train, test = split.by_time(ds, test_fraction=0.2)
    parts = []
    if with_spark:
        try:
            parts.append(rs.compare_spark_als(train, test, k=k))
        except rs.JavaNotFoundError as error:
            print(f"SparkALS left out: {str(error).splitlines()[0]}")
    zoo = reference_models()
    # SASRec's task is the next purchase (leave_last_out, lessons 06 and 11), not
    # by_time; and it is the one model whose fit takes minutes on MovieLens.
    del zoo["SASRec"]
    if dataset == "shop":  # the ceiling: the truth at each user's first test time
        zoo["Oracle"] = models.Oracle(at=test)
    parts.insert(0, evaluation.compare(zoo, train, test, k=k, release=True))
    return evaluation.combine(*parts)


def write(dataset: str, result: evaluation.Comparison, versus: pd.DataFrame) -> Path:
    """The leaderboard and the paired differences, where lesson 11 reads them."""
    table = result.leaderboard.join(versus.add_prefix("vs_popularity_"))
    target = ROOT / "recsys_helpers" / "datasets" / f"leaderboard_{dataset}.csv"
    header = made_by(
        "leaderboard.py",
        f"split.by_time(0.2), k={result.k}, full ranking; fit_s and recommend_s in "
        "seconds, fit_mb in MB (peak resident memory above the start of the fit)",
    )
    write_committed_table(table, target, header, index=True, digits=6)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=os.environ.get("RECSYS_DATASET", "shop"))
    parser.add_argument("--gate", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-spark", action="store_true", help="leave SparkALS out")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    result = run(args.dataset, with_spark=not args.no_spark)
    results = result.leaderboard
    versus = evaluation.versus(result.per_user, baseline="Popularity")
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)
    print(f"== {args.dataset}: split.by_time(0.2), k=10, full ranking")
    table = evaluation.format_leaderboard(results)
    table["fit_s"] = results["fit_s"].round(2)
    table["fit_mb"] = results["fit_mb"].round(0)
    table["recommend_s"] = results["recommend_s"].round(2)
    print(table.to_string())
    print("\nnDCG@10 minus Popularity's, paired bootstrap 95% CI:")
    for name, row in versus.iterrows():
        print(
            f"  {name:>12}: {row['difference']:+.3f} "
            f"[{row['low']:+.3f}, {row['high']:+.3f}] {row['verdict']}"
        )
    gated = versus.loc[versus.index.isin(FROM_INTERACTIONS)]
    failures = gated.index[gated["verdict"] != "wins"].tolist()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "dataset": args.dataset,
            "results": results.reset_index().to_dict("records"),
            "versus_popularity": versus.to_dict("index"),
        }
        args.json.write_text(json.dumps(payload, indent=2))
    if args.write:
        print(f"wrote {write(args.dataset, result, versus).relative_to(ROOT)}")
    if args.gate and failures:
        print(f"GATE FAILED: {', '.join(failures)} did not beat Popularity on nDCG@10")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
