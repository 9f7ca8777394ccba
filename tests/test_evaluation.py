"""Unit tests of recsys_helpers.evaluation with hand-computed metric values."""

import math
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from recsys_helpers import data, evaluation, metrics, split
from recsys_helpers.data import Dataset
from recsys_helpers.models import Popularity
from recsys_helpers.models.base import Recommender, _top_k

K = 2


@pytest.fixture(scope="module")
def tiny():
    """5 items, 4 users; user 4 has no training history (cold).

    train: u1 {1, 2}, u2 {1, 3}, u3 {1, 2, 4}     -> counts [3, 2, 1, 1, 0]
    test:  u1 {3, 5}, u2 {2},    u3 {5}, u4 {1}
    """
    train_rows = [(1, 1), (1, 2), (2, 1), (2, 3), (3, 1), (3, 2), (3, 4)]
    test_rows = [(1, 3), (1, 5), (2, 2), (3, 5), (4, 1)]
    frame = pd.DataFrame(train_rows + test_rows, columns=["user_id", "item_id"])
    ds = Dataset.from_frames(
        frame,
        items=pd.DataFrame({"item_id": [1, 2, 3, 4, 5]}),
        users=pd.DataFrame({"user_id": [1, 2, 3, 4]}),
        name="tiny",
    )
    n_train = len(train_rows)
    train = ds.with_interactions(ds.interactions.iloc[:n_train], "tiny/train", {})
    test = ds.with_interactions(ds.interactions.iloc[n_train:], "tiny/test", {})
    return train, test


# Popularity top-2 with seen items excluded, ties to the first item:
#   u1 unseen 3(1) 4(1) 5(0) -> [3, 4], relevant {3, 5}: hits [1, 0]
#   u2 unseen 2(2) 4(1) 5(0) -> [2, 4], relevant {2}:    hits [1, 0]
#   u3 unseen 3(1) 5(0)      -> [3, 5], relevant {5}:    hits [0, 1]
D2 = 1 / math.log2(3)  # discount of rank 2
EXPECTED = {
    "precision": [0.5, 0.5, 0.5],
    "recall": [0.5, 1.0, 1.0],
    "ndcg": [1 / (1 + D2), 1.0, D2],
    "map": [0.5, 1.0, 0.5],
    "mrr": [1.0, 1.0, 0.5],
    "hit_rate": [1.0, 1.0, 1.0],
}


class SeenFirst(Recommender):
    """Scores training items highest (+inf), then items in reverse order."""

    def _fit(self, train):
        self.n_items_ = train.n_items

    def _score(self, rows):
        scores = np.tile(np.arange(1.0, self.n_items_ + 1), (rows.size, 1))
        seen = self.user_items_[rows].toarray() > 0
        scores[seen] = np.inf
        return scores


class StateView(Recommender):
    """Returns views of its learned score table, to catch writes into it."""

    serves_cold_users = True

    def _fit(self, train):
        self.table_ = np.tile(np.arange(train.n_items, dtype=float), (train.n_users, 1))

    def _score(self, rows):
        return self.table_[rows.min() : rows.max() + 1][rows - rows.min()]


class ReadOnly(Recommender):
    """Returns a read-only broadcast view (np.broadcast_to)."""

    serves_cold_users = True

    def _fit(self, train):
        self.counts_ = self.item_counts_.astype(float)

    def _score(self, rows):
        return np.broadcast_to(self.counts_, (rows.size, self.counts_.size))


# --------------------------------------------------------------- by hand
def test_per_user_metrics_by_hand(tiny):
    train, test = tiny
    model = Popularity().fit(train)
    frame, top = evaluation.per_user_metrics(model, train, test, k=K)
    assert frame["user_id"].tolist() == [1, 2, 3]  # user 4 is cold
    np.testing.assert_array_equal(top, [[2, 3], [1, 3], [2, 4]])  # indices
    for name, values in EXPECTED.items():
        np.testing.assert_allclose(frame[name], values, err_msg=name)


