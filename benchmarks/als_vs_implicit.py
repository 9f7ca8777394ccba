"""Time and quality of models.ALS beside the ``implicit`` library's ALS.

Both run in this one process, side by side, on the same split
(``split.by_time(ds, 0.2)``), with the same factors, regularisation,
confidence, iterations, conjugate-gradient steps and thread count:

* confidence: ``models.ALS`` uses ``c = 1 + alpha r`` (Hu et al. 2008);
  ``implicit`` 0.7 multiplies the matrix by its ``alpha`` and uses the product
  itself as the confidence (its ``fit`` does ``Cui = alpha * Cui``, then
  ``b += c y_i`` and ``A += (c - 1) y_i y_i^T``), so on 0/1 data
  ``alpha_implicit = 1 + alpha``;
* regularisation: neither library scales lambda by counts;
* threads: ``implicit``'s ``num_threads`` and numpy's BLAS threads
  (threadpoolctl) are both set to ``--threads`` (default 1; ``models.ALS``
  itself limits BLAS to one thread while training, see its ``_fit``).

``implicit`` is not a course dependency. ``make bench`` builds a separate
venv with it, ``.venv-bench``; by hand, from the repository root::

    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -r requirements-lock.txt "implicit==0.7.3"
    .venv-bench/bin/pip install --no-deps -e .
    RECSYS_PROGRESS=0 .venv-bench/bin/python benchmarks/als_vs_implicit.py

MovieLens is read from ``RECSYS_DATA_DIR`` (or the user cache), as
``data.load`` does. Without ``implicit`` the script times ``models.ALS``
alone, says so and exits 0.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from recsys_helpers import data, evaluation, split
from recsys_helpers.data import Dataset
from recsys_helpers.models import ALS, Popularity
from recsys_helpers.models.base import Recommender


class ImplicitALS(Recommender):
    """``implicit.cpu.als.AlternatingLeastSquares`` behind the course's API."""

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 10.0,
        alpha: float = 10.0,
        iterations: int = 15,
        cg_steps: int = 3,
        threads: int = 1,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.cg_steps = cg_steps
        self.threads = threads
        self.random_state = random_state

    def _fit(self, train: Dataset) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=1.0 + self.alpha,  # implicit's c = alpha * r; ours 1 + alpha r
            iterations=self.iterations,
            use_cg=True,
            calculate_training_loss=False,
            num_threads=self.threads,
            random_state=self.random_state,
        )
        model.cg_steps = self.cg_steps  # an attribute in implicit 0.7, not a parameter
        model.fit(self.user_items_.astype(np.float32), show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors)
        self.item_factors_ = np.asarray(model.item_factors)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[rows] @ self.item_factors_.T


def seconds_per_iteration(model: Recommender, train: Dataset, repeats: int) -> float:
    """Best of ``repeats`` fits, divided by the iterations (load on a shared
    machine only ever slows a run down, so the minimum is the fair figure)."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(train)
        best = min(best, time.perf_counter() - start)
    return best / model.get_params()["iterations"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", default=["movielens-latest-small", "shop"]
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    try:
        import implicit  # noqa: F401

        have_implicit = True
    except ImportError:
        have_implicit = False
        print(
            "implicit is not installed: timing models.ALS alone (see this script's "
            "docstring for a benchmark-only venv with implicit)."
        )
    params = ALS().get_params()
    print(
        f"settings: factors={params['factors']} regularization="
        f"{params['regularization']} alpha={params['alpha']} (implicit alpha="
        f"{1 + params['alpha']}) iterations={params['iterations']} cg_steps="
        f"{params['cg_steps']} threads={args.threads}"
    )
    with threadpool_limits(limits=args.threads):
        for name in args.datasets:
            ds = data.load(name)
            train, test = split.by_time(ds, test_fraction=0.2)
            print(
                f"\n== {name}: {train.n_users} users, {train.n_items} items, "
                f"{len(train.interactions)} training interactions"
            )
            contenders: dict[str, Recommender] = {"models.ALS": ALS()}
            if have_implicit:
                keys = ("factors", "regularization", "alpha", "iterations", "cg_steps")
                contenders["implicit ALS"] = ImplicitALS(
                    threads=args.threads, **{k: params[k] for k in keys}
                )
            timing = {}
            for _ in range(args.repeats):  # interleaved: both see the same load
                for label, model in contenders.items():
                    t = seconds_per_iteration(model, train, 1)
                    timing[label] = min(timing.get(label, np.inf), t)
            zoo = {**contenders, "Popularity": Popularity()}
            result = evaluation.compare(zoo, train, test)
            for label in zoo:
                row = result.leaderboard.loc[label]
                seconds = timing.get(label)
                shown = f"{seconds * 1000:7.1f} ms/iteration" if seconds else ""
                print(
                    f"{label:>13}: nDCG@10 {row['ndcg@10']:.4f} "
                    f"[{row['ndcg@10_low']:.4f}, {row['ndcg@10_high']:.4f}] {shown}"
                )
            if have_implicit:
                diff = evaluation.versus(
                    result.per_user, baseline="implicit ALS", models=["models.ALS"]
                ).iloc[0]
                ratio = timing["models.ALS"] / timing["implicit ALS"]
                relative = (
                    result.leaderboard.loc["models.ALS", "ndcg@10"]
                    / result.leaderboard.loc["implicit ALS", "ndcg@10"]
                )
                print(
                    f"models.ALS - implicit: nDCG@10 {diff['difference']:+.4f} "
                    f"[{diff['low']:+.4f}, {diff['high']:+.4f}] ({relative:.1%} of "
                    f"implicit's); time per iteration x{ratio:.2f}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
