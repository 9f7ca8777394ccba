"""The course's evaluation protocol, in one place.

Protocol (the same for every lesson and model):

* rank **all** catalogue items for each test user (never a sample of
  negatives: sampled metrics can order models differently from full ones);
* by default (``exclude_seen=True``) exclude the user's training items from
  the ranking, and count as relevant only test items the user had not
  bought in train (a repeat purchase cannot be recommended, so it is not a
  target); with ``exclude_seen=False`` nothing is excluded and every test
  item is relevant, repeats included (a consumable bought again is a real
  next item). Users with nothing relevant are not scored; ``evaluate``
  reports how many (``users_without_targets``);
* an item is relevant if the user interacted with it in the test set (any
  rating counts);
* report the mean over test users with a 95% bootstrap confidence interval,
  and compare two models on the same users with a paired bootstrap
  (:func:`versus`): a "win" whose interval contains 0 is no win.

Warm users (at least one training interaction) are evaluated by default;
``users="cold"`` evaluates known users with no training history (only models
with ``serves_cold_users`` can). Users are processed in chunks so memory stays
bounded on any catalogue.

Comparing models::

    result = evaluation.compare(models, train, test, k=10)
    result.leaderboard                       # one row per model, CIs
    evaluation.versus(result.per_user, baseline="Popularity")
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_helpers import metrics
from recsys_helpers.columns import USER
from recsys_helpers.data import Dataset
from recsys_helpers.memory import PeakMemory
from recsys_helpers.models.base import Recommender

__all__ = [
    "COST_COLUMNS",
    "Comparison",
    "bootstrap_ci",
    "combine",
    "compare",
    "evaluate",
    "format_leaderboard",
    "paired_bootstrap",
    "pairwise",
    "per_user_metrics",
    "published_leaderboard",
    "relevant_matrix",
    "test_user_rows",
    "versus",
]

#: The leaderboard's columns that measure this machine, not the model's ranking:
#: they differ from run to run, so regression tests and stored outputs leave them
#: out (:func:`format_leaderboard` drops them).
COST_COLUMNS = ("fit_s", "fit_mb", "recommend_s")


def test_user_rows(
    train: Dataset, test: Dataset, users: str = "warm", exclude_seen: bool = True
) -> np.ndarray:
    """Matrix rows of the test users to evaluate.

    Args:
        train: Training dataset.
        test: Test dataset (same id space as ``train``).
        users: ``"warm"`` (some training history), ``"cold"`` (none) or
            ``"all"``.
        exclude_seen: Count only test items not in the user's training data
            (see :func:`relevant_matrix`).

    Returns:
        Sorted row indices of users with at least one relevant test item.
    """
    if users not in ("warm", "cold", "all"):
        raise ValueError(f"users must be 'warm', 'cold' or 'all', got {users!r}.")
    _check_same_space(train, test)
    relevant = relevant_matrix(train, test, exclude_seen)
    in_test = np.flatnonzero(np.diff(relevant.indptr) > 0)
    history = np.diff(train.to_csr().indptr)[in_test] > 0
    if users == "warm":
        return in_test[history]
    if users == "cold":
        return in_test[~history]
    return in_test


def relevant_matrix(
    train: Dataset, test: Dataset, exclude_seen: bool = True
) -> sp.csr_matrix:
    """Users x items 0/1 matrix of the test items that count as hits.

    With ``exclude_seen`` a test item the user already has in train (a repeat
    purchase) is not relevant: the ranking excludes it, so counting it would
    only lower every model's ceiling.
    """
    relevant = test.to_csr()
    if exclude_seen:
        relevant = relevant - relevant.multiply(train.to_csr())
        relevant.eliminate_zeros()
    return relevant.tocsr()


def _check_same_space(train: Dataset, test: Dataset) -> None:
    same = train.n_items == test.n_items and np.array_equal(
        train.item_ids, test.item_ids
    )
    if not same or not np.array_equal(train.user_ids, test.user_ids):
        raise ValueError(
            "train and test must share one id space (users and items); split one "
            "Dataset with recsys_helpers.split instead of building them apart."
        )


def per_user_metrics(
    model: Recommender,
    train: Dataset,
    test: Dataset,
    k: int = 10,
    users: str = "warm",
    exclude_seen: bool = True,
    chunk_size: int = 512,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Ranking metrics per test user for an already fitted model.

    Args:
        model: A fitted recommender (fitted on ``train``).
        train: Its training data (items to exclude).
        test: Held-out interactions.
        k: Cut-off.
        users: Which test users, see :func:`test_user_rows`.
        exclude_seen: Exclude training items from the ranking and from the
            relevant items (the default); False ranks everything and counts
            repeats as hits.
        chunk_size: Users ranked at once (bounds memory: chunk x n_items).

    Returns:
        ``(frame, top_items)``: one row per user (``user_id`` then one column
        per metric of :data:`metrics.RANKING_METRICS`) and the (n_users, k)
        array of recommended item indices (-1 = padding).
    """
    if not 1 <= k <= train.n_items:
        raise ValueError(f"k must be between 1 and the {train.n_items} items, got {k}.")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}.")
    rows = test_user_rows(train, test, users, exclude_seen)
    if rows.size == 0:
        raise ValueError(f"no {users} test users to evaluate in {test.name!r}.")
    relevant = relevant_matrix(train, test, exclude_seen)
    n_relevant = np.diff(relevant.indptr)[rows]
    values = {name: np.empty(rows.size) for name in metrics.RANKING_METRICS}
    top_items = np.empty((rows.size, k), dtype=np.int64)
    for start in range(0, rows.size, chunk_size):
        chunk = rows[start : start + chunk_size]
        items, _ = model.top_k_rows(chunk, k, exclude_seen=exclude_seen)
        dense = relevant[chunk].toarray() > 0
        hits = dense[np.arange(chunk.size)[:, None], np.maximum(items, 0)] & (
            items >= 0
        )
        part = slice(start, start + chunk.size)
        top_items[part] = items
        for name, fn in metrics.RANKING_METRICS.items():
            values[name][part] = fn(hits, n_relevant[part])
    frame = pd.DataFrame({USER: train.user_ids[rows], **values})
    return frame, top_items