def test_evaluate_by_hand(tiny):
    train, test = tiny
    result = evaluation.evaluate(Popularity(), train, test, k=K)
    assert result.index.tolist() == ["Popularity"]
    assert result.index.name == "model"
    row = result.iloc[0]
    assert row["users"] == 3
    assert row["users_without_targets"] == 0
    for name, values in EXPECTED.items():
        assert row[f"{name}@{K}"] == pytest.approx(np.mean(values)), name
        assert row[f"{name}@{K}_low"] <= row[f"{name}@{K}"] + 1e-12
        assert row[f"{name}@{K}"] <= row[f"{name}@{K}_high"] + 1e-12
    assert row["ndcg@2"] == pytest.approx((1 / (1 + D2) + 1 + D2) / 3)
    # recommended items {2, 3, 4, 5} of 5
    assert row["coverage@2"] == pytest.approx(4 / 5)
    # novelty counts every user of the id space (4, cold user 4 included):
    # p_i = (count + 1) / (4 + 1) = [.8, .6, .4, .4, .2]; lists [3,4] [2,4] [3,5]
    p = {2: 0.6, 3: 0.4, 4: 0.4, 5: 0.2}
    bits = [-math.log2(p[i]) for i in (3, 4, 2, 4, 3, 5)]
    assert row["novelty@2"] == pytest.approx(np.mean(bits))
    assert row["fit_s"] >= 0 and row["fit_mb"] >= 0 and row["recommend_s"] >= 0


def test_evaluate_columns(tiny):
    train, test = tiny
    result = evaluation.evaluate(Popularity(), train, test, k=K, name="Pop")
    expected = ["users", "users_without_targets"]
    for name in metrics.RANKING_METRICS:
        expected += [f"{name}@2", f"{name}@2_low", f"{name}@2_high"]
    expected += ["coverage@2", "novelty@2", *evaluation.COST_COLUMNS]
    assert list(result.columns) == expected
    assert result.index.tolist() == ["Pop"]


def test_evaluate_without_fit_uses_the_fitted_model(tiny):
    train, test = tiny
    model = Popularity().fit(train)
    result = evaluation.evaluate(model, train, test, k=K, fit=False)
    assert result.loc["Popularity", "fit_s"] == 0.0
    assert result.loc["Popularity", "fit_mb"] == 0.0
    assert result.loc["Popularity", "hit_rate@2"] == 1.0


def test_seen_items_are_excluded(tiny):
    train, test = tiny
    model = SeenFirst().fit(train)
    # without exclusion the +inf seen items come first
    items, _ = model.top_k_rows(np.array([0]), 2, exclude_seen=False)
    np.testing.assert_array_equal(items, [[0, 1]])
    frame, top = evaluation.per_user_metrics(model, train, test, k=K)
    seen = train.to_csr().toarray() > 0
    for row, user_top in zip(train.user_index(frame.user_id), top, strict=True):
        assert not seen[row, user_top[user_top >= 0]].any()
    # unseen in reverse order: u1 [5, 4], u2 [5, 4], u3 [5, 3]
    np.testing.assert_array_equal(top, [[4, 3], [4, 3], [4, 2]])
    np.testing.assert_allclose(frame["hit_rate"], [1.0, 0.0, 1.0])


def test_scores_of_the_model_are_not_overwritten(tiny):
    train, test = tiny
    model = StateView().fit(train)
    table = model.table_.copy()
    evaluation.per_user_metrics(model, train, test, k=K)
    np.testing.assert_array_equal(model.table_, table)
    # a read-only score array is fine too
    result = evaluation.evaluate(ReadOnly(), train, test, k=K)
    popular = evaluation.evaluate(Popularity(), train, test, k=K)
    assert result["ndcg@2"].iloc[0] == pytest.approx(popular["ndcg@2"].iloc[0])


# ---------------------------------------------------------- chunking, users
@pytest.fixture(scope="module")
def shop_split():
    return split.by_time(data.load("shop"), 0.2)


def test_chunk_size_does_not_change_results(shop_split):
    train, test = shop_split
    model = Popularity().fit(train)
    one, top_one = evaluation.per_user_metrics(model, train, test, k=10, chunk_size=1)
    big, top_big = evaluation.per_user_metrics(model, train, test, k=10, chunk_size=512)
    pd.testing.assert_frame_equal(one, big)
    np.testing.assert_array_equal(top_one, top_big)
    seven, _ = evaluation.per_user_metrics(model, train, test, k=10, chunk_size=7)
    pd.testing.assert_frame_equal(seven, big)


def test_chunk_size_must_be_positive(tiny):
    train, test = tiny
    model = Popularity().fit(train)
    with pytest.raises(ValueError, match="chunk_size"):
        evaluation.per_user_metrics(model, train, test, k=K, chunk_size=0)


def test_test_user_rows(tiny):
    train, test = tiny
    np.testing.assert_array_equal(evaluation.test_user_rows(train, test), [0, 1, 2])
    np.testing.assert_array_equal(evaluation.test_user_rows(train, test, "cold"), [3])
    np.testing.assert_array_equal(
        evaluation.test_user_rows(train, test, "all"), [0, 1, 2, 3]
    )
    with pytest.raises(ValueError, match="users must be"):
        evaluation.test_user_rows(train, test, "new")


