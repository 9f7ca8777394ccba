r"""Multi-stage recommendation: retrieve candidates, rank them with features, re-rank.

A production recommender rarely scores the whole catalogue with its best
model. It works in stages:

1. **Retrieve**: a cheap model (any course :class:`Recommender`, e.g. ALS or
   ItemKNN) proposes the top ``N`` items per user, the *candidates*. Nothing
   after this stage can recommend an item it missed, so the retriever's
   recall@N is the **ceiling** of the whole system
   (``evaluation.evaluate(retriever, train, test, k=N)["recall@N"]``).
2. **Rank**: a model that sees *features* the retriever does not (the clock:
   item age and what sells now; the user's history per category; the
   retriever's own score and rank) orders the candidates. It is trained on
   **labels from the next window**: the training data is split again by time
   (``split.by_time(train, label_fraction)``); the retriever and the features
   see only the first part (the *history*), and a candidate is labelled 1 if
   the user bought it in the second part (the *label window*). Then
   everything is refitted on all of train to rank for the test period.
3. **Re-rank**: the ranked list is reordered for goals a relevance score does
   not capture: maximal marginal relevance (:func:`mmr`) for diversity,
   a freshness boost (:func:`freshness_boost`), and hard business rules
   (:func:`business_rules`: never a durable the user already owns, never an
   item before its launch).

Leak-free features. Every feature of a (user, item) pair is computed from the
history only, at the user's *ranking time* ``when`` (one second after their
last history event: no fact of the label window, not even its time, is
used). :func:`leak_check` proves it for any frame builder: it shuffles the
items of the label window and shifts its times; the labels must change and
not one feature value may.

Rankers (:data:`RANKERS`): :class:`LogisticRanker` (scikit-learn, a linear
baseline), :class:`LambdaMART` (LightGBM's ``lambdarank`` objective,
deterministic settings) and :class:`DeepCross` (a deep & cross network in
Keras 3 with ``keras_rs.layers.FeatureCross``). LightGBM, TensorFlow and
keras-rs are imported only when those rankers are fitted.

:class:`TwoStage` puts it together and is itself a course Recommender, so
``evaluation.evaluate`` and ``evaluation.compare`` take it.

Data without a catalogue clock. On data whose items have no ``launched`` or
``kind`` column (MovieLens), item age is measured from the item's first
interaction in the history, the durable rule and the launch rule do nothing,
and the category is the first genre (:func:`feature_report` says which
features are available and why).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone

from recsys_helpers import split
from recsys_helpers.columns import ITEM, TIMESTAMP, USER
from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender
from recsys_helpers.models.params import check_choice, check_int, check_number

__all__ = [
    "FEATURES",
    "RANKERS",
    "DeepCross",
    "LambdaMART",
    "LogisticRanker",
    "TwoStage",
    "business_rules",
    "candidates",
    "feature_columns",
    "feature_report",
    "features",
    "freshness_boost",
    "intra_list_diversity",
    "item_groups",
    "leak_check",
    "list_metrics",
    "mmr",
    "ranking_times",
    "rerank",
    "training_frame",
]

DAY = 86_400
RECENT_DAYS = 30.0  # "what sells now": events in the 30 days before the ranking time
TREND_DAYS = 7.0  # the trend compares the last 7 days with the last 30
NEVER_DAYS = 1_000.0  # "days since" when it never happened
LABEL = "label"

# every feature a frame can hold; feature_report says which a dataset has
FEATURES = (
    "retriever_score",
    "retriever_rank",
    "item_popularity",
    "item_recent",
    "item_trend",
    "item_age_days",
    "user_activity",
    "user_item_count",
    "category_share",
    "days_since_category",
    "subcategory_share",
    "days_since_subcategory",
    "consumable",
)


# ----------------------------------------------------------------- catalogue
def item_groups(items: pd.DataFrame) -> dict[str, np.ndarray]:
    """Integer group codes per item: ``category`` and, if present, ``subcategory``.

    The shop has both columns. MovieLens has ``genres`` ("Adventure,
    Animation, ..."): its first genre stands in for the category. Data with
    neither gets no group features.

    Returns:
        Name -> int array (n_items,) of group codes (0..n_groups-1), in item order.
    """
    groups: dict[str, np.ndarray] = {}
    if "category" in items:
        groups["category"] = _codes(items["category"])
    elif "genres" in items:
        first = items["genres"].fillna("").astype(str).str.split(",").str[0]
        groups["category"] = _codes(first.str.strip())
    if "subcategory" in items:
        groups["subcategory"] = _codes(items["subcategory"])
    return groups


def _codes(values: pd.Series) -> np.ndarray:
    return pd.factorize(values.fillna("").astype(str), sort=True)[0].astype(np.int64)


def feature_report(items: pd.DataFrame) -> pd.Series:
    """Which features a catalogue supports, and why a missing one is missing.

    Returns:
        A Series indexed by feature name: ``"yes"`` or the reason it is left out
        or replaced.
    """
    groups = item_groups(items)
    report = dict.fromkeys(FEATURES, "yes")
    if "launched" not in items:
        report["item_age_days"] = "no 'launched': from the first interaction"
    if "kind" not in items:
        report["consumable"] = "no 'kind': left out"
    if "category" not in groups:
        for name in ("category_share", "days_since_category"):
            report[name] = "no 'category' or 'genres': left out"
    elif "category" not in items:
        for name in ("category_share", "days_since_category"):
            report[name] = "no 'category': the first of 'genres'"
    if "subcategory" not in groups:
        for name in ("subcategory_share", "days_since_subcategory"):
            report[name] = "no 'subcategory': left out"
    return pd.Series(report, name="available")


# ---------------------------------------------------------------- candidates
def ranking_times(history: Dataset) -> np.ndarray:
    """Each user's ranking time: one second after their last history event.

    Users without history get one second after the last event of anyone.

    Returns:
        int64 array (n_users,) of timestamps (seconds), in user order.
    """
    _require_time(history)
    inter = history.interactions
    last = inter.groupby(USER)[TIMESTAMP].max().reindex(history.user_ids)
    return (last.fillna(inter[TIMESTAMP].max()).to_numpy() + 1).astype(np.int64)


def candidates(retriever: Recommender, rows: np.ndarray, n: int) -> pd.DataFrame:
    """The retriever's top-n unseen items for users at matrix rows ``rows``.

    Args:
        retriever: A fitted Recommender.
        rows: User rows.
        n: Candidates per user (at most the catalogue size).

    Returns:
        Frame ``row``, ``col`` (item column), ``retriever_score``,
        ``retriever_rank`` (1 = best), sorted by user then rank.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = min(n, retriever.train_.n_items)
    items, scores = retriever.top_k_rows(rows, n, exclude_seen=True)
    keep = items >= 0
    ranks = np.broadcast_to(np.arange(1, n + 1), items.shape)
    return pd.DataFrame(
        {
            "row": np.repeat(rows, n).reshape(items.shape)[keep],
            "col": items[keep],
            "retriever_score": scores[keep],
            "retriever_rank": ranks[keep].astype(np.float64),
        }
    )


# ------------------------------------------------------------------ features
def features(pairs: pd.DataFrame, history: Dataset, when: np.ndarray) -> pd.DataFrame:
    """Leak-free features of (user, item) pairs, from ``history`` only.

    Every value uses only ``history``'s events, and the time-windowed ones only
    those strictly before the user's ranking time ``when[row]``:

    * ``item_popularity``: log(1 + distinct history users of the item);
    * ``item_recent``: log(1 + the item's events in the 30 days before ``when``);
    * ``item_trend``: log((1 + events in the last 7 days) / (1 + events in the
      last 30 days / 30 * 7)): > 0 when the item sells faster than its month;
    * ``item_age_days``: days from the item's launch (``launched``; else its
      first history event) to ``when``, negative before the launch;
    * ``user_activity``: log(1 + the user's history events);
    * ``user_item_count``: how often the user bought the item (repeats);
    * ``category_share``: share of the user's events in the item's category,
      in [0, 1]; ``days_since_category``: days since the user's last event in
      it (1000 if never); the same two for the subcategory;
    * ``consumable``: 1 for a consumable item (``kind``), else 0.

    Args:
        pairs: Frame with ``row`` (user row) and ``col`` (item column), plus any
            other columns (kept, e.g. the retriever's score and rank).
        history: The events the features may use.
        when: Ranking time per user row (seconds), e.g. :func:`ranking_times`.

    Returns:
        A new frame: ``pairs``' columns, then the features this catalogue
        supports (:func:`feature_report`). ``pairs`` is not modified.
    """
    _require_time(history)
    out = pairs.copy()
    rows = out["row"].to_numpy(np.int64)
    cols = out["col"].to_numpy(np.int64)
    at = np.asarray(when, dtype=np.int64)[rows]
    inter = history.interactions
    ev_rows = history.user_index(inter[USER].to_numpy())
    ev_cols = history.item_index(inter[ITEM].to_numpy())
    ev_time = inter[TIMESTAMP].to_numpy(np.int64)
    keys = _time_keys(ev_cols, ev_time)

    item_users = np.diff(history.to_csr().tocsc().indptr)
    out["item_popularity"] = np.log1p(item_users[cols])
    recent = _count_between(keys, cols, at - RECENT_DAYS * DAY, at)
    week = _count_between(keys, cols, at - TREND_DAYS * DAY, at)
    out["item_recent"] = np.log1p(recent)
    out["item_trend"] = np.log((1 + week) / (1 + recent * TREND_DAYS / RECENT_DAYS))
    out["item_age_days"] = (at - _item_start(history, ev_cols, ev_time)[cols]) / DAY
    user_events = np.bincount(ev_rows, minlength=history.n_users)
    out["user_activity"] = np.log1p(user_events[rows])
    counts = history.to_csr("count")
    out["user_item_count"] = np.asarray(counts[rows, cols]).ravel()
    for name, codes in item_groups(history.items).items():
        share, since = _group_features(codes, ev_rows, ev_cols, ev_time, history)
        out[f"{name}_share"] = (
            share[rows, codes[cols]] / np.maximum(user_events, 1)[rows]
        )
        last = since[rows, codes[cols]]
        days = np.where(np.isfinite(last), (at - last) / DAY, NEVER_DAYS)
        out[f"days_since_{name}"] = np.minimum(days, NEVER_DAYS)
    if "kind" in history.items:
        consumable = (history.items["kind"] == "consumable").to_numpy()
        out["consumable"] = consumable[cols].astype(np.float64)
    return out


def _time_keys(cols: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Sorted (item, time) keys, so counts per item in a time range are searches."""
    return np.sort(cols.astype(np.float64) * 2.0**40 + times.astype(np.float64))


def _count_between(
    keys: np.ndarray, cols: np.ndarray, start: np.ndarray, stop: np.ndarray
) -> np.ndarray:
    """Events of item ``cols`` with ``start <= time < stop``, per pair."""
    base = cols.astype(np.float64) * 2.0**40
    low = np.searchsorted(keys, base + start, side="left")
    high = np.searchsorted(keys, base + stop, side="left")
    return (high - low).astype(np.float64)


def _item_start(
    history: Dataset, ev_cols: np.ndarray, ev_time: np.ndarray
) -> np.ndarray:
    """Launch time per item: ``launched`` if known, else the first history event."""
    if "launched" in history.items:
        return history.items["launched"].to_numpy(np.int64)
    first = np.full(history.n_items, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, ev_cols, ev_time)
    never = first == np.iinfo(np.int64).max  # no event yet: "launched" at the end
    first[never] = ev_time.max() if ev_time.size else 0
    return first


def _group_features(
    codes: np.ndarray,
    ev_rows: np.ndarray,
    ev_cols: np.ndarray,
    ev_time: np.ndarray,
    history: Dataset,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Events per (user, group) (sparse) and the last event time (dense, -inf)."""
    n_groups = int(codes.max()) + 1 if codes.size else 1
    groups = codes[ev_cols]
    shape = (history.n_users, n_groups)
    counts = sp.csr_matrix((np.ones(ev_rows.size), (ev_rows, groups)), shape=shape)
    last = np.full(shape, -np.inf)
    np.maximum.at(last, (ev_rows, groups), ev_time.astype(np.float64))
    return counts.toarray(), last


def _require_time(ds: Dataset) -> None:
    if TIMESTAMP not in ds.interactions:
        raise ValueError(
            f"multi-stage ranking needs a '{TIMESTAMP}' column (features from the "
            f"past, labels from the next window); {ds.name!r} has "
            f"{list(ds.interactions.columns)}."
        )


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The feature columns of a frame, in :data:`FEATURES` order."""
    return [name for name in FEATURES if name in frame]


# -------------------------------------------------------------------- labels
def training_frame(
    retriever: Recommender,
    train: Dataset,
    n_candidates: int = 100,
    label_fraction: float = 0.2,
    featurize: Callable[..., pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Candidates with leak-free features and labels from the next window.

    ``history, window = split.by_time(train, label_fraction)``; a clone of
    ``retriever`` is fitted on ``history``; each user with window items gets
    its top ``n_candidates``; features come from ``history`` at the user's
    ranking time (:func:`ranking_times`); ``label`` is 1 if the user bought
    the candidate in the window (an item already in their history is never a
    candidate, so a repeat is never a label). The users are those with window
    events, whatever they bought: which rows exist never depends on a label.

    Args:
        retriever: An unfitted (or fitted: it is cloned) Recommender.
        train: The training data (never the test data).
        n_candidates: Candidates per user.
        label_fraction: Share of each user's events in the label window.
        featurize: ``featurize(pairs, history, when)``; default :func:`features`.

    Returns:
        Frame ``row``, ``col``, the features, ``label`` (0/1); ``attrs``
        holds ``n_window_users`` and ``recall`` (share of window items that
        are candidates: the ceiling of this training frame).
    """
    _require_time(train)
    featurize = features if featurize is None else featurize
    history, window = split.by_time(
        train, test_fraction=label_fraction, drop_cold=False
    )
    model = clone(retriever).fit(history)
    relevant = _relevant(history, window)
    # users who come back in the window (whatever they buy: the set of users
    # must not depend on the labels), with a history to retrieve from
    back = np.zeros(train.n_users, dtype=bool)
    back[window.user_index(window.interactions[USER].unique())] = True
    rows = np.flatnonzero(back & (np.diff(history.to_csr().indptr) > 0))
    pairs = candidates(model, rows, n_candidates)
    frame = featurize(pairs, history, ranking_times(history))
    label = np.asarray(relevant[frame["row"].to_numpy(), frame["col"].to_numpy()])
    frame[LABEL] = label.ravel().astype(np.int64)
    frame.attrs["n_window_users"] = int(rows.size)
    frame.attrs["recall"] = float(frame[LABEL].sum() / max(relevant.nnz, 1))
    return frame


def _relevant(history: Dataset, window: Dataset) -> sp.csr_matrix:
    """Window items not already in the history (what a candidate can hit)."""
    relevant = window.to_csr()
    relevant = relevant - relevant.multiply(history.to_csr())
    relevant.eliminate_zeros()
    return relevant.tocsr()


def leak_check(
    build: Callable[[Dataset], pd.DataFrame],
    train: Dataset,
    label_fraction: float = 0.2,
    seed: int = 0,
) -> pd.Series:
    """Prove that a frame builder's features ignore the label window.

    Builds the frame twice: on ``train`` and on a copy whose label window
    (``split.by_time(train, label_fraction)``'s second part) has its items
    shuffled among its rows and its times shifted one day later. The history
    is identical, so leak-free features are identical; the labels must
    change (or the check proves nothing).

    Args:
        build: ``build(train) -> frame`` with ``row``, ``col``, features and
            ``label``, e.g. ``lambda d: training_frame(ItemKNN(), d)``.
        train: Training data with timestamps.
        label_fraction: The builder's label window share.
        seed: Seed of the shuffle.

    Returns:
        Per feature, the share of rows whose value changed (all 0 when leak-free).

    Raises:
        AssertionError: A feature changed (a leak), or the labels did not.
    """
    _require_time(train)
    history, window = split.by_time(train, label_fraction, drop_cold=False)
    rng = np.random.default_rng(seed)
    moved = window.interactions.copy()
    moved[ITEM] = rng.permutation(moved[ITEM].to_numpy())
    moved[TIMESTAMP] = moved[TIMESTAMP] + DAY
    perturbed = train.with_interactions(
        pd.concat([history.interactions, moved], ignore_index=True), train.name, {}
    )
    first, second = build(train), build(perturbed)
    keys = ["row", "col"]
    merged = first.merge(second, on=keys, suffixes=("", "_perturbed"))
    if len(merged) != len(first) or len(merged) != len(second):
        raise AssertionError(
            "the candidates changed when only the label window changed: the "
            "retriever saw the label window."
        )
    names = [c for c in first.columns if c not in (*keys, LABEL)]
    changed = pd.Series(
        {c: float((merged[c] != merged[f"{c}_perturbed"]).mean()) for c in names},
        name="changed",
        dtype=np.float64,
    )
    leaking = changed[changed > 0]
    if not leaking.empty:
        raise AssertionError(
            f"feature(s) {list(leaking.index)} changed when only the label window "
            "changed: they read data from the label window (a leak)."
        )
    if (merged[LABEL] == merged[f"{LABEL}_perturbed"]).all():
        raise AssertionError("the labels did not change: the check proves nothing.")
    return changed


# ------------------------------------------------------------------- rankers
def _groups(rows: np.ndarray) -> np.ndarray:
    """Sizes of consecutive runs of equal user rows (LightGBM's query groups)."""
    change = np.flatnonzero(np.diff(rows)) + 1
    return np.diff(np.concatenate([[0], change, [rows.size]]))


class LogisticRanker(BaseEstimator):
    r"""Logistic regression on standardised features: the linear baseline.

    Model: ``P(label = 1 | x) = sigmoid(w^T z + b)`` with ``z`` the features
    standardised on the training frame; loss: the mean log-loss plus
    ``||w||^2 / (2 C n)``. It scores each candidate alone (pointwise) and
    can only add up its features' effects: "new AND in the user's favourite
    category" is not more than the sum of the two.

    ``C`` hardly matters on ``shop`` (``benchmarks/tune_ranker.py``:
    nDCG@10 0.166-0.167 on validation for C from 0.01 to 10).

    Args:
        C: Inverse regularisation strength, > 0.
    """

    def __init__(self, C: float = 1.0) -> None:  # noqa: N803  (scikit-learn's name)
        self.C = C

    def fit(self, X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> LogisticRanker:  # noqa: N803
        """Fit on features ``X``, 0/1 labels ``y``; ``rows`` (users) is unused."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        check_number("LogisticRanker", "C", self.C, strict=True)
        self.model_ = make_pipeline(
            StandardScaler(), LogisticRegression(C=self.C, max_iter=1000)
        ).fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        """Log-odds of a purchase per candidate (higher ranks first)."""
        return self.model_.decision_function(X)


class LambdaMART(BaseEstimator):
    r"""Gradient-boosted trees trained for nDCG: LightGBM's ``lambdarank``.

    LambdaMART (Burges 2010) fits regression trees to the *lambdas* of each
    user's candidate list: for a pair (i relevant, j not) the gradient of the
    pairwise logistic loss ``log(1 + exp(-(s_i - s_j)))`` scaled by
    ``|Delta nDCG_ij|``, the change of nDCG if i and j swapped places. So it
    learns the order of one user's candidates, not absolute probabilities,
    and its trees find interactions of features (new AND in the favourite
    category) that a linear model cannot. Deterministic: one thread,
    ``deterministic=True``, a fixed seed (bit-identical across fits).

    The defaults (200 trees of 3 leaves) were the best of a grid on the
    validation split of ``shop`` (``benchmarks/tune_ranker.py``: nDCG@10
    0.170 inside ``TwoStage("ALS")``; 50 to 200 trees of 3 or 7 leaves all
    reach 0.166-0.170, while 200 trees of 15 leaves overfit, 0.150).

    Args:
        n_estimators: Boosting rounds, >= 1.
        learning_rate: Shrinkage per tree, > 0.
        num_leaves: Leaves per tree, >= 2.
        min_child_samples: Fewest candidates per leaf, >= 1.
        random_state: LightGBM's ``seed``.
    """

    def __init__(
        self,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 3,
        min_child_samples: int = 20,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> LambdaMART:  # noqa: N803
        """Fit on features, 0/1 labels and each row's user (sorted by user)."""
        check_int("LambdaMART", "n_estimators", self.n_estimators)
        check_number("LambdaMART", "learning_rate", self.learning_rate, strict=True)
        check_int("LambdaMART", "num_leaves", self.num_leaves, minimum=2)
        check_int("LambdaMART", "min_child_samples", self.min_child_samples)
        check_int("LambdaMART", "random_state", self.random_state, minimum=0)
        from lightgbm import LGBMRanker

        self.model_ = LGBMRanker(
            objective="lambdarank",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            deterministic=True,
            num_threads=1,
            seed=self.random_state,
            verbose=-1,
        ).fit(np.asarray(X), np.asarray(y), group=_groups(np.asarray(rows)))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        """Ranking score per candidate (only the order within a user matters)."""
        return self.model_.predict(np.asarray(X))


class DeepCross(BaseEstimator):
    r"""A deep & cross network (DCN-v2, Wang et al. 2021) in Keras 3 + keras-rs.

    The features are standardised and clipped to [-3, 3] (``x_0``), then go
    through ``cross_layers`` cross layers,
    ``x_{l+1} = x_0 * (U_l V_l x_l + b_l) + x_l`` (``*`` element-wise, ``U V``
    a rank-``projection_dim`` matrix: ``keras_rs.layers.FeatureCross``),
    which build explicit feature products (age x category share) of growing
    degree; a layer normalisation, a ReLU layer of ``hidden`` units and a
    sigmoid output follow, trained pointwise with binary cross-entropy
    (Adam). Without the clipping and the normalisation the products of a few
    extreme values saturate the sigmoid and training stalls. TensorFlow and
    keras-rs are imported at ``fit``.

    Defaults from ``benchmarks/tune_ranker.py`` on the validation split of
    ``shop``: 5 epochs reach nDCG@10 0.160 inside ``TwoStage("ALS")``; 10
    epochs 0.162 (within noise) at twice the time; 2 epochs 0.147.

    Args:
        cross_layers: Number of cross layers, >= 1.
        projection_dim: Rank of each cross layer's weight matrix, >= 1.
        hidden: Width of the deep layer, >= 1.
        epochs: Passes over the training frame, >= 1.
        batch_size: Candidates per gradient step, >= 1.
        learning_rate: Adam's step size, > 0.
        random_state: Seed of ``keras.utils.set_random_seed``.
    """

    def __init__(
        self,
        cross_layers: int = 2,
        projection_dim: int = 8,
        hidden: int = 32,
        epochs: int = 5,
        batch_size: int = 512,
        learning_rate: float = 0.003,
        random_state: int = 0,
    ) -> None:
        self.cross_layers = cross_layers
        self.projection_dim = projection_dim
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> DeepCross:  # noqa: N803
        """Fit on features and 0/1 labels; ``rows`` is unused (pointwise)."""
        for name in (
            "cross_layers",
            "projection_dim",
            "hidden",
            "epochs",
            "batch_size",
        ):
            check_int("DeepCross", name, getattr(self, name))
        check_number("DeepCross", "learning_rate", self.learning_rate, strict=True)
        check_int("DeepCross", "random_state", self.random_state, minimum=0)
        quiet = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
        for name, value in quiet.items():
            os.environ.setdefault(name, value)
        import keras
        import keras_rs

        x = np.asarray(X, dtype=np.float32)
        self.mean_, self.scale_ = x.mean(axis=0), x.std(axis=0) + 1e-6
        keras.utils.set_random_seed(self.random_state)
        x0 = keras.Input(shape=(x.shape[1],))
        crossed = x0
        for _ in range(self.cross_layers):
            cross = keras_rs.layers.FeatureCross(projection_dim=self.projection_dim)
            crossed = cross(x0, crossed)
        crossed = keras.layers.LayerNormalization()(crossed)
        deep = keras.layers.Dense(self.hidden, activation="relu")(crossed)
        output = keras.layers.Dense(1, activation="sigmoid")(deep)
        model = keras.Model(x0, output)
        model.compile(
            optimizer=keras.optimizers.Adam(self.learning_rate),
            loss="binary_crossentropy",
        )
        model.fit(
            self._standardise(x),
            np.asarray(y, dtype=np.float32),
            epochs=self.epochs,
            batch_size=self.batch_size,
            shuffle=True,
            verbose=0,
        )
        self.model_ = model
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        """Purchase probability per candidate, in (0, 1)."""
        x = self._standardise(np.asarray(X, dtype=np.float32))
        return self.model_.predict(x, batch_size=4096, verbose=0).ravel()

    def _standardise(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.mean_) / self.scale_, -3.0, 3.0)


RANKERS: dict[str, type[BaseEstimator]] = {
    "logistic": LogisticRanker,
    "lambdamart": LambdaMART,
    "deepcross": DeepCross,
}


def _make_ranker(ranker: str | BaseEstimator, random_state: int) -> BaseEstimator:
    if isinstance(ranker, str):
        check_choice("TwoStage", "ranker", ranker, tuple(RANKERS))
        cls = RANKERS[ranker]
        if "random_state" in cls().get_params():
            return cls(random_state=random_state)
        return cls()
    if not (hasattr(ranker, "fit") and hasattr(ranker, "predict")):
        raise TypeError(
            f"ranker must be one of {tuple(RANKERS)} or an object with fit(X, y, "
            f"rows) and predict(X), got {type(ranker).__name__}."
        )
    return clone(ranker)


def _make_retriever(retriever: str | Recommender, random_state: int) -> Recommender:
    if isinstance(retriever, str):
        from recsys_helpers import models

        if retriever not in models.__all__ or retriever == "Recommender":
            raise ValueError(
                f"TwoStage: retriever must be a model name of recsys_helpers.models "
                f"or a Recommender, got {retriever!r}."
            )
        cls = getattr(models, retriever)
        if "random_state" in cls().get_params():
            return cls(random_state=random_state)
        return cls()
    if not isinstance(retriever, Recommender):
        raise TypeError(
            f"retriever must be a Recommender or a model name, got "
            f"{type(retriever).__name__}."
        )
    return clone(retriever)


# ----------------------------------------------------------------- re-ranking
def business_rules(
    frame: pd.DataFrame, history: Dataset, when: np.ndarray
) -> np.ndarray:
    """Hard rules: False where a candidate may never be shown.

    * never a durable the user already bought (``kind != "consumable"`` and
      bought in ``history``): a second TV is not what they need;
    * never an item before its launch (``launched > when``).

    Items without ``kind`` or ``launched`` columns pass the matching rule.

    Args:
        frame: Candidates with ``row`` and ``col``.
        history: The user's past (what they own).
        when: Ranking time per user row.

    Returns:
        Boolean array (len(frame),): True where the candidate is allowed.
    """
    rows = frame["row"].to_numpy(np.int64)
    cols = frame["col"].to_numpy(np.int64)
    allowed = np.ones(len(frame), dtype=bool)
    items = history.items
    if "kind" in items:
        durable = (items["kind"] != "consumable").to_numpy()[cols]
        owned = np.asarray(history.to_csr()[rows, cols]).ravel() > 0
        allowed &= ~(durable & owned)
    if "launched" in items:
        launched = items["launched"].to_numpy(np.int64)[cols]
        allowed &= launched <= np.asarray(when, dtype=np.int64)[rows]
    return allowed


def freshness_boost(
    scores: np.ndarray, age_days: np.ndarray, weight: float, half_life: float = 30.0
) -> np.ndarray:
    """Scores plus a bonus for new items: ``s + weight * 2^(-age / half_life)``.

    The bonus is ``weight`` at launch, half of it after ``half_life`` days;
    items not yet launched (age < 0) get none (the business rules remove them).

    Args:
        scores: Relevance scores (any scale: choose ``weight`` on that scale).
        age_days: Days since each item's launch.
        weight: Bonus at launch, >= 0.
        half_life: Days for the bonus to halve, > 0.
    """
    check_number("freshness_boost", "weight", weight)
    check_number("freshness_boost", "half_life", half_life, strict=True)
    age = np.asarray(age_days, dtype=np.float64)
    bonus = np.where(age >= 0, 2.0 ** (-np.maximum(age, 0) / half_life), 0.0)
    return np.asarray(scores, dtype=np.float64) + weight * bonus


def mmr(
    relevance: np.ndarray, similarity: np.ndarray, k: int, diversity: float
) -> np.ndarray:
    r"""Maximal marginal relevance (Carbonell and Goldstein 1998): a diverse top-k.

    Greedily picks, among the items not yet chosen (set S),

    .. math::

        \arg\max_i \; (1 - \lambda)\, r_i - \lambda \max_{j \in S} \mathrm{sim}(i, j)

    with ``lambda = diversity`` in [0, 1]: 0 keeps the relevance order, 1
    picks the item least like those already chosen. Relevance is min-max
    scaled to [0, 1] first, so lambda means the same on any score scale.

    Args:
        relevance: Scores of one user's candidates (n,).
        similarity: (n, n) item-item similarities in [0, 1].
        k: Items to pick, 1 <= k <= n.
        diversity: lambda in [0, 1].

    Returns:
        Positions (into ``relevance``) of the k picks, in order.
    """
    check_number("mmr", "diversity", diversity)
    if diversity > 1:
        raise ValueError(f"mmr: diversity must be in [0, 1], got {diversity!r}")
    rel = np.asarray(relevance, dtype=np.float64)
    if not 1 <= k <= rel.size:
        raise ValueError(f"mmr: k must be between 1 and {rel.size}, got {k!r}")
    span = rel.max() - rel.min()
    rel = (rel - rel.min()) / span if span > 0 else np.zeros_like(rel)
    sim = np.asarray(similarity, dtype=np.float64)
    chosen: list[int] = []
    closest = np.zeros(rel.size)  # max similarity to the chosen items
    free = np.ones(rel.size, dtype=bool)
    for _ in range(k):
        value = np.where(free, (1 - diversity) * rel - diversity * closest, -np.inf)
        pick = int(np.argmax(value))  # ties: the earlier (more relevant) item
        chosen.append(pick)
        free[pick] = False
        closest = np.maximum(closest, sim[pick])
    return np.array(chosen, dtype=np.int64)


def intra_list_diversity(lists: np.ndarray, codes: np.ndarray) -> float:
    r"""Mean share of item pairs in a list that belong to different groups.

    .. math::

        \mathrm{ILD} = \frac{1}{|U|} \sum_u \frac{2}{k(k-1)}
        \sum_{a<b} 1[g(i_a) \ne g(i_b)]

    in [0, 1]: 0 when each list holds one group (e.g. category), 1 when all
    its items differ. Padding (-1) is ignored; lists shorter than 2 count 0.

    Args:
        lists: (n_users, k) item indices (-1 = padding).
        codes: Group code per item.
    """
    lists = np.asarray(lists)
    values = []
    for row in lists:
        groups = np.asarray(codes)[row[row >= 0]]
        n = groups.size
        if n < 2:
            values.append(0.0)
            continue
        same = (groups[:, None] == groups[None, :]).sum() - n
        values.append(1.0 - same / (n * (n - 1)))
    return float(np.mean(values)) if values else 0.0


# ------------------------------------------------------------------ TwoStage
class TwoStage(Recommender):
    r"""Retrieve with a course model, rank the candidates with a learned ranker.

    Fit (``fit(train)``):

    1. ``history, window = split.by_time(train, label_fraction)``; the
       retriever (a clone) is fitted on ``history``, each user with window
       items gets ``candidates`` items with leak-free features
       (:func:`features`) and labels from the window (:func:`training_frame`);
    2. the ranker is fitted on that frame;
    3. the retriever is refitted on all of ``train``, and the features for
       ranking are computed from all of ``train`` at each user's ranking
       time (one second after their last training event).

    Score: the candidates are ordered by the ranker's score (ties by the
    retriever's rank); hard business rules (``rules=True``: no durable
    already owned, nothing before its launch, :func:`business_rules`) push
    an item out (score ``-inf``). Scores are rank-preserving numbers, not
    probabilities: the k-th of a user's ranked candidates scores
    ``2 n_items - k``; items outside the candidates follow in the
    retriever's order (scores below ``n_items``), so every item is ranked.
    The system can never find more of a user's items in its top-N than the
    retriever's recall@N (the ceiling).

    Defaults, from the validation split of ``shop`` (``split.by_time`` of the
    course's train part; ``benchmarks/tune_ranker.py``): ALS retrieves (its
    recall@100 is 0.68 there, item-kNN's 0.57: lesson 07, Step 3); LambdaMART
    ranks (nDCG@10 0.170, logistic regression 0.167, the deep & cross network
    0.160, ALS alone 0.136); 100 candidates (with the logistic ranker 25, 50,
    100 and 200 candidates give 0.154, 0.163, 0.167 and 0.166).

    Args:
        retriever: A model name of :mod:`recsys_helpers.models` (built with
            its defaults) or a Recommender (cloned). Default ``"ALS"``.
        ranker: ``"logistic"``, ``"lambdamart"`` or ``"deepcross"``
            (:data:`RANKERS`), or an object with ``fit(X, y, rows)`` and
            ``predict(X)`` (cloned).
        candidates: Items retrieved per user, >= 1 (capped at the catalogue).
        label_fraction: Share of each user's training events in the label
            window, in (0, 1).
        rules: Apply :func:`business_rules` to the final ranking.
        random_state: Seed of the retriever and the ranker (when built by
            name).

    Attributes:
        retriever_: The retriever fitted on all of train.
        ranker_: The fitted ranker.
        features_: Feature names, in the ranker's column order.
        training_frame_: The labelled candidates the ranker learned from.
        when_: Ranking time per user (seconds).
    """

    def __init__(
        self,
        retriever: str | Recommender = "ALS",
        ranker: str | BaseEstimator = "lambdamart",
        candidates: int = 100,
        label_fraction: float = 0.2,
        rules: bool = True,
        random_state: int = 0,
    ) -> None:
        self.retriever = retriever
        self.ranker = ranker
        self.candidates = candidates
        self.label_fraction = label_fraction
        self.rules = rules
        self.random_state = random_state

    def _fit(self, train: Dataset) -> None:
        check_int("TwoStage", "candidates", self.candidates)
        check_number("TwoStage", "label_fraction", self.label_fraction, strict=True)
        if self.label_fraction >= 1:
            raise ValueError(
                "TwoStage: label_fraction must be in (0, 1), got "
                f"{self.label_fraction!r}"
            )
        check_choice("TwoStage", "rules", self.rules, (True, False))
        check_int("TwoStage", "random_state", self.random_state, minimum=0)
        _require_time(train)
        retriever = _make_retriever(self.retriever, self.random_state)
        ranker = _make_ranker(self.ranker, self.random_state)
        frame = training_frame(retriever, train, self.candidates, self.label_fraction)
        if frame[LABEL].nunique() < 2:
            raise ValueError(
                "TwoStage: the candidates hold no (or only) label-window items, "
                "so there is nothing to learn; use more candidates or more data."
            )
        names = feature_columns(frame)
        ranker.fit(
            frame[names].to_numpy(np.float64),
            frame[LABEL].to_numpy(),
            frame["row"].to_numpy(),
        )
        self.training_frame_ = frame
        self.features_ = names
        self.ranker_ = ranker
        self.retriever_ = retriever.fit(train)
        self.when_ = ranking_times(train)

    def rank_candidates(self, rows: np.ndarray) -> pd.DataFrame:
        """The candidates of users at ``rows`` with features and scores.

        Returns:
            Frame ``row``, ``col``, features, ``ranker_score`` and ``allowed``
            (the business rules), sorted by user then ranker score (ties by
            retriever rank).
        """
        self._check_fitted()
        pairs = candidates(self.retriever_, rows, self.candidates)
        frame = features(pairs, self.train_, self.when_)
        frame["ranker_score"] = self.ranker_.predict(
            frame[self.features_].to_numpy(np.float64)
        )
        frame["allowed"] = (
            business_rules(frame, self.train_, self.when_)
            if self.rules
            else np.ones(len(frame), dtype=bool)
        )
        order = np.lexsort(
            (
                frame["retriever_rank"].to_numpy(),
                -frame["ranker_score"].to_numpy(),
                frame["row"].to_numpy(),
            )
        )
        return frame.iloc[order].reset_index(drop=True)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        n_items = self.train_.n_items
        # everything in the retriever's order first, below every candidate
        base = self.retriever_.score_rows(rows)
        order = np.argsort(-base, axis=1, kind="stable")
        scores = np.empty((rows.size, n_items))
        np.put_along_axis(
            scores, order, n_items - 1 - np.arange(n_items)[None, :] * 1.0, axis=1
        )
        frame = self.rank_candidates(rows)
        where = pd.Index(rows).get_indexer(frame["row"].to_numpy())
        position = frame.groupby("row", sort=False).cumcount().to_numpy()
        scores[where, frame["col"].to_numpy()] = 2.0 * n_items - position
        if self.rules:
            scores[~_allowed_items(self.train_, rows, self.when_)] = -np.inf
        return scores


def _allowed_items(history: Dataset, rows: np.ndarray, when: np.ndarray) -> np.ndarray:
    """(len(rows), n_items) mask of :func:`business_rules` over the catalogue."""
    allowed = np.ones((rows.size, history.n_items), dtype=bool)
    items = history.items
    if "kind" in items:
        durable = (items["kind"] != "consumable").to_numpy()
        owned = history.to_csr()[rows].toarray() > 0
        allowed &= ~(owned & durable[None, :])
    if "launched" in items:
        launched = items["launched"].to_numpy(np.int64)
        allowed &= launched[None, :] <= np.asarray(when, dtype=np.int64)[rows, None]
    return allowed


def rerank(
    frame: pd.DataFrame,
    rows: np.ndarray,
    k: int,
    codes: np.ndarray,
    diversity: float = 0.0,
    freshness: float = 0.0,
    half_life: float = 30.0,
) -> np.ndarray:
    """Re-rank each user's ranked candidates: rules, freshness, then MMR.

    Per user: drop the candidates the rules forbid (``allowed``), add
    :func:`freshness_boost` (``freshness`` on the min-max scaled ranker
    score, by ``item_age_days``), then pick ``k`` with :func:`mmr`, two items
    being similar (1) when they share a group code (e.g. the category).

    Args:
        frame: :meth:`TwoStage.rank_candidates`' output.
        rows: The users (matrix rows) to return lists for, in this order.
        k: List length.
        codes: Group code per item (:func:`item_groups`).
        diversity: MMR's lambda in [0, 1].
        freshness: Freshness bonus at launch, >= 0 (relevance is in [0, 1]).
        half_life: Days for the freshness bonus to halve.

    Returns:
        (len(rows), k) item columns, -1 where a user has fewer allowed items.
    """
    check_int("rerank", "k", k)
    lists = np.full((len(rows), k), -1, dtype=np.int64)
    where = {row: i for i, row in enumerate(np.asarray(rows).tolist())}
    kept = frame[frame["allowed"]] if "allowed" in frame else frame
    for row, group in kept.groupby("row", sort=False):
        if row not in where:
            continue
        score = group["ranker_score"].to_numpy(np.float64)
        span = score.max() - score.min()
        score = (score - score.min()) / span if span > 0 else np.zeros_like(score)
        if freshness:
            score = freshness_boost(
                score, group["item_age_days"].to_numpy(), freshness, half_life
            )
        cols = group["col"].to_numpy()
        similar = (codes[cols][:, None] == codes[cols][None, :]).astype(np.float64)
        picks = mmr(score, similar, min(k, cols.size), diversity)
        lists[where[row], : picks.size] = cols[picks]
    return lists


def list_metrics(
    lists: np.ndarray,
    rows: np.ndarray,
    train: Dataset,
    test: Dataset,
    codes: np.ndarray,
) -> dict[str, float]:
    """nDCG@k, intra-list diversity and catalogue coverage of given top-k lists.

    The course's protocol (``evaluation.relevant_matrix``: test items not
    bought in train are relevant) applied to lists made outside a model,
    e.g. by :func:`rerank`.

    Args:
        lists: (len(rows), k) item columns (-1 = padding).
        rows: The users' matrix rows.
        train: Training data.
        test: Test data.
        codes: Group code per item, for :func:`intra_list_diversity`.

    Returns:
        ``{"ndcg", "diversity", "coverage"}``: means over the users.
    """
    from recsys_helpers import evaluation, metrics

    relevant = evaluation.relevant_matrix(train, test)[np.asarray(rows)]
    dense = relevant.toarray() > 0
    hits = dense[np.arange(len(rows))[:, None], np.maximum(lists, 0)] & (lists >= 0)
    n_relevant = np.diff(relevant.indptr)
    return {
        "ndcg": float(metrics.ndcg_at_k(hits, n_relevant).mean()),
        "diversity": intra_list_diversity(lists, codes),
        "coverage": metrics.catalog_coverage(lists, train.n_items),
    }
