"""Online experiments on the simulated shop: a simulator and its estimators.

Offline metrics score a ranking against a held-out sample of what users did
while they were shown *something else*. Online, a policy's own slates change
what users buy. No real dataset can tell what a user would have bought under
another policy; the simulated shop can, because its hidden truth
(:meth:`~recsys_helpers.datasets.shop.ShopTruth.next_item_proba`) gives
P(next purchase = i | user, time, history) for any history.

The world (assumptions)
-----------------------
* **Always the shop.** The simulator needs the hidden truth; a dataset without
  one (MovieLens) is rejected. The history is the shop's purchases before
  ``start_day``; policies are fitted on it (:attr:`Simulator.history`).
* **Arrivals.** Each user with a history visits on each simulated day with
  probability ``visit_rate`` (independently), at a uniform time of that day.
  Users who have not bought anything before the start never arrive (most
  course models cannot serve them).
* **One purchase intention per visit.** At a visit the user intends to buy
  one item X drawn from the truth, P(X = i) = p(u, t, H) (H: the history,
  frozen during a run: purchases of a run do not change later visits of the
  same run; :meth:`Simulator.after` moves the clock and adds them).
* **Position bias (cascade-free examination).** The policy shows a slate of
  ``k`` distinct items; the user examines position j with probability e_j
  (``position_bias``, default e_j = 1 / log2(j + 1), the nDCG discount),
  independently of the items. The user buys from the slate exactly when X is
  shown at an examined position. So the expected purchases of a visit are

      E[purchases | u, t, slate] = sum_j e_j * p(u, t, H)[slate_j]   (in [0, 1])

  and the "truth's probability" is the only reason an item is bought.
* **Logging.** Every impression (visit, position, item) is logged with the
  policy's propensity: the probability that the policy put that item at that
  position given the items above it (1 for a deterministic policy). The
  product over a visit's positions is the slate's probability; with ``k = 1``
  the propensity is the textbook pi(a | x) of off-policy evaluation.

Everything is vectorised over visits (a loop over the k positions only) and
seeded: the same seeds give the same logs. A run of 100,000 impressions takes
well under a second plus the truth's computation (``benchmarks/online_experiments.py``).

Estimators (each a small function with its formula): :func:`ab_test`,
:func:`users_needed`, :func:`peeking_false_positives`, :func:`ab_detection_rate`,
:func:`team_draft`, :func:`interleaving_preferences`,
:func:`interleaving_detection_rate`, :func:`ips`, :func:`snips`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from recsys_helpers.columns import ITEM, TIMESTAMP, USER
from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender

__all__ = [
    "DAY",
    "EpsilonGreedy",
    "Greedy",
    "Policy",
    "Simulator",
    "Softmax",
    "Visits",
    "ab_detection_rate",
    "ab_test",
    "interleaving_detection_rate",
    "interleaving_preferences",
    "ips",
    "peeking_false_positives",
    "purchases_per_user",
    "snips",
    "team_draft",
    "users_needed",
]

DAY = 86_400  # seconds
YEAR_START = 1_735_689_600  # the shop's clock: 2025-01-01 UTC (day 0)


def _check_rate(name: str, value: Any, upper: float | None = 1.0) -> float:
    """A number in [0, upper] (or >= 0 without an upper bound)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (upper is not None and value > upper):
        bound = f"[0, {upper}]" if upper is not None else ">= 0"
        raise ValueError(f"{name} must be in {bound}, got {value!r}.")
    return value


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value!r}.")
    return int(value)