def test_cold_users_with_popularity(tiny):
    train, test = tiny
    result = evaluation.evaluate(Popularity(), train, test, k=K, users="cold")
    # user 4 gets [1, 2]; relevant {1}: every metric is 1 except precision 0.5
    assert result.loc["Popularity", "users"] == 1
    assert result.loc["Popularity", "ndcg@2"] == pytest.approx(1.0)
    assert result.loc["Popularity", "precision@2"] == pytest.approx(0.5)
    assert result.loc["Popularity", "coverage@2"] == pytest.approx(2 / 5)
    everyone = evaluation.evaluate(Popularity(), train, test, k=K, users="all")
    assert everyone.loc["Popularity", "users"] == 4


def test_cold_users_with_a_model_that_cannot_serve_them(tiny):
    train, test = tiny
    with pytest.raises(ValueError, match=r"user\(s\) \[4\] have no training"):
        evaluation.evaluate(SeenFirst(), train, test, k=K, users="cold")


def test_no_users_of_the_kind_raises(shop_split):
    train, test = shop_split  # by_time leaves no cold test user
    with pytest.raises(ValueError, match="no cold test users"):
        evaluation.evaluate(Popularity(), train, test, users="cold")


def test_train_and_test_from_different_datasets_raise(tiny):
    train, _ = tiny
    toy = data.load("toy")
    with pytest.raises(ValueError, match="share one id space"):
        evaluation.evaluate(Popularity(), train, toy, k=K)
    # same items, other users
    other = Dataset.from_frames(
        pd.DataFrame({"user_id": [9], "item_id": [1]}), items=train.items
    )
    with pytest.raises(ValueError, match="share one id space"):
        evaluation.evaluate(Popularity(), train, other, k=K)


@pytest.mark.parametrize("k", [0, 6])
def test_k_outside_catalogue_raises(tiny, k):
    train, test = tiny
    with pytest.raises(ValueError, match="k must be between 1 and the 5 items"):
        evaluation.evaluate(Popularity(), train, test, k=k)


class CountingPopularity(Popularity):
    """Popularity that records the size of every batch of users it scores."""

    batches: ClassVar[list[int]] = []

    def _score(self, rows):
        type(self).batches.append(rows.size)
        return super()._score(rows)


@pytest.fixture(scope="module")
def comparison(shop_split):
    train, test = shop_split
    CountingPopularity.batches = []
    models = {"worst": SeenFirst(), "Popularity": CountingPopularity()}
    result = evaluation.compare(models, train, test, k=10)
    return result, models, sum(CountingPopularity.batches)


def test_compare_returns_a_comparison(comparison):
    result, _, _ = comparison
    assert isinstance(result, evaluation.Comparison)
    assert result.k == 10
    board = result.leaderboard
    assert board.index.tolist() == ["Popularity", "worst"]  # best nDCG first
    assert board.index.name == "model"
    assert board["ndcg@10"].is_monotonic_decreasing
    assert list(result.per_user) == ["worst", "Popularity"]  # the models' order
    users = result.per_user["Popularity"]["user_id"].to_numpy()
    for name, frame in result.per_user.items():
        np.testing.assert_array_equal(frame["user_id"].to_numpy(), users)
        assert board.loc[name, "users"] == len(frame)
        assert board.loc[name, "ndcg@10"] == pytest.approx(frame["ndcg"].mean())
        assert list(frame.columns) == ["user_id", *metrics.RANKING_METRICS]


def test_compare_ranks_each_model_once(comparison):
    result, _, scored = comparison
    assert scored == len(result.per_user["Popularity"])  # every user, once


def test_compare_agrees_with_per_user_metrics_and_evaluate(comparison, shop_split):
    train, test = shop_split
    result, models, _ = comparison
    for name, model in models.items():  # fitted by compare
        frame, _ = evaluation.per_user_metrics(model, train, test, k=10)
        pd.testing.assert_frame_equal(result.per_user[name], frame)
        alone = evaluation.evaluate(model, train, test, k=10, name=name, fit=False)
        row = result.leaderboard.loc[[name]].drop(columns=list(evaluation.COST_COLUMNS))
        pd.testing.assert_frame_equal(
            row, alone.drop(columns=list(evaluation.COST_COLUMNS)), check_dtype=False
        )


