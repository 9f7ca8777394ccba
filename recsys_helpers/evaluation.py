"""The course's evaluation protocol, in one place.

Protocol (the same for every lesson and model):

* rank **all** catalogue items for each test user (never a sample of
  negatives: sampled metrics can order models differently from full ones);
* exclude the user's training items from the ranking (counting them rewards
  re-recommending what the user already has);
* an item is relevant if the user interacted with it in the test set (any
  rating counts);
* report the mean over test users with a 95% bootstrap confidence interval:
  two models whose intervals overlap heavily have not been separated.

Warm users (at least one training interaction) are evaluated by default;
``users="cold"`` evaluates known users with no training history (only models
with ``serves_cold_users`` can). Users are processed in chunks so memory stays
bounded on any catalogue.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import pandas as pd

from recsys_helpers import metrics
from recsys_helpers.columns import USER
from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender

__all__ = [
    "bootstrap_ci",
    "compare",
    "evaluate",
    "format_leaderboard",
    "paired_bootstrap",
    "per_user_metrics",
    "test_user_rows",
]


def test_user_rows(train: Dataset, test: Dataset, users: str = "warm") -> np.ndarray:
    """Matrix rows of the test users to evaluate.

    Args:
        train: Training dataset.
        test: Test dataset (same id space as ``train``).
        users: ``"warm"`` (some training history), ``"cold"`` (none) or
            ``"all"``.

    Returns:
        Sorted row indices of users with at least one test interaction.
    """
    if users not in ("warm", "cold", "all"):
        raise ValueError(f"users must be 'warm', 'cold' or 'all', not {users!r}.")
    _check_same_space(train, test)
    in_test = np.unique(test.user_index(test.interactions[USER].to_numpy()))
    history = np.diff(train.to_csr().indptr)[in_test] > 0
    if users == "warm":
        return in_test[history]
    if users == "cold":
        return in_test[~history]
    return in_test


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
    chunk_size: int = 512,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Ranking metrics per test user for an already fitted model.

    Args:
        model: A fitted recommender (fitted on ``train``).
        train: Its training data (items to exclude).
        test: Held-out interactions.
        k: Cut-off.
        users: Which test users, see :func:`test_user_rows`.
        chunk_size: Users ranked at once (bounds memory: chunk x n_items).

    Returns:
        ``(frame, top_items)``: one row per user (``user_id`` then one column
        per metric of :data:`metrics.RANKING_METRICS`) and the (n_users, k)
        array of recommended item indices (-1 = padding).
    """
    if not 1 <= k <= train.n_items:
        raise ValueError(f"k must be between 1 and the {train.n_items} items; got {k}.")
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive.")
    rows = test_user_rows(train, test, users)
    if rows.size == 0:
        raise ValueError(f"no {users} test users to evaluate in {test.name!r}.")
    relevant = test.to_csr().tocsr()
    n_relevant = np.diff(relevant.indptr)[rows]
    values = {name: np.empty(rows.size) for name in metrics.RANKING_METRICS}
    top_items = np.empty((rows.size, k), dtype=np.int64)
    for start in range(0, rows.size, chunk_size):
        chunk = rows[start : start + chunk_size]
        items, _ = model.top_k_rows(chunk, k, exclude_seen=True)
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
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("cannot bootstrap an empty sample.")
    rng = np.random.default_rng(seed)
    means = np.empty(n_bootstrap)
    for start in range(0, n_bootstrap, 100):  # bounded memory: 100 x n_users
        stop = min(n_bootstrap, start + 100)
        draws = rng.integers(0, values.size, size=(stop - start, values.size))
        means[start:stop] = values[draws].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


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
        n_bootstrap: Resamples of the confidence intervals.
        seed: Seed of the resampling.

    Returns:
        One-row DataFrame indexed by model name: ``users``, for each ranking
        metric ``m@k`` with ``m@k_low`` / ``m@k_high`` (95% CI), then
        ``coverage@k``, ``novelty@k``, ``fit_s`` and ``recommend_s``.
    """
    fit_s = 0.0
    if fit:
        start = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - start
    start = time.perf_counter()
    per_user, top_items = per_user_metrics(model, train, test, k, users)
    recommend_s = time.perf_counter() - start
    row: dict[str, float | int] = {"users": len(per_user)}
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
    row["recommend_s"] = recommend_s
    label = name or type(model).__name__
    return pd.DataFrame([row], index=pd.Index([label], name="model"))


def compare(
    models: Mapping[str, Recommender], train: Dataset, test: Dataset, k: int = 10
) -> pd.DataFrame:
    """Evaluate several models on one split: a leaderboard, best nDCG first."""
    if not models:
        raise ValueError("give at least one model.")
    rows = [evaluate(m, train, test, k=k, name=n) for n, m in models.items()]
    return pd.concat(rows).sort_values(f"ndcg@{k}", ascending=False)


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