# ----------------------------------------------------------------- policies
class Policy(Protocol):
    """What the simulator needs from a policy.

    ``slate(visits, k, rng)`` returns ``(items, propensity)``, both shaped
    (len(visits), k): catalogue indices (distinct within a row) and, for each
    position, the probability that the policy chose that item there given
    the items above it. A plain fitted Recommender is wrapped in
    :class:`Greedy`.
    """

    def slate(
        self, visits: pd.DataFrame, k: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n_visits, k) item indices and their conditional propensities."""


class _ModelPolicy:
    """Shared part of the wrappers: per-visit scores of a fitted model."""

    def __init__(self, model: Recommender, exclude_seen: bool = True) -> None:
        if not isinstance(model, Recommender):
            raise TypeError(
                "a policy wraps a fitted course Recommender, got "
                f"{type(model).__name__}."
            )
        model._check_fitted()
        self.model = model
        self.exclude_seen = exclude_seen

    def user_scores(self, visits: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Scores of the visits' distinct users and each visit's row among them.

        Returns ``(scores, inverse)``: (n_users, n_items) scores (excluded,
        seen items at -inf) and, per visit, its user's row.
        """
        users, inverse = np.unique(visits[USER].to_numpy(), return_inverse=True)
        rows = self.model.train_.user_index(users)
        scores = self.model.score_rows(rows)
        if self.exclude_seen:
            seen_rows, seen_cols = self.model.user_items_[rows].nonzero()
            scores[seen_rows, seen_cols] = -np.inf
        return scores, inverse

    def scores(self, visits: pd.DataFrame) -> np.ndarray:
        """(n_visits, n_items) scores; excluded (seen) items get -inf."""
        scores, inverse = self.user_scores(visits)
        return scores[inverse]

    def _logits(self, visits: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per-user scores standardised over the eligible items (-inf kept)."""
        scores, inverse = self.user_scores(visits)
        eligible = np.isfinite(scores)
        masked = np.where(eligible, scores, np.nan)
        mean = np.nanmean(masked, axis=1, keepdims=True)
        std = np.nanstd(masked, axis=1, keepdims=True)
        std = np.where(std > 0, std, 1.0)
        return np.where(eligible, (scores - mean) / std, -np.inf), inverse

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.model).__name__})"


class Greedy(_ModelPolicy):
    """Deterministic: the model's top k (its ``top_k_rows``), propensity 1.

    Args:
        model: A fitted Recommender whose training data is the simulator's
            history (same users and items).
        exclude_seen: Never show the user's training items.
    """

    def slate(
        self, visits: pd.DataFrame, k: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items of each visit's user; propensities all 1."""
        users, inverse = np.unique(visits[USER].to_numpy(), return_inverse=True)
        rows = self.model.train_.user_index(users)
        items, _ = self.model.top_k_rows(rows, k, exclude_seen=self.exclude_seen)
        return items[inverse], np.ones((len(visits), k))

    def first_proba(self, visits: pd.DataFrame) -> np.ndarray:
        """P(item at position 1): one-hot on the model's best item."""
        items, _ = self.slate(visits, 1, np.random.default_rng(0))
        out = np.zeros((len(visits), self.model.train_.n_items))
        out[np.arange(len(visits)), items[:, 0]] = 1.0
        return out


class Softmax(_ModelPolicy):
    """Plackett-Luce sampling from a softmax over standardised scores.

    With z_ui the model's scores standardised per user over the eligible
    items (mean 0, standard deviation 1, so one temperature suits every
    model) and temperature T, position j shows item i with probability

        pi_j(i) = exp(z_ui / T) / sum_{l eligible, not above j} exp(z_ul / T)

    T -> 0 is the greedy top-k, T = inf is uniform over the eligible items.
    Sampled with the Gumbel top-k trick (one draw per visit and item).

    Args:
        model: A fitted Recommender (see :class:`Greedy`).
        temperature: T > 0 (``np.inf`` allowed).
        exclude_seen: Never show the user's training items.
    """

    def __init__(
        self, model: Recommender, temperature: float, exclude_seen: bool = True
    ) -> None:
        super().__init__(model, exclude_seen)
        if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
            raise TypeError(f"temperature must be a number, got {temperature!r}.")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}.")
        self.temperature = float(temperature)

    def _weights(self, visits: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per-user exp(z / T) (0 for excluded items) and each visit's user row."""
        logits, inverse = self._logits(visits)
        if np.isinf(self.temperature):
            return np.isfinite(logits).astype(np.float64), inverse
        scaled = logits / self.temperature
        top = scaled.max(axis=1, keepdims=True)
        return np.exp(scaled - top), inverse  # -inf -> 0

    def first_proba(self, visits: pd.DataFrame) -> np.ndarray:
        """P(item at position 1) = softmax(z_u / T)."""
        weights, inverse = self._weights(visits)
        return (weights / weights.sum(axis=1, keepdims=True))[inverse]

    def slate(
        self, visits: pd.DataFrame, k: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sample k distinct items per visit and their conditional propensities."""
        user_weights, inverse = self._weights(visits)
        if k == 1:  # inverse CDF: one uniform per visit, far cheaper than Gumbel
            n_users, n_items = user_weights.shape
            cumulative = np.cumsum(user_weights, axis=1)
            total = cumulative[:, -1]
            # row r's cumulative shares live in [r, r + 1]: one sorted array
            flat = (cumulative / total[:, None] + np.arange(n_users)[:, None]).ravel()
            found = np.searchsorted(flat, inverse + rng.random(inverse.size), "right")
            item = np.clip(found - inverse * n_items, 0, n_items - 1)
            chosen = user_weights[inverse, item]
            return item[:, None], (chosen / total[inverse])[:, None]
        with np.errstate(divide="ignore"):
            keys = np.log(user_weights)[inverse] + rng.gumbel(
                size=(inverse.size, user_weights.shape[1])
            )
        if k < keys.shape[1]:
            top = np.argpartition(-keys, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1)
            items = np.take_along_axis(top, order, axis=1)
        else:
            items = np.argsort(-keys, axis=1, kind="stable")
        chosen = user_weights[inverse[:, None], items]
        total = user_weights.sum(axis=1)[inverse][:, None]
        above = np.cumsum(chosen, axis=1) - chosen
        return items, np.minimum(chosen / (total - above), 1.0)


class EpsilonGreedy(_ModelPolicy):
    """Epsilon-greedy slates: the best remaining item, or a random one.

    At each position the policy takes the best remaining item, or with
    probability eps a uniformly random remaining eligible item:

        pi_j(i) = (1 - eps) * [i = best remaining] + eps / (eligible items left)

    eps = 0 is :class:`Greedy`, eps = 1 the uniform random slate.

    Args:
        model: A fitted Recommender (see :class:`Greedy`).
        epsilon: eps in [0, 1].
        exclude_seen: Never show the user's training items.
    """

    def __init__(
        self, model: Recommender, epsilon: float, exclude_seen: bool = True
    ) -> None:
        super().__init__(model, exclude_seen)
        self.epsilon = _check_rate("epsilon", epsilon)

    def first_proba(self, visits: pd.DataFrame) -> np.ndarray:
        """P(item at position 1)."""
        scores = self.scores(visits)
        eligible = np.isfinite(scores)
        out = self.epsilon * eligible / eligible.sum(axis=1, keepdims=True)
        best = np.argmax(scores, axis=1)
        out[np.arange(len(visits)), best] += 1 - self.epsilon
        return out

    def slate(
        self, visits: pd.DataFrame, k: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fill k positions, each greedy or exploring; conditional propensities."""
        scores = self.scores(visits)
        n = len(visits)
        order = np.argsort(-scores, axis=1, kind="stable")  # best first, ties by index
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(scores.shape[1])[None, :], axis=1)
        available = np.isfinite(scores)
        items = np.zeros((n, k), dtype=np.int64)
        propensity = np.zeros((n, k))
        explore = rng.random((n, k)) < self.epsilon
        pick = rng.random((n, k))
        rows = np.arange(n)
        for j in range(k):
            left = available.sum(axis=1)
            best = np.argmin(np.where(available, rank, np.iinfo(np.int64).max), axis=1)
            # the random item: the ceil(pick * left)-th available one
            nth = np.minimum((pick[:, j] * left).astype(np.int64), left - 1)
            random_item = np.argmax(np.cumsum(available, axis=1) > nth[:, None], axis=1)
            items[:, j] = np.where(explore[:, j], random_item, best)
            is_best = items[:, j] == best
            propensity[:, j] = (1 - self.epsilon) * is_best + self.epsilon / left
            available[rows, items[:, j]] = False
        return items, propensity


# ---------------------------------------------------------------- simulator
@dataclass(frozen=True, eq=False)
class Visits:
    """Who visits when, and what each visitor intends to buy.

    Attributes:
        frame: One row per visit: ``visit`` (0..n-1), ``user_id``, ``day``
            (days since the shop's year start, integer), ``timestamp``.
        proba: (n_visits, n_items) truth probabilities p(u, t, H) of the
            visit's intended purchase.
    """

    frame: pd.DataFrame
    proba: np.ndarray

    @cached_property
    def cumulative(self) -> np.ndarray:
        """Visit v's cumulative item probabilities shifted to [v, v + 1], flat.

        One sorted array, so ``np.searchsorted`` draws every visit's intended
        item at once (inverse CDF).
        """
        cumulative = np.cumsum(self.proba, axis=1)
        shares = cumulative / cumulative[:, -1:]
        return (shares + np.arange(len(self.frame))[:, None]).ravel()

    def __len__(self) -> int:
        return len(self.frame)


class Simulator:
    """Users arrive over days and buy from the slates a policy shows them.

    See the module docstring for the assumptions.

    Args:
        shop: The shop Dataset (with its hidden ``truth``), e.g.
            ``data.load("shop")``.
        start_day: Day of the year (since 2025-01-01) the experiment starts;
            the purchases before it are the history.
        k: Slate length, 1 <= k <= catalogue size.
        position_bias: Examination probability of each of the k positions, in
            [0, 1]; default e_j = 1 / log2(j + 1).
        history: The purchases before the start (default: the shop's); used
            by :meth:`after` to add a run's purchases.

    Attributes:
        history: Dataset of the purchases before ``start_day`` (same users
            and items as ``shop``): fit the policies on it.
    """

    def __init__(
        self,
        shop: Dataset,
        start_day: float = 300.0,
        k: int = 10,
        position_bias: np.ndarray | None = None,
        history: pd.DataFrame | None = None,
    ) -> None:
        if not isinstance(shop, Dataset):
            raise TypeError(f"shop must be a Dataset, got {type(shop).__name__}.")
        if shop.truth is None:
            raise ValueError(
                f"the online simulator needs the shop's hidden truth; {shop.name!r} "
                "has none. The online world is always data.load('shop')."
            )
        self.shop = shop
        self.start_day = _check_rate("start_day", start_day, upper=None)
        self.k = _check_positive_int("k", k)
        if self.k > shop.n_items:
            raise ValueError(
                f"k={k} is larger than the catalogue ({shop.n_items} items)."
            )
        if position_bias is None:
            position_bias = 1.0 / np.log2(np.arange(2, self.k + 2))
        bias = np.array(position_bias, dtype=np.float64)  # a copy
        if bias.shape != (self.k,):
            raise ValueError(
                f"position_bias needs one value per position ({self.k}), "
                f"got shape {bias.shape}."
            )
        if not np.all(np.isfinite(bias)) or bias.min() < 0 or bias.max() > 1:
            raise ValueError(
                f"position_bias values are examination probabilities in [0, 1], "
                f"got {bias.round(3).tolist()}."
            )
        self.position_bias = bias
        inter = shop.interactions if history is None else history
        start = YEAR_START + self.start_day * DAY
        before = inter.loc[inter[TIMESTAMP] < start]
        self.history = shop.with_interactions(
            before, f"shop before day {self.start_day:g}", {"start_day": start_day}
        )
        self.active_users = np.sort(before[USER].unique())

    # ---------------------------------------------------------------- visits
    def arrivals(
        self,
        days: int,
        visit_rate: float,
        users: np.ndarray | None = None,
        seed: int = 0,
    ) -> Visits:
        """Draw the visits of ``days`` days from the start and their intentions.

        Args:
            days: Length of the experiment in days (>= 1).
            visit_rate: P(a user visits on a given day), in [0, 1].
            users: Which users (ids with a history); default all active users.
            seed: Seed of the arrivals and of the intended purchases.

        Returns:
            :class:`Visits`, sorted by time.
        """
        days = _check_positive_int("days", days)
        visit_rate = _check_rate("visit_rate", visit_rate)
        users = self.active_users if users is None else np.asarray(users)
        unknown = ~np.isin(users, self.active_users)
        if unknown.any():
            raise ValueError(
                f"user(s) {users[unknown][:5].tolist()} have no purchase before day "
                f"{self.start_day:g}: only users with a history arrive."
            )
        rng = np.random.default_rng(seed)
        came = rng.random((users.size, days)) < visit_rate
        who, day = np.nonzero(came)
        offset = rng.random(who.size)
        when = YEAR_START + (self.start_day + day + offset) * DAY
        frame = pd.DataFrame(
            {
                USER: users[who],
                "day": (np.floor(self.start_day) + day).astype(np.int64),
                TIMESTAMP: when.astype(np.int64),
            }
        )
        frame = frame.sort_values(TIMESTAMP, kind="stable").reset_index(drop=True)
        frame.insert(0, "visit", np.arange(len(frame)))
        proba = self.shop.truth.next_item_proba(
            frame[USER].to_numpy(),
            frame[TIMESTAMP].to_numpy(),
            self.history.interactions,
        )
        return Visits(frame, proba)

    # ------------------------------------------------------------------ runs
    def _check_slate(
        self, policy: Any, items: Any, propensity: Any, n: int, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        name = type(policy).__name__
        items, propensity = np.asarray(items), np.asarray(propensity, dtype=float)
        if items.shape != (n, k) or propensity.shape != (n, k):
            raise ValueError(
                f"{name}.slate returned shapes {items.shape} and {propensity.shape}; "
                f"expected ({n}, {k}) items and propensities (one row per visit)."
            )
        if not np.issubdtype(items.dtype, np.integer):
            raise TypeError(f"{name}.slate must return integer item indices.")
        if items.min() < 0 or items.max() >= self.shop.n_items:
            raise ValueError(
                f"{name}.slate returned item indices outside 0..{self.shop.n_items - 1}"
                " (fewer than k items left to show for some user?)."
            )
        ordered = np.sort(items, axis=1)
        if (ordered[:, 1:] == ordered[:, :-1]).any():
            raise ValueError(f"{name}.slate shows an item twice in one slate.")
        if not np.all((propensity > 0) & (propensity <= 1)):
            raise ValueError(f"{name}.slate returned propensities outside (0, 1].")
        return items.astype(np.int64), propensity

    def _slate(
        self, policy: Any, visits: Visits, k: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(policy, Recommender):
            policy = Greedy(policy)
        if not hasattr(policy, "slate"):
            raise TypeError(
                f"a policy is a fitted Recommender or has a slate() method; got "
                f"{type(policy).__name__}."
            )
        model = getattr(policy, "model", None)
        if model is not None and not np.array_equal(
            model.train_.item_ids, self.shop.item_ids
        ):
            raise ValueError("the policy's model was not fitted on the shop's items.")
        items, propensity = policy.slate(visits.frame, k, rng)
        return self._check_slate(policy, items, propensity, len(visits), k)

    def run(
        self, policy: Any, visits: Visits, seed: int = 0, k: int | None = None
    ) -> pd.DataFrame:
        """Show each visit a slate of the policy and log every impression.

        Args:
            policy: A fitted Recommender (shown greedily) or a policy
                (:class:`Greedy`, :class:`Softmax`, :class:`EpsilonGreedy`).
            visits: From :meth:`arrivals`.
            seed: Seed of the policy's sampling, the examination and purchase.
            k: Slate length; default the simulator's (then its position bias).

        Returns:
            One row per impression: ``visit``, ``user_id``, ``day``,
            ``timestamp``, ``position`` (1 = top), ``item_id``, ``item``
            (catalogue index), ``propensity``, ``examined``, ``purchased``.
        """
        k = self.k if k is None else _check_positive_int("k", k)
        if k > self.k:
            raise ValueError(f"k={k} is larger than the simulator's k={self.k}.")
        rng = np.random.default_rng(seed)
        items, propensity = self._slate(policy, visits, k, rng)
        examined, purchased = self._outcome(items, visits, rng)
        return self._log(visits, items, propensity, examined, purchased)

    def _outcome(
        self, items: np.ndarray, visits: Visits, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Examined and purchased flags (n, k): X ~ p; bought if shown and seen."""
        n, k = items.shape
        n_items = visits.proba.shape[1]
        found = np.searchsorted(
            visits.cumulative, np.arange(n) + rng.random(n), "right"
        )
        intended = np.clip(found - np.arange(n) * n_items, 0, n_items - 1)
        examined = rng.random((n, k)) < self.position_bias[:k][None, :]
        purchased = (items == intended[:, None]) & examined
        return examined, purchased

    def _log(
        self,
        visits: Visits,
        items: np.ndarray,
        propensity: np.ndarray,
        examined: np.ndarray,
        purchased: np.ndarray,
        extra: dict[str, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        n, k = items.shape
        frame = visits.frame.loc[np.repeat(np.arange(n), k)].reset_index(drop=True)
        frame["position"] = np.tile(np.arange(1, k + 1), n)
        frame[ITEM] = self.shop.item_ids[items.ravel()]
        frame["item"] = items.ravel()
        frame["propensity"] = propensity.ravel()
        frame["examined"] = examined.ravel()
        frame["purchased"] = purchased.ravel()
        for name, values in (extra or {}).items():
            frame[name] = values.ravel()
        return frame

    def expected_purchases(self, policy: Any, visits: Visits, seed: int = 0) -> float:
        """The policy's true online value: expected purchases per visit.

            V(pi) = mean over visits of sum_j e_j * p(u, t, H)[slate_j]

        See :meth:`expected_per_visit` (this is its mean).
        """
        return float(self.expected_per_visit(policy, visits, seed).mean())

    def expected_per_visit(
        self, policy: Any, visits: Visits, seed: int = 0
    ) -> np.ndarray:
        """Expected purchases of each visit: sum_j e_j * p(u, t, H)[slate_j].

        Exact for a deterministic policy (the purchase noise is integrated
        out); for a stochastic one the slate is sampled once per visit, and
        with ``k = 1`` and a ``first_proba`` method it is exact:
        e_1 * sum_i pi(i | v) p_v(i).
        """
        if self.k == 1 and hasattr(policy, "first_proba"):
            pi = policy.first_proba(visits.frame)
            return self.position_bias[0] * (pi * visits.proba).sum(axis=1)
        items, _ = self._slate(policy, visits, self.k, np.random.default_rng(seed))
        p = np.take_along_axis(visits.proba, items, axis=1)
        return p @ self.position_bias

    def run_interleaved(
        self, policy_a: Any, policy_b: Any, visits: Visits, seed: int = 0
    ) -> pd.DataFrame:
        """Team-draft interleave two policies' slates (see :func:`team_draft`).

        Returns:
            The impression log of :meth:`run` plus ``team`` (0 = A, 1 = B);
            the propensity column is 1 (interleaving is not for off-policy use).
        """
        rng = np.random.default_rng(seed)
        items_a, _ = self._slate(policy_a, visits, self.k, rng)
        items_b, _ = self._slate(policy_b, visits, self.k, rng)
        items, team = team_draft(items_a, items_b, self.k, rng)
        examined, purchased = self._outcome(items, visits, rng)
        return self._log(
            visits, items, np.ones(items.shape), examined, purchased, {"team": team}
        )

    def after(self, log: pd.DataFrame, days: float) -> Simulator:
        """A simulator ``days`` later whose history includes the log's purchases.

        For feedback loops: fit the next round's policy on its ``history``.
        """
        days = _check_rate("days", days, upper=None)
        bought = log.loc[log["purchased"], [USER, ITEM, TIMESTAMP]]
        history = pd.concat(
            [self.history.interactions[[USER, ITEM, TIMESTAMP]], bought],
            ignore_index=True,
        )
        return Simulator(
            self.shop, self.start_day + days, self.k, self.position_bias, history
        )


# --------------------------------------------------------------- A/B tests
def purchases_per_user(log: pd.DataFrame, users: np.ndarray) -> np.ndarray:
    """Purchases of each of ``users`` in the log (0 for users who never came).

    Users without a visit must count as 0, or an arm that makes users come
    back less would look better.
    """
    counts = log.groupby(USER)["purchased"].sum()
    return counts.reindex(np.asarray(users), fill_value=0).to_numpy(dtype=np.float64)


def ab_test(
    values_a: np.ndarray, values_b: np.ndarray, level: float = 0.95
) -> dict[str, float]:
    """Difference of two independent arms' means with a normal (Welch) CI.

        d = mean(B) - mean(A),  se = sqrt(var(A) / n_A + var(B) / n_B)
        CI = d +- z_{1-(1-level)/2} * se,   z = d / se,   p = 2 (1 - Phi(|z|))

    (Each arm has other users, so the paired bootstrap of lesson 00 does
    not apply; :func:`evaluation.bootstrap_ci` gives each arm's own CI.)

    Returns:
        ``{"mean_a", "mean_b", "difference", "low", "high", "z", "p_value"}``.
    """
    a = np.asarray(values_a, dtype=np.float64)
    b = np.asarray(values_b, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1 or a.size < 2 or b.size < 2:
        raise ValueError("ab_test needs two 1-D arrays of at least 2 users each.")
    _check_rate("level", level)
    difference = b.mean() - a.mean()
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    z_crit = stats.norm.ppf(1 - (1 - level) / 2)
    z = difference / se if se > 0 else 0.0
    return {
        "mean_a": float(a.mean()),
        "mean_b": float(b.mean()),
        "difference": float(difference),
        "low": float(difference - z_crit * se),
        "high": float(difference + z_crit * se),
        "z": float(z),
        "p_value": float(2 * stats.norm.sf(abs(z))),
    }


def users_needed(
    std: float, difference: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Users per arm to detect a difference of means (two-sided z-test).

        n = 2 * (z_{1-alpha/2} + z_{power})^2 * std^2 / difference^2

    Args:
        std: Standard deviation of the per-user metric (> 0).
        difference: The smallest difference worth detecting (!= 0).
        alpha: False-positive rate of the test, in (0, 1).
        power: Probability of detecting the difference, in (0, 1).

    Returns:
        Users per arm, rounded up.
    """
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha}, {power}.")
    if not std > 0 or difference == 0:
        raise ValueError(f"need std > 0 and difference != 0, got {std}, {difference}.")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return int(np.ceil(2 * z**2 * std**2 / difference**2))


def _z_scores(sum_a, sq_a, n_a, sum_b, sq_b, n_b) -> np.ndarray:
    """Welch z of arms given sums and sums of squares (broadcast)."""
    mean_a, mean_b = sum_a / n_a, sum_b / n_b
    var_a = (sq_a - n_a * mean_a**2) / (n_a - 1)
    var_b = (sq_b - n_b * mean_b**2) / (n_b - 1)
    se = np.sqrt(var_a / n_a + var_b / n_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(se > 0, (mean_b - mean_a) / se, 0.0)


def peeking_false_positives(
    daily: np.ndarray, n_experiments: int = 1000, alpha: float = 0.05, seed: int = 0
) -> dict[str, float]:
    """False-positive rate of A/A tests checked once vs checked every day.

    Each experiment splits the users at random into two halves of one policy
    (an A/A test: no real difference) and runs the z-test of :func:`ab_test`
    on the cumulative purchases per user after each day. "Peeking" declares a
    difference as soon as one day's p < alpha.

    Args:
        daily: (n_users, n_days) purchases of each user on each day.
        n_experiments: Random splits.
        alpha: Significance level of each look.
        seed: Seed of the splits.

    Returns:
        ``{"final": share significant on the last day, "peeking": share
        significant on any day}``; the final one should be near ``alpha``.
    """
    daily = np.asarray(daily, dtype=np.float64)
    if daily.ndim != 2 or daily.shape[0] < 4:
        raise ValueError("daily must be (n_users >= 4, n_days) purchases.")
    rng = np.random.default_rng(seed)
    n = daily.shape[0]
    cumulative = np.cumsum(daily, axis=1)
    in_b = np.argsort(rng.random((n_experiments, n)), axis=1) < n // 2
    weights_b = in_b.astype(np.float64)
    weights_a = 1.0 - weights_b
    z = _z_scores(
        weights_a @ cumulative,
        weights_a @ cumulative**2,
        n - n // 2,
        weights_b @ cumulative,
        weights_b @ cumulative**2,
        n // 2,
    )
    significant = np.abs(z) > stats.norm.ppf(1 - alpha / 2)
    return {
        "final": float(significant[:, -1].mean()),
        "peeking": float(significant.any(axis=1).mean()),
    }


def ab_detection_rate(
    values_a: np.ndarray,
    values_b: np.ndarray,
    n_per_arm: int,
    n_experiments: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> float:
    """Share of simulated A/B tests of ``n_per_arm`` users that find B > A.

    Each experiment draws ``n_per_arm`` users with replacement from each
    arm's per-user outcomes and counts a detection when z > z_{1-alpha/2}
    (:func:`ab_test`'s statistic, right direction).
    """
    n_per_arm = _check_positive_int("n_per_arm", n_per_arm)
    a, b = np.asarray(values_a, float), np.asarray(values_b, float)
    rng = np.random.default_rng(seed)
    draws_a = a[rng.integers(0, a.size, (n_experiments, n_per_arm))]
    draws_b = b[rng.integers(0, b.size, (n_experiments, n_per_arm))]
    z = _z_scores(
        draws_a.sum(1), (draws_a**2).sum(1), n_per_arm,
        draws_b.sum(1), (draws_b**2).sum(1), n_per_arm,
    )  # fmt: skip
    return float((z > stats.norm.ppf(1 - alpha / 2)).mean())


# ------------------------------------------------------------ interleaving
def team_draft(
    ranking_a: np.ndarray, ranking_b: np.ndarray, k: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Team-draft interleaving of two rankings per row (Radlinski et al. 2008).

    Like picking teams: in each round the team with fewer picks so far picks
    next (a coin flip when equal); a team picks its highest-ranked item not
    yet in the slate. Every purchase is credited to the team that picked the
    item.

    Args:
        ranking_a: (n, >= k) item indices, best first, distinct per row.
        ranking_b: (n, >= k) the same for B.
        k: Slate length.
        rng: Random generator (the coin flips).

    Returns:
        ``(slate, team)``: (n, k) items and (n, k) team (0 = A, 1 = B).
    """
    a, b = np.asarray(ranking_a), np.asarray(ranking_b)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] < k:
        raise ValueError(
            f"rankings must have the same shape (n, >= k={k}), "
            f"got {a.shape} and {b.shape}."
        )
    n = a.shape[0]
    rows = np.arange(n)
    slate = np.full((n, k), -1, dtype=np.int64)
    team = np.zeros((n, k), dtype=np.int64)
    picks = np.zeros((n, 2), dtype=np.int64)
    pointer = np.zeros((n, 2), dtype=np.int64)
    rankings = np.stack([a, b], axis=1)  # (n, 2, depth)
    for j in range(k):
        coin = rng.random(n) < 0.5
        turn = np.where(picks[:, 0] == picks[:, 1], coin, picks[:, 1] < picks[:, 0])
        turn = turn.astype(np.int64)
        for _ in range(k):  # skip items the other team already placed
            candidate = rankings[
                rows, turn, np.minimum(pointer[rows, turn], a.shape[1] - 1)
            ]
            taken = (slate[:, :j] == candidate[:, None]).any(axis=1)
            if not taken.any():
                break
            pointer[rows[taken], turn[taken]] += 1
        slate[:, j] = candidate
        team[:, j] = turn
        pointer[rows, turn] += 1
        picks[rows, turn] += 1
    return slate, team


def interleaving_preferences(log: pd.DataFrame, users: np.ndarray) -> np.ndarray:
    """Each user's verdict: +1 if B's team got more purchases, -1 if A's, 0 if even.

    pref_u = sign(sum purchases credited to B - sum credited to A)
    """
    credit = np.where(log["team"].to_numpy() == 1, 1.0, -1.0) * log["purchased"]
    per_user = credit.groupby(log[USER]).sum()
    return np.sign(per_user.reindex(np.asarray(users), fill_value=0.0).to_numpy())


def interleaving_detection_rate(
    preferences: np.ndarray,
    n_users: int,
    n_experiments: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> float:
    """Share of simulated interleaving tests of ``n_users`` users that find B > A.

    Sign test on the users with a preference: with w users preferring B and
    l preferring A, z = (w - l) / sqrt(w + l); detection when
    z > z_{1-alpha/2}. Users are drawn with replacement from ``preferences``.
    """
    n_users = _check_positive_int("n_users", n_users)
    pref = np.asarray(preferences, float)
    rng = np.random.default_rng(seed)
    draws = pref[rng.integers(0, pref.size, (n_experiments, n_users))]
    decided = np.abs(draws).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(decided > 0, draws.sum(axis=1) / np.sqrt(decided), 0.0)
    return float((z > stats.norm.ppf(1 - alpha / 2)).mean())


# -------------------------------------------------------------- off-policy
def _check_weights(
    rewards: np.ndarray, target: np.ndarray, logging: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(rewards, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    q = np.asarray(logging, dtype=np.float64)
    if not r.shape == t.shape == q.shape or r.ndim != 1 or r.size == 0:
        raise ValueError("rewards and both propensities must be 1-D of one length.")
    if not np.all((q > 0) & (q <= 1)):
        raise ValueError(
            "logging propensities must be in (0, 1]: IPS cannot use actions the "
            "logging policy could not take."
        )
    if not np.all((t >= 0) & (t <= 1)):
        raise ValueError("target propensities must be in [0, 1].")
    return r, t / q


def ips(rewards: np.ndarray, target: np.ndarray, logging: np.ndarray) -> float:
    """Inverse propensity scoring: the target policy's value from logs.

        V_IPS = (1/n) sum_t r_t * pi_e(a_t | x_t) / pi_0(a_t | x_t)

    Unbiased when pi_0 > 0 wherever pi_e > 0; its variance grows with the
    weights pi_e / pi_0 (a near-deterministic logging policy).

    Args:
        rewards: r_t per logged decision (e.g. purchased, 0/1).
        target: pi_e(a_t | x_t), the new policy's probability of the logged action.
        logging: pi_0(a_t | x_t), the logged propensity.
    """
    r, w = _check_weights(rewards, target, logging)
    return float(np.mean(r * w))


def snips(rewards: np.ndarray, target: np.ndarray, logging: np.ndarray) -> float:
    """Self-normalised IPS: the weighted mean of rewards.

        V_SNIPS = sum_t r_t w_t / sum_t w_t,   w_t = pi_e(a_t | x_t) / pi_0(a_t | x_t)

    Slightly biased (consistent), far less variance than IPS when weights are
    large; 0 when no logged action has weight (no overlap at all).
    """
    r, w = _check_weights(rewards, target, logging)
    total = w.sum()
    return float((r * w).sum() / total) if total > 0 else 0.0