def test_compare_keeps_what_each_model_showed(comparison, shop_split):
    train, test = shop_split
    result, models, _ = comparison
    for name, model in models.items():
        top = result.top_items[name]
        assert top.shape == (len(result.per_user[name]), 10)
        rows = evaluation.test_user_rows(train, test)
        np.testing.assert_array_equal(top, model.top_k_rows(rows, 10)[0])


def test_compare_with_release_unfits_each_model_and_keeps_the_results(
    comparison, shop_split
):
    train, test = shop_split
    kept, _, _ = comparison
    models = {"worst": SeenFirst(), "Popularity": Popularity()}
    released = evaluation.compare(models, train, test, k=10, release=True)
    for name, model in models.items():
        assert not [key for key in vars(model) if key.endswith("_")], name
        with pytest.raises(RuntimeError, match="not fitted"):
            model.score([1])
        pd.testing.assert_frame_equal(released.per_user[name], kept.per_user[name])
        np.testing.assert_array_equal(released.top_items[name], kept.top_items[name])
    pd.testing.assert_frame_equal(
        released.leaderboard.drop(columns=list(evaluation.COST_COLUMNS)),
        kept.leaderboard.drop(columns=list(evaluation.COST_COLUMNS)),
    )


def test_release_returns_the_unfitted_model(shop_split):
    train, _ = shop_split
    model = Popularity().fit(train)
    assert model.release() is model
    assert not hasattr(model, "train_")
    assert model.fit(train).recommend([train.user_ids[0]], n=3).shape[0] == 3


def test_combine_equals_one_pass(shop_split):
    train, test = shop_split
    whole = evaluation.compare(
        {"worst": SeenFirst(), "Popularity": Popularity()}, train, test, k=10
    )
    parts = evaluation.combine(
        evaluation.compare({"worst": SeenFirst()}, train, test, k=10),
        evaluation.compare({"Popularity": Popularity()}, train, test, k=10),
    )
    timing = list(evaluation.COST_COLUMNS)
    pd.testing.assert_frame_equal(
        parts.leaderboard.drop(columns=timing), whole.leaderboard.drop(columns=timing)
    )
    assert parts.k == 10
    for name in ("worst", "Popularity"):
        pd.testing.assert_frame_equal(parts.per_user[name], whole.per_user[name])
        np.testing.assert_array_equal(parts.top_items[name], whole.top_items[name])


def test_combine_refuses_parts_that_do_not_fit(shop_split):
    train, test = shop_split
    part = evaluation.compare({"Popularity": Popularity()}, train, test, k=10)
    other_k = evaluation.compare({"worst": SeenFirst()}, train, test, k=5)
    with pytest.raises(ValueError, match="cannot combine k=10 with k=5"):
        evaluation.combine(part, other_k)
    with pytest.raises(ValueError, match=r"repeat across parts: \['Popularity'\]"):
        evaluation.combine(part, part)
    other_train, other_test = split.by_time(data.load("shop"), test_fraction=0.5)
    elsewhere = evaluation.compare({"worst": SeenFirst()}, other_train, other_test)
    with pytest.raises(ValueError, match="worst was scored on other users"):
        evaluation.combine(part, elsewhere)
    with pytest.raises(ValueError, match="at least one comparison"):
        evaluation.combine()


def test_compare_needs_a_model(shop_split):
    train, test = shop_split
    with pytest.raises(ValueError, match="at least one model"):
        evaluation.compare({}, train, test)


# ------------------------------------------------------------------- versus
@pytest.fixture
def per_user():
    """Hand-made per-user metrics of four models over the same 40 users."""
    rng = np.random.default_rng(0)
    base = rng.random(40) * 0.5
    swing = np.tile([0.3, -0.3], 20)  # mean 0, large spread
    users = np.arange(1, 41)

    def frame(ndcg):
        return pd.DataFrame({"user_id": users, "ndcg": ndcg, "recall": ndcg / 2})

    return {
        "Popularity": frame(base),
        "better": frame(base + 0.2),
        "worse": frame(base - 0.1),
        "same": frame(base + swing),
    }


def test_versus_verdicts(per_user):
    table = evaluation.versus(per_user)
    assert table.index.tolist() == ["better", "worse", "same"]
    assert table.index.name == "vs Popularity"
    assert list(table.columns) == ["difference", "low", "high", "verdict"]
    assert table["verdict"].tolist() == ["wins", "loses", "tie"]
    # a constant difference has a zero-width interval
    assert table.loc["better", "difference"] == pytest.approx(0.2)
    assert table.loc["better", "low"] == pytest.approx(0.2)
    assert table.loc["better", "high"] == pytest.approx(0.2)
    assert table.loc["worse", "difference"] == pytest.approx(-0.1)
    same = table.loc["same"]
    assert same["difference"] == pytest.approx(0.0)
    assert same["low"] < 0 < same["high"]


