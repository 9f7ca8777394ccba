"""Tests of the multi-stage ranking: leaks, the contract, the ceiling, re-rankers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from recsys_helpers import data, evaluation, models, ranking, split
from recsys_helpers.data import Dataset
from tests.model_contract import ModelContract

DAY = 86_400


@pytest.fixture(scope="module")
def shop():
    return data.load("shop", n_users=250)


@pytest.fixture(scope="module")
def shop_split(shop):
    return split.by_time(shop)


def knn_frame(train: Dataset) -> pd.DataFrame:
    return ranking.training_frame(models.ItemKNN(), train, n_candidates=30)


# ------------------------------------------------------------------- leaks
def test_the_package_features_pass_the_leak_check(shop_split):
    train, _ = shop_split
    changed = ranking.leak_check(knn_frame, train)
    assert (changed == 0).all()
    assert {"item_recent", "category_share", "retriever_score"} <= set(changed.index)


def test_the_leak_check_fails_on_a_label_window_feature(shop_split):
    """A feature computed on all of train (history AND label window) leaks."""
    train, _ = shop_split

    def leaky(train_part: Dataset) -> pd.DataFrame:
        frame = knn_frame(train_part)
        per_item = np.diff(train_part.to_csr().tocsc().indptr)  # includes the window
        frame["item_buyers_all_of_train"] = per_item[frame["col"].to_numpy()]
        return frame

    with pytest.raises(AssertionError, match=r"item_buyers_all_of_train.*leak"):
        ranking.leak_check(leaky, train)


def test_the_leak_check_fails_when_the_features_read_the_window_times(shop_split):
    """Ranking at the time of the first label event uses the label window."""
    train, _ = shop_split

    def at_first_window_event(train_part: Dataset) -> pd.DataFrame:
        history, window = split.by_time(train_part, 0.2)
        when = ranking.ranking_times(history)
        first = window.interactions.groupby("user_id")["timestamp"].min()
        when[history.user_index(first.index.to_numpy())] = first.to_numpy()
        return ranking.training_frame(
            models.ItemKNN(),
            train_part,
            n_candidates=30,
            featurize=lambda pairs, hist, _: ranking.features(pairs, hist, when),
        )

    with pytest.raises(AssertionError, match="item_age_days"):
        ranking.leak_check(at_first_window_event, train)


def test_the_leak_check_needs_labels_that_change(shop_split):
    train, _ = shop_split

    def no_labels(train_part: Dataset) -> pd.DataFrame:
        return knn_frame(train_part).assign(label=0)

    with pytest.raises(AssertionError, match="proves nothing"):
        ranking.leak_check(no_labels, train)


def test_features_are_point_in_time():
    """item_recent counts only the 30 days before the ranking time."""
    inter = pd.DataFrame(
        {
            "user_id": [1, 2, 2, 3, 3],
            "item_id": [10, 10, 11, 10, 11],
            "timestamp": [0, 5 * DAY, 6 * DAY, 40 * DAY, 50 * DAY],
        }
    )
    history = Dataset.from_frames(inter)
    pairs = pd.DataFrame({"row": [0, 2], "col": [0, 0]})
    when = np.array([1, 7 * DAY, 45 * DAY])
    out = ranking.features(pairs, history, when)
    # user 1 at t=1s: item 10 was bought once (t=0); user 3 at day 45: events
    # at days 40 (in) and 5, 0 (more than 30 days before)
    np.testing.assert_allclose(out["item_recent"], np.log1p([1, 1]))
    np.testing.assert_allclose(out["item_popularity"], np.log1p([3, 3]))
    np.testing.assert_allclose(out["user_item_count"], [1, 1])
    assert list(pairs.columns) == ["row", "col"]  # the input is not modified


def test_feature_report_degrades_without_a_catalogue_clock():
    items = pd.DataFrame({"item_id": [1, 2], "genres": ["Drama, War", "Comedy"]})
    report = ranking.feature_report(items)
    assert "first interaction" in report["item_age_days"]
    assert "left out" in report["consumable"]
    assert "genres" in report["category_share"]
    codes = ranking.item_groups(items)["category"]
    assert codes.tolist() == [1, 0]  # "Drama" and "Comedy", sorted


# ---------------------------------------------------------------- contract
class TestTwoStageContract(ModelContract):
    personalised = True

    def make_model(self):
        return ranking.TwoStage("ItemKNN", "logistic", candidates=8)


def test_bad_hyper_parameters_fail_before_any_work(shop_split):
    train, _ = shop_split
    for kwargs, text in [
        ({"candidates": 0}, "candidates must be a positive integer"),
        ({"label_fraction": 1.5}, r"label_fraction must be in \(0, 1\)"),
        ({"ranker": "xgboost"}, "ranker must be one of"),
        ({"retriever": "NoSuchModel"}, "retriever must be a model name"),
    ]:
        model = ranking.TwoStage(**kwargs)
        with pytest.raises(ValueError, match=text):
            model.fit(train)
        assert not hasattr(model, "ranker_")
    with pytest.raises(TypeError, match="retriever must be a Recommender"):
        ranking.TwoStage(retriever=object()).fit(train)


def test_needs_timestamps():
    inter = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [1, 2, 1, 3]})
    with pytest.raises(ValueError, match="needs a 'timestamp' column"):
        ranking.TwoStage("ItemKNN", "logistic").fit(Dataset.from_frames(inter))


# ----------------------------------------------------------------- ceiling
def test_the_retriever_recall_is_the_ceiling(shop_split):
    train, test = shop_split
    n = 20
    retriever = models.ItemKNN().fit(train)
    model = ranking.TwoStage("ItemKNN", "logistic", candidates=n, rules=False)
    model.fit(train)
    rows = evaluation.test_user_rows(train, test)
    two_stage, _ = model.top_k_rows(rows, n)
    retrieved, _ = retriever.top_k_rows(rows, n)
    for mine, theirs in zip(two_stage, retrieved, strict=True):
        assert set(mine) == set(theirs)  # the same items, in another order
    ceiling = evaluation.evaluate(retriever, train, test, k=n, fit=False)
    for k in (5, 10, n):
        got = evaluation.evaluate(model, train, test, k=k, fit=False)
        assert got[f"recall@{k}"].iloc[0] <= ceiling[f"recall@{n}"].iloc[0] + 1e-12


# --------------------------------------------------------------- re-rankers
def test_business_rules():
    inter = pd.DataFrame(
        {"user_id": [1, 1], "item_id": [1, 2], "timestamp": [10 * DAY, 11 * DAY]}
    )
    items = pd.DataFrame(
        {
            "item_id": [1, 2, 3, 4],
            "kind": ["durable", "consumable", "durable", "durable"],
            "launched": [0, 0, 0, 30 * DAY],
        }
    )
    history = Dataset.from_frames(inter, items)
    frame = pd.DataFrame({"row": [0, 0, 0, 0], "col": [0, 1, 2, 3]})
    when = np.array([12 * DAY])
    allowed = ranking.business_rules(frame, history, when)
    # an owned durable, an owned consumable (may be bought again), a new
    # durable, an item launched after the ranking time
    assert allowed.tolist() == [False, True, True, False]
    later = ranking.business_rules(frame, history, np.array([31 * DAY]))
    assert later.tolist() == [False, True, True, True]


def test_two_stage_never_shows_what_the_rules_forbid(shop_split):
    train, _ = shop_split
    model = ranking.TwoStage("ItemKNN", "logistic", candidates=30).fit(train)
    users = train.user_ids[:50]
    recs = model.recommend(users, n=30, exclude_seen=False)
    rows = train.user_index(recs["user_id"].to_numpy())
    cols = train.item_index(recs["item_id"].to_numpy())
    frame = pd.DataFrame({"row": rows, "col": cols})
    assert ranking.business_rules(frame, train, model.when_).all()
    assert recs["score"].gt(-np.inf).all()


def test_mmr():
    relevance = np.array([1.0, 0.9, 0.8, 0.1])
    same = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
    assert ranking.mmr(relevance, same, 3, 0.0).tolist() == [0, 1, 2]
    # with a little diversity the near-duplicate of item 0 waits
    assert ranking.mmr(relevance, same, 3, 0.3).tolist() == [0, 2, 1]
    assert ranking.mmr(relevance, same, 3, 1.0).tolist() == [0, 2, 3]
    with pytest.raises(ValueError, match="diversity"):
        ranking.mmr(relevance, same, 3, 1.5)
    with pytest.raises(ValueError, match="k must be between"):
        ranking.mmr(relevance, same, 5, 0.5)


def test_freshness_boost():
    scores = np.array([1.0, 1.0, 1.0])
    boosted = ranking.freshness_boost(scores, np.array([0.0, 30.0, -5.0]), 0.5, 30.0)
    np.testing.assert_allclose(boosted, [1.5, 1.25, 1.0])
    with pytest.raises(ValueError, match="weight"):
        ranking.freshness_boost(scores, np.zeros(3), -1.0)


def test_intra_list_diversity():
    codes = np.array([0, 0, 1, 2])
    assert ranking.intra_list_diversity(np.array([[0, 1]]), codes) == 0.0
    assert ranking.intra_list_diversity(np.array([[0, 2, 3]]), codes) == 1.0
    # pairs (0,1) same, (0,2) and (1,2) differ: 2 of 3; padding ignored
    value = ranking.intra_list_diversity(np.array([[0, 1, 2, -1]]), codes)
    assert value == pytest.approx(2 / 3)


# ------------------------------------------------------------ determinism
@pytest.mark.parametrize("ranker", ["logistic", "lambdamart"])
def test_two_fits_give_the_same_scores(shop_split, ranker):
    train, _ = shop_split
    users = train.user_ids[:40]
    first = ranking.TwoStage("ItemKNN", ranker, candidates=30).fit(train)
    second = ranking.TwoStage("ItemKNN", ranker, candidates=30).fit(train)
    np.testing.assert_array_equal(first.score(users), second.score(users))


def test_deep_cross_is_deterministic_and_learns(shop_split):
    train, _ = shop_split
    frame = knn_frame(train)
    names = ranking.feature_columns(frame)
    x, y = frame[names].to_numpy(), frame["label"].to_numpy()
    rows = frame["row"].to_numpy()
    first = ranking.DeepCross(epochs=5).fit(x, y, rows).predict(x)
    second = ranking.DeepCross(epochs=5).fit(x, y, rows).predict(x)
    np.testing.assert_allclose(first, second, rtol=1e-6)
    # it ranks the training labels better than chance
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, first) > 0.6


def test_importing_ranking_imports_no_heavy_library():
    heavy = "{'lightgbm', 'tensorflow', 'keras_rs', 'keras'}"
    code = (
        "import sys; import recsys_helpers.ranking; "
        f"print(sorted({heavy} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
