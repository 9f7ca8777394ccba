"""Is the shop's clock real? Two paired tests that only a world in time passes.

Usage: ``python benchmarks/time_signal.py``

1. What follows what: ``models.Transitions`` (next-item counts from the last
   purchase) against Popularity on ``split.leave_last_out``.
2. What sells now: ``Popularity(recent_days=30)`` against all-time Popularity
   after one cut-off for everyone, ``split.global_time(ds, 0.2)``.

Each prints nDCG@10 and the paired bootstrap difference with its 95% CI; both
must be "wins" (the unit tests in ``tests/test_sequential.py`` assert it). On
the course's earlier shop, whose purchases came from a static taste, 30-day
popularity did no better than all-time popularity (0.0609 against 0.0606).
"""

from __future__ import annotations

from recsys_helpers import data, evaluation, models, split


def paired(title: str, contender: str, result: evaluation.Comparison) -> None:
    """Print the two models' nDCG@10 and the contender's paired difference."""
    board = result.leaderboard
    row = evaluation.versus(result.per_user, "Popularity", models=[contender]).iloc[0]
    print(f"== {title}: {board['users'].iloc[0]} users")
    for name in board.index:
        print(f"  {name:>22}: nDCG@10 {board.loc[name, 'ndcg@10']:.3f}")
    print(
        f"  {contender} - Popularity: {row['difference']:+.3f} "
        f"[{row['low']:+.3f}, {row['high']:+.3f}] {row['verdict']}"
    )


def main() -> None:
    ds = data.load("shop")
    train, test = split.leave_last_out(ds)
    zoo = {"Transitions": models.Transitions(), "Popularity": models.Popularity()}
    paired("leave_last_out", "Transitions", evaluation.compare(zoo, train, test))
    train, test = split.global_time(ds, test_fraction=0.2)
    zoo = {
        "Popularity (30 days)": models.Popularity(recent_days=30),
        "Popularity": models.Popularity(),
    }
    result = evaluation.compare(zoo, train, test)
    paired("global_time(0.2)", "Popularity (30 days)", result)


if __name__ == "__main__":
    main()