def test_versus_other_baseline_metric_and_models(per_user):
    table = evaluation.versus(
        per_user, baseline="worse", metric="recall", models=["same", "Popularity"]
    )
    assert table.index.tolist() == ["same", "Popularity"]
    assert table.index.name == "vs worse"
    assert table.loc["Popularity", "difference"] == pytest.approx(0.05)
    assert table["verdict"].tolist() == ["wins", "wins"]
    # the paired bootstrap of the two columns
    expected = evaluation.paired_bootstrap(
        per_user["same"]["recall"], per_user["worse"]["recall"]
    )
    assert table.loc["same", ["difference", "low", "high"]].tolist() == pytest.approx(
        [expected["difference"], expected["low"], expected["high"]]
    )


def test_versus_errors(per_user):
    with pytest.raises(KeyError, match="baseline 'ALS' is not among"):
        evaluation.versus(per_user, baseline="ALS")
    with pytest.raises(KeyError, match="metric 'auc' is not a column"):
        evaluation.versus(per_user, metric="auc")
    shifted = dict(per_user)
    shifted["better"] = per_user["better"].assign(
        user_id=per_user["better"]["user_id"] + 1
    )
    with pytest.raises(ValueError, match="'better' and 'Popularity' were scored on"):
        evaluation.versus(shifted)
    fewer = dict(per_user)
    fewer["worse"] = per_user["worse"].iloc[:-1]
    with pytest.raises(ValueError, match="other users"):
        evaluation.versus(fewer)


# ------------------------------------------------------------- exclude_seen
@pytest.fixture(scope="module")
def repeat():
    """4 items, 3 users; test repeats of training items.

    train: u1 {1, 2}, u2 {1, 3}, u3 {2}
    test:  u1 {1 (repeat), 3}, u2 {3 (repeat)}, u3 {4}
    """
    train_rows = [(1, 1), (1, 2), (2, 1), (2, 3), (3, 2)]
    test_rows = [(1, 1), (1, 3), (2, 3), (3, 4)]
    frame = pd.DataFrame(train_rows + test_rows, columns=["user_id", "item_id"])
    ds = Dataset.from_frames(frame, name="repeat")
    n_train = len(train_rows)
    train = ds.with_interactions(ds.interactions.iloc[:n_train], "repeat/train", {})
    test = ds.with_interactions(ds.interactions.iloc[n_train:], "repeat/test", {})
    return train, test


def test_relevant_matrix_by_hand(repeat):
    train, test = repeat
    excluded = evaluation.relevant_matrix(train, test, exclude_seen=True)
    np.testing.assert_array_equal(
        excluded.toarray(), [[0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1]]
    )
    assert excluded.nnz == 2  # no explicit zeros left
    everything = evaluation.relevant_matrix(train, test, exclude_seen=False)
    np.testing.assert_array_equal(everything.toarray(), test.to_csr().toarray())
    np.testing.assert_array_equal(
        evaluation.test_user_rows(train, test, exclude_seen=True), [0, 2]
    )
    np.testing.assert_array_equal(
        evaluation.test_user_rows(train, test, exclude_seen=False), [0, 1, 2]
    )


def test_exclude_seen_true_drops_repeats_from_rankings_and_targets(repeat):
    train, test = repeat
    model = SeenFirst().fit(train)
    frame, top = evaluation.per_user_metrics(model, train, test, k=2)
    # user 2's only test item is a repeat: not scored
    assert frame["user_id"].tolist() == [1, 3]
    # unseen in reverse order: u1 [4, 3], u3 [4, 3]; the repeat (1) is not ranked
    np.testing.assert_array_equal(top, [[3, 2], [3, 2]])
    # u1: relevant {3} only, hit at rank 2; u3: relevant {4}, hit at rank 1
    np.testing.assert_allclose(frame["recall"], [1.0, 1.0])
    np.testing.assert_allclose(frame["mrr"], [0.5, 1.0])
    result = evaluation.evaluate(SeenFirst(), train, test, k=2)
    assert result.loc["SeenFirst", "users"] == 2
    assert result.loc["SeenFirst", "users_without_targets"] == 1
    assert result.loc["SeenFirst", "mrr@2"] == pytest.approx(0.75)