def bootstrap_ci(
    values: np.ndarray, n_bootstrap: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of a mean over users.

    Args:
        values: One value per user.
        n_bootstrap: Number of resamples (users drawn with replacement).
        seed: Seed of the resampling.
        level: Coverage of the interval.

    Returns:
        ``(low, high)``.
    """
    means = _bootstrap_means(values, n_bootstrap, seed)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def _bootstrap_means(values: np.ndarray, n_bootstrap: int, seed: int) -> np.ndarray:
    """Means of ``n_bootstrap`` resamples of ``values`` (users with replacement)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("cannot bootstrap an empty sample.")
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be a positive integer, got {n_bootstrap}.")
    rng = np.random.default_rng(seed)
    means = np.empty(n_bootstrap)
    for start in range(0, n_bootstrap, 100):  # bounded memory: 100 x n_users
        stop = min(n_bootstrap, start + 100)
        draws = rng.integers(0, values.size, size=(stop - start, values.size))
        means[start:stop] = values[draws].mean(axis=1)
    return means


def paired_bootstrap(
    values_a: np.ndarray,
    values_b: np.ndarray,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """Mean difference A - B over the same users, with a 95% paired CI.

    Resampling the same users for both models removes the user-to-user
    variation they share, so this separates models that the two separate
    intervals of :func:`evaluate` cannot. "A wins" needs ``low > 0``.

    Returns:
        ``{"difference", "low", "high"}``.
    """
    a = np.asarray(values_a, dtype=np.float64)
    b = np.asarray(values_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("values_a and values_b must cover the same users.")
    low, high = bootstrap_ci(a - b, n_bootstrap=n_bootstrap, seed=seed)
    return {"difference": float((a - b).mean()), "low": low, "high": high}


def evaluate(
    model: Recommender,
    train: Dataset,
    test: Dataset,
    k: int = 10,
    name: str | None = None,
    users: str = "warm",
    fit: bool = True,
    exclude_seen: bool = True,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Fit (timed), recommend for the test users (timed) and score the lists.

    Args:
        model: The recommender.
        train: Training data; the model is fitted on it unless ``fit=False``.
        test: Held-out data, same id space.
        k: Cut-off of every metric.
        name: Row label; default the model's class name.
        users: ``"warm"``, ``"cold"`` or ``"all"`` (see :func:`test_user_rows`).
        fit: Fit the model first (False: it is already fitted on ``train``).
        exclude_seen: See :func:`per_user_metrics`.
        n_bootstrap: Resamples of the confidence intervals.
        seed: Seed of the resampling.

    Returns:
        One-row DataFrame indexed by model name: ``users``,
        ``users_without_targets`` (test users whose test items are all
        repeats, not scored when ``exclude_seen``), for each ranking metric
        ``m@k`` with ``m@k_low`` / ``m@k_high`` (95% CI), then
        ``coverage@k``, ``novelty@k``, ``fit_s`` (seconds), ``fit_mb`` (the
        peak resident memory of the fit above what the process held before it,
        in MB, sampled every 10 ms: :class:`~recsys_helpers.memory.PeakMemory`)
        and ``recommend_s``. Without ``fit`` both fit figures are 0.
    """
    row, _, _ = _evaluate_one(
        model, train, test, k, users, fit, exclude_seen, n_bootstrap, seed
    )
    label = name or type(model).__name__
    return pd.DataFrame([row], index=pd.Index([label], name="model"))


def _evaluate_one(
    model: Recommender,
    train: Dataset,
    test: Dataset,
    k: int,
    users: str,
    fit: bool,
    exclude_seen: bool,
    n_bootstrap: int,
    seed: int,
) -> tuple[dict[str, float | int], pd.DataFrame, np.ndarray]:
    """One ranking pass: the leaderboard row, per-user metrics and top items."""
    fit_s = fit_mb = 0.0
    if fit:
        with PeakMemory() as memory:
            start = time.perf_counter()
            model.fit(train)
            fit_s = time.perf_counter() - start
        fit_mb = memory.extra_mb
    start = time.perf_counter()
    per_user, top_items = per_user_metrics(
        model, train, test, k, users, exclude_seen=exclude_seen
    )
    recommend_s = time.perf_counter() - start
    # test users of this kind minus those scored: those whose targets were all
    # repeats (0 without exclude_seen)
    every = test_user_rows(train, test, users, exclude_seen=False)
    row: dict[str, float | int] = {
        "users": len(per_user),
        "users_without_targets": int(every.size - len(per_user)),
    }
    for metric in metrics.RANKING_METRICS:
        column = f"{metric}@{k}"
        low, high = bootstrap_ci(per_user[metric].to_numpy(), n_bootstrap, seed)
        row[column] = float(per_user[metric].mean())
        row[f"{column}_low"] = low
        row[f"{column}_high"] = high
    item_counts = np.diff(train.to_csr().tocsc().indptr)
    row[f"coverage@{k}"] = metrics.catalog_coverage(top_items, train.n_items)
    row[f"novelty@{k}"] = metrics.novelty(top_items, item_counts, train.n_users)
    row["fit_s"] = fit_s
    row["fit_mb"] = fit_mb
    row["recommend_s"] = recommend_s
    return row, per_user, top_items


@dataclass(frozen=True, eq=False)
class Comparison:
    """What :func:`compare` returns.

    Attributes:
        leaderboard: One row per model (as :func:`evaluate`), best first.
        per_user: Model name -> its per-user metrics (``user_id`` then one
            column per metric), all over the same users, for :func:`versus`.
        k: The cut-off.
        top_items: Model name -> the (n_users, k) item indices it recommended
            (-1 = padding), users in the order of its ``per_user`` frame: what
            it showed, kept even when the model itself was released.
    """

    leaderboard: pd.DataFrame
    per_user: dict[str, pd.DataFrame]
    k: int
    top_items: dict[str, np.ndarray]


def compare(
    models: Mapping[str, Recommender],
    train: Dataset,
    test: Dataset,
    k: int = 10,
    users: str = "warm",
    fit: bool = True,
    exclude_seen: bool = True,
    n_bootstrap: int = 1000,
    seed: int = 0,
    release: bool = False,
) -> Comparison:
    """Evaluate several models on one split, ranking each once.

    Args:
        models: Name -> recommender (fitted on ``train`` unless ``fit``).
        train: Training data.
        test: Held-out data, same id space.
        k: Cut-off of every metric.
        users: See :func:`test_user_rows`.
        fit: Fit each model on ``train`` first.
        exclude_seen: See :func:`per_user_metrics`.
        n_bootstrap: Resamples of the confidence intervals.
        seed: Seed of the resampling.
        release: Unfit each model once it has been ranked (its learned state
            is deleted, as after a failed fit), so that only one fitted model
            is held in memory at a time: for long line-ups on large
            catalogues. What it recommended stays in ``top_items``.

    Returns:
        A :class:`Comparison`: the leaderboard (best nDCG first), the
        per-user metrics and the top-k items of every model.
    """
    if not models:
        raise ValueError("models is empty: give at least one model.")
    rows, per_user, top_items = [], {}, {}
    for label, model in models.items():
        row, frame, top = _evaluate_one(
            model, train, test, k, users, fit, exclude_seen, n_bootstrap, seed
        )
        if release:
            model.release()
        rows.append(row)
        per_user[label] = frame
        top_items[label] = top
    leaderboard = pd.DataFrame(rows, index=pd.Index(list(models), name="model"))
    leaderboard = leaderboard.sort_values(f"ndcg@{k}", ascending=False, kind="stable")
    return Comparison(leaderboard, per_user, k, top_items)


def combine(*comparisons: Comparison) -> Comparison:
    """One comparison from several made on the same split in separate passes.

    For a model that must run apart from the others (SparkALS, whose Java
    process is shut down before the rest of a line-up trains), or a long
    line-up evaluated in parts. Every part must have the same ``k`` and score
    the same users; model names must not repeat.

    Args:
        comparisons: What :func:`compare` returned, one per pass.

    Returns:
        A :class:`Comparison` holding every model, best nDCG first.

    Raises:
        ValueError: No comparison, or parts that disagree on ``k``, on the
            users scored, or that share a model name.
    """
    if not comparisons:
        raise ValueError("combine needs at least one comparison.")
    first = comparisons[0]
    users = next(iter(first.per_user.values()))["user_id"].to_numpy()
    seen: set[str] = set()
    for part in comparisons:
        if part.k != first.k:
            raise ValueError(f"cannot combine k={first.k} with k={part.k}.")
        repeated = seen.intersection(part.per_user)
        if repeated:
            raise ValueError(f"model names repeat across parts: {sorted(repeated)}")
        seen.update(part.per_user)
        for name, frame in part.per_user.items():
            if not np.array_equal(frame["user_id"].to_numpy(), users):
                reference = next(iter(first.per_user))
                raise ValueError(
                    f"{name} was scored on other users than {reference}: were "
                    "the parts made on the same split?"
                )
    leaderboard = pd.concat([part.leaderboard for part in comparisons])
    key = f"ndcg@{first.k}"
    leaderboard = leaderboard.sort_values(key, ascending=False, kind="stable")
    return Comparison(
        leaderboard,
        {name: f for part in comparisons for name, f in part.per_user.items()},
        first.k,
        {name: t for part in comparisons for name, t in part.top_items.items()},
    )


def versus(
    per_user: Mapping[str, pd.DataFrame],
    baseline: str = "Popularity",
    metric: str = "ndcg",
    models: list[str] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Each model against a baseline on the same users: paired bootstrap.

    Args:
        per_user: Model name -> per-user metrics (``Comparison.per_user``).
        baseline: The model every other is compared with.
        metric: A column of the per-user frames (e.g. ``"ndcg"``).
        models: Which models, in this order; default all but the baseline.
        n_bootstrap: Resamples.
        seed: Seed of the resampling.

    Returns:
        One row per model: ``difference`` (mean of model - baseline),
        ``low``/``high`` (95% CI) and ``verdict``: ``"wins"`` if low > 0,
        ``"loses"`` if high < 0, else ``"tie"`` (not separated).
    """
    if baseline not in per_user:
        raise KeyError(f"baseline {baseline!r} is not among {sorted(per_user)}.")
    names = [m for m in per_user if m != baseline] if models is None else models
    unknown = [m for m in names if m not in per_user]
    if unknown:
        raise KeyError(f"model(s) {unknown} are not among {sorted(per_user)}.")
    base = per_user[baseline]
    if metric not in base:
        raise KeyError(f"metric {metric!r} is not a column of {list(base.columns)}.")
    rows = []
    for name in names:
        frame = per_user[name]
        if not np.array_equal(frame[USER].to_numpy(), base[USER].to_numpy()):
            raise ValueError(f"{name!r} and {baseline!r} were scored on other users.")
        test = paired_bootstrap(
            frame[metric].to_numpy(), base[metric].to_numpy(), n_bootstrap, seed
        )
        rows.append({**test, "verdict": _verdict(test["low"], test["high"])})
    index = pd.Index(names, name=f"vs {baseline}")
    return pd.DataFrame(
        rows, index=index, columns=["difference", "low", "high", "verdict"]
    )


def pairwise(
    per_user: Mapping[str, pd.DataFrame],
    models: list[str],
    metric: str = "ndcg",
    alpha: float = 0.05,
    n_bootstrap: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Every pair of ``models`` tested on the same users, Holm-corrected.

    Testing m models pairwise makes m(m-1)/2 tests; at 5% each, some "wins"
    appear by chance. Each pair gets a two-sided paired-bootstrap p-value
    ``p = min(1, 2 min(P*(d <= 0), P*(d >= 0)))`` (P* over resamples of the
    users, floored at 1/n_bootstrap), and Holm's step-down correction: sort
    the p-values, multiply the j-th smallest (j = 0, 1, ...) by (N - j), keep
    them non-decreasing. A pair is separated when its adjusted p < alpha.

    Args:
        per_user: Model name -> per-user metrics (``Comparison.per_user``).
        models: The models to compare, at least two.
        metric: A column of the per-user frames.
        alpha: Family-wise error rate.
        n_bootstrap: Resamples per pair.
        seed: Seed of the resampling.

    Returns:
        One row per pair (``a``, ``b``): ``difference`` (a - b), ``p``,
        ``p_holm`` and ``verdict`` (``"a wins"``, ``"b wins"`` or ``"tie"``).
    """
    if len(models) < 2:
        raise ValueError(f"models needs at least two names, got {models!r}.")
    unknown = [m for m in models if m not in per_user]
    if unknown:
        raise KeyError(f"{unknown} not among {sorted(per_user)}.")
    rows = []
    for i, first in enumerate(models):
        for second in models[i + 1 :]:
            a, b = per_user[first], per_user[second]
            if not np.array_equal(a[USER].to_numpy(), b[USER].to_numpy()):
                raise ValueError(
                    f"{first!r} and {second!r} were scored on other users."
                )
            diff = a[metric].to_numpy() - b[metric].to_numpy()
            means = _bootstrap_means(diff, n_bootstrap, seed)
            tail = min(np.mean(means <= 0), np.mean(means >= 0))
            p = min(1.0, max(2 * tail, 1 / n_bootstrap))
            rows.append({"a": first, "b": second, "difference": diff.mean(), "p": p})
    table = pd.DataFrame(rows)
    table["p_holm"] = _holm(table["p"].to_numpy())
    separated = table["p_holm"] < alpha
    table["verdict"] = np.where(
        separated, np.where(table["difference"] > 0, "a wins", "b wins"), "tie"
    )
    return table


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values."""
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (p.size - np.arange(p.size))
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return adjusted


def _verdict(low: float, high: float) -> str:
    if low > 0:
        return "wins"
    if high < 0:
        return "loses"
    return "tie"


def format_leaderboard(
    results: pd.DataFrame, k: int = 10, decimals: int = 3
) -> pd.DataFrame:
    """Readable table: ``mean [low, high]`` strings, timings dropped.

    Timings vary from machine to machine; show them separately, in cells
    whose output a regression test does not compare.
    """
    table = pd.DataFrame(index=results.index)
    for metric in metrics.RANKING_METRICS:
        column = f"{metric}@{k}"
        if column not in results:
            continue
        mean, low, high = (
            results[column],
            results[f"{column}_low"],
            results[f"{column}_high"],
        )
        table[column] = [
            f"{m:.{decimals}f} [{lo:.{decimals}f}, {hi:.{decimals}f}]"
            for m, lo, hi in zip(mean, low, high, strict=True)
        ]
    for column in (f"coverage@{k}", f"novelty@{k}"):
        if column in results:
            table[column] = results[column].round(decimals)
    return table


def published_leaderboard(dataset: str) -> pd.DataFrame:
    """The leaderboard ``benchmarks/leaderboard.py --write`` committed for ``dataset``.

    Shipped with the package, so lesson 11 shows the other datasets' figures
    offline, without their data. One row per model, best nDCG first: the
    columns of :func:`compare`'s leaderboard, then each model's paired
    difference from Popularity (``vs_popularity_difference``, ``_low``,
    ``_high``, ``_verdict``). ``attrs["made_by"]`` is the command and date
    that made it.

    Args:
        dataset: A dataset name, e.g. ``"movielens-latest-small"``.

    Returns:
        The leaderboard, indexed by model.

    Raises:
        ValueError: No leaderboard was committed for ``dataset``; the message
            lists those that were.
    """
    from importlib.resources import files

    from recsys_helpers.datasets import read_committed_table

    try:
        return read_committed_table(f"leaderboard_{dataset}.csv", index_col="model")
    except FileNotFoundError:
        known = sorted(
            entry.name[len("leaderboard_") : -len(".csv")]
            for entry in files("recsys_helpers.datasets").iterdir()
            if entry.name.startswith("leaderboard_") and entry.name.endswith(".csv")
        )
        raise ValueError(
            f"no published leaderboard for {dataset!r}; there are: {known} "
            f"(python benchmarks/leaderboard.py --dataset {dataset} --write)"
        ) from None