def test_exclude_seen_false_counts_repeats_as_hits(repeat):
    train, test = repeat
    model = SeenFirst().fit(train)
    frame, top = evaluation.per_user_metrics(
        model, train, test, k=2, exclude_seen=False
    )
    assert frame["user_id"].tolist() == [1, 2, 3]
    # training items first (+inf, by item order): u1 [1, 2], u2 [1, 3], u3 [2, 4]
    np.testing.assert_array_equal(top, [[0, 1], [0, 2], [1, 3]])
    # u1's repeat (item 1) is a hit at rank 1; u2's repeat (3) at rank 2
    np.testing.assert_allclose(frame["mrr"], [1.0, 0.5, 0.5])
    np.testing.assert_allclose(frame["recall"], [0.5, 1.0, 1.0])
    result = evaluation.evaluate(SeenFirst(), train, test, k=2, exclude_seen=False)
    assert result.loc["SeenFirst", "users"] == 3
    assert result.loc["SeenFirst", "users_without_targets"] == 0
    assert result.loc["SeenFirst", "mrr@2"] == pytest.approx(2 / 3)


def test_users_without_targets_on_the_shop(shop_split):
    train, test = shop_split
    assert test.info["repeat_rows"] > 0
    strict = evaluation.evaluate(Popularity(), train, test)
    loose = evaluation.evaluate(Popularity(), train, test, exclude_seen=False)
    without = strict.loc["Popularity", "users_without_targets"]
    assert without > 0
    assert loose.loc["Popularity", "users_without_targets"] == 0
    assert (
        strict.loc["Popularity", "users"] + without == loose.loc["Popularity", "users"]
    )
    relevant = evaluation.relevant_matrix(train, test, exclude_seen=True)
    assert relevant.multiply(train.to_csr()).nnz == 0  # no repeat is a target


# ---------------------------------------------------------------- bootstrap
def test_bootstrap_ci_contains_the_mean_and_narrows():
    rng = np.random.default_rng(0)
    small = rng.random(50)
    large = rng.random(5000)
    low_s, high_s = evaluation.bootstrap_ci(small)
    low_l, high_l = evaluation.bootstrap_ci(large)
    assert low_s < small.mean() < high_s
    assert low_l < large.mean() < high_l
    assert high_l - low_l < (high_s - low_s) / 5  # ~ 1/sqrt(100) as wide
    # seeded
    assert evaluation.bootstrap_ci(small) == (low_s, high_s)
    assert evaluation.bootstrap_ci(small, seed=1) != (low_s, high_s)


def test_bootstrap_ci_of_a_constant_and_errors():
    assert evaluation.bootstrap_ci(np.full(10, 0.3)) == pytest.approx((0.3, 0.3))
    with pytest.raises(ValueError, match="empty"):
        evaluation.bootstrap_ci(np.array([]))


def test_bootstrap_ci_level():
    values = np.random.default_rng(1).random(200)
    low90, high90 = evaluation.bootstrap_ci(values, level=0.90)
    low99, high99 = evaluation.bootstrap_ci(values, level=0.99)
    assert low99 < low90 < high90 < high99


def test_paired_bootstrap():
    a = np.random.default_rng(2).random(100)
    same = evaluation.paired_bootstrap(a, a.copy())
    assert same == {"difference": 0.0, "low": 0.0, "high": 0.0}
    better = evaluation.paired_bootstrap(a + 0.1, a)
    assert better["difference"] == pytest.approx(0.1)
    assert better["low"] == pytest.approx(0.1) and better["high"] == pytest.approx(0.1)
    noisy = evaluation.paired_bootstrap(a, a[::-1])
    assert noisy["low"] < noisy["difference"] < noisy["high"]
    with pytest.raises(ValueError, match="same users"):
        evaluation.paired_bootstrap(a, a[:-1])


# ------------------------------------------------------------- leaderboard
def test_format_leaderboard_strings():
    results = pd.DataFrame(
        {
            "users": [3],
            "ndcg@10": [0.12345],
            "ndcg@10_low": [0.1],
            "ndcg@10_high": [0.15],
            "recall@10": [0.5],
            "recall@10_low": [0.25],
            "recall@10_high": [0.75],
            "coverage@10": [0.123456],
            "novelty@10": [7.98765],
            "fit_s": [1.5],
            "recommend_s": [0.2],
        },
        index=pd.Index(["ItemKNN"], name="model"),
    )
    table = evaluation.format_leaderboard(results)
    assert list(table.columns) == ["recall@10", "ndcg@10", "coverage@10", "novelty@10"]
    assert table.loc["ItemKNN", "ndcg@10"] == "0.123 [0.100, 0.150]"
    assert table.loc["ItemKNN", "recall@10"] == "0.500 [0.250, 0.750]"
    assert table.loc["ItemKNN", "coverage@10"] == 0.123
    assert table.loc["ItemKNN", "novelty@10"] == 7.988
    assert table.index.name == "model"
    two = evaluation.format_leaderboard(results, decimals=2)
    assert two.loc["ItemKNN", "ndcg@10"] == "0.12 [0.10, 0.15]"


def test_format_leaderboard_of_evaluate(tiny):
    train, test = tiny
    table = evaluation.format_leaderboard(
        evaluation.evaluate(Popularity(), train, test, k=K), k=K
    )
    assert "fit_s" not in table and "recommend_s" not in table
    assert table.loc["Popularity", "hit_rate@2"] == "1.000 [1.000, 1.000]"
    assert table.loc["Popularity", "precision@2"] == "0.500 [0.500, 0.500]"


# ------------------------------------------- ranking: models.base.Recommender
class Fixed(Recommender):
    """Scores given by a fixed table (users x items), for ranking tests."""

    serves_cold_users = True

    def __init__(self, table=None):
        self.table = table

    def _fit(self, train):
        self.table_ = np.asarray(self.table, dtype=float)

    def _score(self, rows):
        return self.table_[rows]


@pytest.fixture
def board():
    # 2 users x 5 items; user 1 bought item 30, user 2 bought 10, 20, 30, 40
    interactions = pd.DataFrame(
        {"user_id": [1, 2, 2, 2, 2], "item_id": [30, 10, 20, 30, 40]}
    )
    items = pd.DataFrame({"item_id": [50, 40, 30, 20, 10]})
    return Dataset.from_frames(interactions, items=items)


def test_recommend_breaks_ties_by_item_order(board):
    # all items tie: the catalogue order (50, 40, 30, 20, 10) decides
    model = Fixed(np.ones((2, 5))).fit(board)
    recs = model.recommend(1, n=3)
    assert recs.to_dict("list") == {
        "user_id": [1, 1, 1],
        "item_id": [50, 40, 20],  # 30 was bought
        "score": [1.0, 1.0, 1.0],
        "rank": [1, 2, 3],
    }
    model = Fixed(np.array([[0, 2, 1, 2, 0], [0] * 5])).fit(board)
    assert model.recommend(1, n=4).item_id.tolist() == [40, 20, 50, 10]
    assert model.recommend(1, n=2, exclude_seen=False).item_id.tolist() == [40, 20]


def test_recommend_pads_when_few_unseen_items(board):
    model = Fixed(np.arange(10.0).reshape(2, 5)).fit(board)
    recs = model.recommend([2, 1], n=5)
    # user 2 has only item 50 unseen; user 1 has four
    assert recs.user_id.tolist() == [2, 1, 1, 1, 1]
    assert recs.item_id.tolist() == [50, 10, 20, 40, 50]
    assert recs["rank"].tolist() == [1, 1, 2, 3, 4]
    items, scores = model.top_k_rows(np.array([1]), 3)
    np.testing.assert_array_equal(items, [[0, -1, -1]])
    np.testing.assert_array_equal(scores, [[5.0, -np.inf, -np.inf]])


def test_recommend_with_infinite_scores(board):
    table = np.array([[np.inf, -np.inf, 1, 2, np.inf], [0] * 5])
    model = Fixed(table).fit(board)
    # +inf is the best score (ties by item order); -inf is never recommended
    assert model.recommend(1, n=5).item_id.tolist() == [50, 10, 20]
    items, _ = model.top_k_rows(np.array([0]), 2)
    np.testing.assert_array_equal(items, [[0, 4]])


def test_recommend_rejects_bad_users_and_n(board):
    model = Fixed(np.ones((2, 5))).fit(board)
    with pytest.raises(TypeError, match="did you mean user_id == 1"):
        model.recommend("1")
    with pytest.raises(KeyError, match="unknown user"):
        model.score([3])
    with pytest.raises(ValueError, match="n must be between 1 and the 5 items, got 6"):
        model.recommend(1, n=6)
    with pytest.raises(ValueError, match="n must be between 1 and the 5 items, got 0"):
        model.recommend(1, n=0)
    with pytest.raises(TypeError, match=r"n must be an integer, got 2\.5"):
        model.recommend(1, n=2.5)
    with pytest.raises(TypeError, match="n must be an integer"):
        model.recommend(1, n=True)
    assert len(model.recommend(1, n=np.int64(2))) == 2
    with pytest.raises(ValueError, match="k must be between 1 and the 5 items, got 6"):
        model.top_k_rows(np.array([0]), 6)
    with pytest.raises(RuntimeError, match="not fitted"):
        Fixed(np.ones((2, 5))).recommend(1)
    with pytest.raises(TypeError, match="Dataset"):
        Fixed(np.ones((2, 5))).fit(board.interactions)


def test_nan_scores_raise(board):
    table = np.ones((2, 5))
    table[1, 3] = np.nan
    model = Fixed(table).fit(board)
    np.testing.assert_array_equal(model.score(1), np.ones((1, 5)))
    with pytest.raises(RuntimeError, match="NaN scores"):
        model.score(2)
    with pytest.raises(RuntimeError, match="NaN scores"):
        model.recommend([1, 2], n=2)


def test_wrong_score_shape_raises(board):
    model = Fixed(np.ones((2, 4))).fit(board)
    with pytest.raises(RuntimeError, match=r"_score returned \(1, 4\)"):
        model.score(1)


def test_score_returns_a_copy(board):
    model = Fixed(np.ones((2, 5))).fit(board)
    model.score([1, 2])[:] = 7.0
    np.testing.assert_array_equal(model.table_, np.ones((2, 5)))


def _reference_top_k(scores, k):
    items = np.full((scores.shape[0], k), -1)
    values = np.full((scores.shape[0], k), -np.inf)
    for row, s in enumerate(scores):
        order = [i for i in np.argsort(-s, kind="stable") if s[i] > -np.inf][:k]
        items[row, : len(order)] = order
        values[row, : len(order)] = s[order]
    return items, values


matrices = st.tuples(st.integers(1, 6), st.integers(1, 9)).flatmap(
    lambda shape: hnp.arrays(
        np.float64,
        shape,
        elements=st.sampled_from([0.0, 1.0, 2.0, 2.5, -1.0, np.inf, -np.inf]),
    )
)


@settings(max_examples=200, deadline=None)
@given(scores=matrices, data=st.data())
def test_top_k_matches_a_stable_argsort(scores, data):
    k = data.draw(st.integers(1, scores.shape[1]), label="k")
    items, values = _top_k(scores.copy(), k)
    ref_items, ref_values = _reference_top_k(scores, k)
    np.testing.assert_array_equal(items, ref_items)
    np.testing.assert_array_equal(values, ref_values)


def test_top_k_on_a_large_random_matrix():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 20, size=(50, 300)).astype(float)  # many ties
    items, values = _top_k(scores, 10)
    ref_items, ref_values = _reference_top_k(scores, 10)
    np.testing.assert_array_equal(items, ref_items)
    np.testing.assert_array_equal(values, ref_values)


def test_versus_names_an_unknown_model():
    users = np.arange(1, 4)
    per_user = {
        "Popularity": pd.DataFrame({"user_id": users, "ndcg": np.zeros(3)}),
        "A": pd.DataFrame({"user_id": users, "ndcg": np.ones(3)}),
    }
    with pytest.raises(KeyError, match=r"\['B'\] are not among"):
        evaluation.versus(per_user, models=["B"])


def test_published_leaderboard_reads_what_the_benchmark_wrote():
    table = evaluation.published_leaderboard("movielens-latest-small")
    assert table.attrs["made_by"].startswith("python benchmarks/leaderboard.py")
    assert table.index.name == "model"
    assert {"Popularity", "ALS", "EASE"} <= set(table.index)
    assert table["ndcg@10"].is_monotonic_decreasing
    for column in ("ndcg@10_low", "vs_popularity_low", "fit_s", "coverage@10"):
        assert column in table
    assert (table["ndcg@10_low"] <= table["ndcg@10"]).all()


def test_published_leaderboard_names_what_there_is():
    with pytest.raises(
        ValueError, match=r"no published leaderboard for 'nope'.*'shop'"
    ):
        evaluation.published_leaderboard("nope")


class Hoarder(Recommender):
    """Popularity scores, and a fit that takes ``mb`` MB and keeps it."""

    def __init__(self, mb: int = 100):
        self.mb = mb

    def _fit(self, train):
        self.ballast_ = np.ones(self.mb * 2**20 // 8)
        self.counts_ = np.asarray(train.to_csr().sum(axis=0)).ravel()

    def _score(self, rows):
        return np.tile(self.counts_, (rows.size, 1))


def test_fit_mb_is_the_memory_the_fit_took(tiny):
    train, test = tiny
    small = evaluation.evaluate(Popularity(), train, test, k=K)
    big = evaluation.evaluate(Hoarder(mb=100), train, test, k=K)
    assert big.iloc[0]["fit_mb"] >= 80
    assert 0 <= small.iloc[0]["fit_mb"] < big.iloc[0]["fit_mb"]
