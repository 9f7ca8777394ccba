"""Tests for recsys_helpers.metrics: hand-computed values and properties."""

import inspect
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys_helpers.metrics import (
    RANKING_METRICS,
    average_precision_at_k,
    catalog_coverage,
    gini,
    hit_rate_at_k,
    hits_from_lists,
    mae,
    ndcg_at_k,
    novelty,
    precision_at_k,
    recall_at_k,
    reciprocal_rank_at_k,
    rmse,
    top_share,
)

LOG2_3 = math.log2(3)  # 1.5849625...

# ---------------------------------------------------------------------------
# Hand-computed example, k = 3
# ---------------------------------------------------------------------------
# user 0: list a b c, relevant {a, c}            -> hits 1 0 1, n_rel 2
# user 1: list d e f, relevant {e, x, y, z, w}   -> hits 0 1 0, n_rel 5 (> k)
# user 2: list g h (padded), relevant {g}        -> hits 1 0 0, n_rel 1
# user 3: list i j k, relevant {q}               -> hits 0 0 0, n_rel 1
# user 4: list r s t, relevant {r, s, t, u, v}   -> hits 1 1 1, n_rel 5 (> k)
RECOMMENDED = [
    ["a", "b", "c"],
    ["d", "e", "f"],
    ["g", "h"],
    ["i", "j", "k"],
    ["r", "s", "t"],
]
RELEVANT = [
    {"a", "c"},
    {"e", "x", "y", "z", "w"},
    {"g"},
    {"q"},
    {"r", "s", "t", "u", "v"},
]
K = 3


@pytest.fixture
def example():
    return hits_from_lists(RECOMMENDED, RELEVANT, K)


def test_hits_from_lists_example(example):
    hits, n_rel = example
    expected = np.array(
        [
            [True, False, True],
            [False, True, False],
            [True, False, False],  # last slot is padding
            [False, False, False],
            [True, True, True],
        ]
    )
    assert hits.dtype == np.bool_
    np.testing.assert_array_equal(hits, expected)
    np.testing.assert_array_equal(n_rel, [2, 5, 1, 1, 5])


def test_precision_hand(example):
    hits, n_rel = example
    # hits / k, with k = 3 even for the padded user 2 (1 hit in 2 items -> 1/3)
    expected = [2 / 3, 1 / 3, 1 / 3, 0.0, 3 / 3]
    np.testing.assert_allclose(precision_at_k(hits, n_rel), expected)


def test_recall_hand(example):
    hits, n_rel = example
    # hits / n_rel; user 4 has all 3 slots filled with hits but 5 relevant
    # items, so its recall is 3/5 = 0.6, the ceiling k / n_rel.
    expected = [2 / 2, 1 / 5, 1 / 1, 0.0, 3 / 5]
    np.testing.assert_allclose(recall_at_k(hits, n_rel), expected)


def test_ndcg_hand(example):
    hits, n_rel = example
    # discounts 1/log2(2) = 1, 1/log2(3) = 0.63093, 1/log2(4) = 0.5
    # user 0: DCG = 1 + 0.5 = 1.5; IDCG (2 hits) = 1 + 0.63093 = 1.63093
    #         -> 0.91972
    # user 1: DCG = 0.63093; IDCG (min(3, 5) = 3 hits) = 2.13093 -> 0.29608
    # user 2: DCG = 1; IDCG (1 hit) = 1 -> 1
    # user 3: 0
    # user 4: DCG = IDCG = 2.13093 -> 1 even though n_rel > k
    expected = [
        1.5 / (1 + 1 / LOG2_3),
        (1 / LOG2_3) / (1 + 1 / LOG2_3 + 0.5),
        1.0,
        0.0,
        1.0,
    ]
    np.testing.assert_allclose(ndcg_at_k(hits, n_rel), expected)
    np.testing.assert_allclose(
        ndcg_at_k(hits, n_rel), [0.919720, 0.296082, 1, 0, 1], atol=1e-6
    )


def test_average_precision_hand(example):
    hits, n_rel = example
    # user 0: P@1 = 1/1, P@3 = 2/3; sum = 5/3; / min(3, 2) = 2 -> 5/6
    # user 1: P@2 = 1/2; / min(3, 5) = 3 -> 1/6
    # user 2: P@1 = 1; / min(3, 1) = 1 -> 1
    # user 3: 0
    # user 4: (1 + 1 + 1) / min(3, 5) = 3 -> 1
    expected = [5 / 6, 1 / 6, 1.0, 0.0, 1.0]
    np.testing.assert_allclose(average_precision_at_k(hits, n_rel), expected)
    # MAP@3 is the mean over users: (5/6 + 1/6 + 1 + 0 + 1) / 5 = 3/5
    assert average_precision_at_k(hits, n_rel).mean() == pytest.approx(0.6)


def test_reciprocal_rank_hand(example):
    hits, n_rel = example
    # first hit at rank 1, 2, 1, none, 1
    expected = [1.0, 0.5, 1.0, 0.0, 1.0]
    np.testing.assert_allclose(reciprocal_rank_at_k(hits, n_rel), expected)


def test_hit_rate_hand(example):
    hits, n_rel = example
    np.testing.assert_array_equal(hit_rate_at_k(hits, n_rel), [1.0, 1.0, 1.0, 0.0, 1.0])


def test_reciprocal_rank_late_hit():
    hits = np.array([[0, 0, 0, 0, 1]], dtype=bool)
    assert reciprocal_rank_at_k(hits, [1])[0] == pytest.approx(1 / 5)


def test_ranking_metrics_dict(example):
    hits, n_rel = example
    assert list(RANKING_METRICS) == [
        "precision",
        "recall",
        "ndcg",
        "map",
        "mrr",
        "hit_rate",
    ]
    # the mapping holds the public functions themselves, no wrappers
    public = [
        precision_at_k,
        recall_at_k,
        ndcg_at_k,
        average_precision_at_k,
        reciprocal_rank_at_k,
        hit_rate_at_k,
    ]
    for fn, expected in zip(RANKING_METRICS.values(), public, strict=True):
        assert fn is expected
    for fn in RANKING_METRICS.values():
        out = fn(hits, n_rel)
        assert out.shape == (5,)
        assert out.dtype == np.float64
        # metrics whose formula ignores n_relevant still validate it
        with pytest.raises(ValueError, match="n_relevant"):
            fn(hits, n_rel[:2])


@pytest.mark.parametrize("fn", list(RANKING_METRICS.values()))
def test_one_signature_for_every_ranking_metric(fn):
    assert list(inspect.signature(fn).parameters) == ["hits", "n_relevant"]
    doc = inspect.getdoc(fn)
    # each docstring states the formula, the range and the ceiling
    assert ".. math::" in doc
    assert "Range" in doc
    assert "Ceiling" in doc
    with pytest.raises(TypeError):
        fn(np.ones((1, 2), dtype=bool))  # n_relevant is required


def test_integer_hits_accepted_and_inputs_not_mutated(example):
    hits, n_rel = example
    int_hits = hits.astype(np.int64)
    hits_copy, n_rel_copy = int_hits.copy(), n_rel.copy()
    for fn in RANKING_METRICS.values():
        np.testing.assert_allclose(fn(int_hits, n_rel), fn(hits, n_rel))
        np.testing.assert_allclose(
            fn(int_hits.tolist(), n_rel.tolist()), fn(hits, n_rel)
        )
    np.testing.assert_array_equal(int_hits, hits_copy)
    np.testing.assert_array_equal(n_rel, n_rel_copy)


def test_empty_batch_of_users():
    hits = np.zeros((0, 4), dtype=bool)
    n_rel = np.zeros(0, dtype=int)
    for fn in RANKING_METRICS.values():
        assert fn(hits, n_rel).shape == (0,)


# ---------------------------------------------------------------------------
# Input validation for ranking metrics
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hits", "n_rel", "match"),
    [
        (np.array([True, False]), [1], "2-D"),
        (np.zeros((2, 0), dtype=bool), [1, 1], "k"),
        (np.array([[0, 2, 1]]), [3], "0/1"),
        (np.array([[0.5, 1.0]]), [3], "0/1"),
        (np.array([["a", "b"]]), [3], "dtype"),
        (np.array([[1, 0]], dtype=bool), [1, 1], "one count per user"),
        (np.array([[1, 0]], dtype=bool), [[1]], "1-D"),
        (np.array([[0, 0]], dtype=bool), [0], ">= 1"),
        (np.array([[1, 1]], dtype=bool), [1], "at least the number of hits"),
        (np.array([[1, 0]], dtype=bool), [1.5], "whole numbers"),
        (np.array([[1, 0]], dtype=bool), ["2"], "integers"),
    ],
)
def test_ranking_metric_errors(hits, n_rel, match):
    for fn in RANKING_METRICS.values():
        with pytest.raises(ValueError, match=match):
            fn(hits, n_rel)


@pytest.mark.parametrize(
    ("hits", "n_rel", "value"),
    [
        (np.array([[0, 2, 1]]), [3], "[2]"),
        (np.array([[0.5, 1.0]]), [3], "[0.5]"),
        (np.array([[1, 0]], dtype=bool), [1.5], "[1.5]"),
        (np.array([[0, 0]], dtype=bool), [0], "n_relevant [0]"),
        (np.array([[1, 0]], dtype=bool), [1, 1], "n_relevant has 2 users"),
    ],
)
def test_ranking_metric_errors_show_the_bad_value(hits, n_rel, value):
    for fn in RANKING_METRICS.values():
        with pytest.raises(ValueError, match=re.escape(value)):
            fn(hits, n_rel)


def test_float_n_relevant_with_whole_values_accepted():
    hits = np.array([[True, False]])
    np.testing.assert_allclose(recall_at_k(hits, np.array([2.0])), [0.5])


# ---------------------------------------------------------------------------
# hits_from_lists
# ---------------------------------------------------------------------------


def test_hits_from_lists_truncates_to_k():
    hits, n_rel = hits_from_lists([[1, 2, 3, 4]], [{4, 1}], k=2)
    np.testing.assert_array_equal(hits, [[True, False]])
    np.testing.assert_array_equal(n_rel, [2])


def test_hits_from_lists_empty_list_is_all_padding():
    hits, n_rel = hits_from_lists([[]], [{7}], k=3)
    np.testing.assert_array_equal(hits, [[False, False, False]])
    np.testing.assert_array_equal(n_rel, [1])


@pytest.mark.parametrize(
    ("recommended", "relevant", "k", "match"),
    [
        ([[1, 2]], [{1}], 0, "k must be >= 1"),
        ([[1, 2]], [{1}], -2, "k must be >= 1"),
        ([[1, 2]], [{1}], 2.5, "positive integer"),
        ([[1, 2]], [{1}], True, "positive integer"),
        ([[1, 2], [3]], [{1}], 2, "2 users but relevant has 1"),
        ([[1, 2]], [set()], 2, "no relevant items"),
        ([[1, 2, 1]], [{1}], 2, "duplicate"),
        (["ab"], [{"a"}], 2, "not a string"),
        ("ab", [{"a"}, {"b"}], 2, "not strings"),
    ],
)
def test_hits_from_lists_errors(recommended, relevant, k, match):
    with pytest.raises(ValueError, match=match):
        hits_from_lists(recommended, relevant, k)


# ---------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------


@st.composite
def rankings(draw, min_users=1):
    """Draw (hits, n_relevant) with 1..8 users, k in 1..8, n_rel in 1..12."""
    n_users = draw(st.integers(min_users, 8))
    k = draw(st.integers(1, 8))
    rows = draw(
        st.lists(
            st.lists(st.booleans(), min_size=k, max_size=k),
            min_size=n_users,
            max_size=n_users,
        )
    )
    hits = np.array(rows, dtype=bool).reshape(n_users, k)
    extra = draw(st.lists(st.integers(0, 6), min_size=n_users, max_size=n_users))
    n_rel = np.maximum(hits.sum(axis=1) + np.array(extra, dtype=int), 1)
    return hits, n_rel


def _reference(hits, n_rel):
    """Plain-Python, one-user-at-a-time version of every metric."""
    out = {name: [] for name in RANKING_METRICS}
    for row, n in zip(hits.tolist(), n_rel.tolist(), strict=True):
        k = len(row)
        ranks = [j + 1 for j, h in enumerate(row) if h]
        out["precision"].append(len(ranks) / k)
        out["recall"].append(len(ranks) / n)
        dcg = sum(1 / math.log2(r + 1) for r in ranks)
        idcg = sum(1 / math.log2(r + 1) for r in range(1, min(k, n) + 1))
        out["ndcg"].append(dcg / idcg)
        ap = sum((i + 1) / r for i, r in enumerate(ranks)) / min(k, n)
        out["map"].append(ap)
        out["mrr"].append(1 / ranks[0] if ranks else 0.0)
        out["hit_rate"].append(1.0 if ranks else 0.0)
    return out


@settings(max_examples=100, deadline=None)
@given(rankings())
def test_matches_reference_and_bounds(ranking):
    hits, n_rel = ranking
    expected = _reference(hits, n_rel)
    for name, fn in RANKING_METRICS.items():
        values = fn(hits, n_rel)
        assert values.shape == (hits.shape[0],)
        np.testing.assert_allclose(values, expected[name], err_msg=name)
        assert np.all(values >= 0.0), name
        assert np.all(values <= 1.0 + 1e-12), name


@settings(max_examples=100, deadline=None)
@given(
    k=st.integers(1, 10),
    n_rel=st.lists(st.integers(1, 15), min_size=1, max_size=8),
)
def test_perfect_ranking_reaches_ceiling(k, n_rel):
    n_rel = np.array(n_rel)
    n_users = n_rel.size
    # the first min(k, n_rel) positions are hits, the rest misses
    hits = np.arange(k)[None, :] < np.minimum(n_rel, k)[:, None]
    assert hits.shape == (n_users, k)
    np.testing.assert_allclose(ndcg_at_k(hits, n_rel), 1.0)
    np.testing.assert_allclose(average_precision_at_k(hits, n_rel), 1.0)
    np.testing.assert_allclose(reciprocal_rank_at_k(hits, n_rel), 1.0)
    np.testing.assert_allclose(hit_rate_at_k(hits, n_rel), 1.0)
    np.testing.assert_allclose(precision_at_k(hits, n_rel), np.minimum(1.0, n_rel / k))
    np.testing.assert_allclose(recall_at_k(hits, n_rel), np.minimum(1.0, k / n_rel))


@settings(max_examples=100, deadline=None)
@given(
    k=st.integers(1, 10),
    n_rel=st.lists(st.integers(1, 15), min_size=1, max_size=8),
)
def test_no_hits_gives_zero(k, n_rel):
    n_rel = np.array(n_rel)
    hits = np.zeros((n_rel.size, k), dtype=bool)
    for name, fn in RANKING_METRICS.items():
        np.testing.assert_array_equal(fn(hits, n_rel), 0.0, err_msg=name)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), ranking=rankings())
def test_permuting_users_permutes_outputs(data, ranking):
    hits, n_rel = ranking
    perm = np.array(data.draw(st.permutations(range(hits.shape[0]))), dtype=int)
    for name, fn in RANKING_METRICS.items():
        original = fn(hits, n_rel)
        permuted = fn(hits[perm], n_rel[perm])
        np.testing.assert_allclose(permuted, original[perm], err_msg=name)
        assert permuted.mean() == pytest.approx(original.mean())


@settings(max_examples=100, deadline=None)
@given(data=st.data(), ranking=rankings())
def test_moving_a_hit_earlier_never_lowers_score(data, ranking):
    hits, n_rel = ranking
    # pick a (user, hit at rank j, miss at an earlier rank i < j) if there is one
    candidates = [
        (u, i, j)
        for u in range(hits.shape[0])
        for j in np.flatnonzero(hits[u])
        for i in np.flatnonzero(~hits[u, :j])
    ]
    if not candidates:
        return
    u, i, j = data.draw(st.sampled_from(candidates))
    moved = hits.copy()
    moved[u, i], moved[u, j] = True, False
    for fn in (ndcg_at_k, average_precision_at_k):
        before, after = fn(hits, n_rel), fn(moved, n_rel)
        assert after[u] >= before[u] - 1e-12
        np.testing.assert_array_equal(np.delete(after, u), np.delete(before, u))
    before = reciprocal_rank_at_k(hits, n_rel)
    after = reciprocal_rank_at_k(moved, n_rel)
    assert after[u] >= before[u]
    # ndcg strictly improves: the hit gains discount 1/log2(i+2) > 1/log2(j+2)
    assert ndcg_at_k(moved, n_rel)[u] > ndcg_at_k(hits, n_rel)[u]


# ---------------------------------------------------------------------------
# Coverage and novelty
# ---------------------------------------------------------------------------


def test_catalog_coverage_example():
    recs = np.array([[0, 1, 2], [1, 2, -1]])
    # distinct non-padding items {0, 1, 2} out of 5 -> 3/5
    assert catalog_coverage(recs, n_items=5) == pytest.approx(0.6)
    assert catalog_coverage(recs, n_items=3) == pytest.approx(1.0)
    assert isinstance(catalog_coverage(recs, 5), float)


def test_catalog_coverage_all_padding_is_zero():
    assert catalog_coverage(np.full((2, 3), -1), n_items=4) == 0.0


@pytest.mark.parametrize(
    ("recs", "n_items", "match"),
    [
        (np.array([0, 1]), 3, "2-D"),
        (np.array([[0.0, 1.0]]), 3, "integer"),
        (np.array([[0, 3]]), 3, "0..n_items-1"),
        (np.array([[0, -2]]), 3, "0..n_items-1"),
        (np.array([[0, 1]]), 0, "n_items must be >= 1"),
    ],
)
def test_catalog_coverage_errors(recs, n_items, match):
    with pytest.raises(ValueError, match=match):
        catalog_coverage(recs, n_items)


def test_novelty_example():
    # 3 training users; p_i = (count_i + 1) / (3 + 1)
    # item 0: count 3 -> p = 1    -> 0 bits
    # item 1: count 1 -> p = 1/2  -> 1 bit
    # item 2: count 0 -> p = 1/4  -> 2 bits (finite thanks to the smoothing)
    counts = np.array([3, 1, 0])
    recs = np.array([[0, 1], [2, -1]])
    # mean over the 3 non-padding recommendations: (0 + 1 + 2) / 3 = 1
    assert novelty(recs, counts, n_users=3) == pytest.approx(1.0)
    # only the unseen item: log2(n_users + 1) = 2, the maximum
    assert novelty(np.array([[2]]), counts, 3) == pytest.approx(2.0)
    # only the item everybody saw: 0, the minimum
    assert novelty(np.array([[0, 0]]), counts, 3) == pytest.approx(0.0)
    assert isinstance(novelty(recs, counts, 3), float)


def test_novelty_prefers_unpopular_items():
    counts = np.array([90, 50, 10, 1])
    popular = novelty(np.array([[0, 1]]), counts, 100)
    niche = novelty(np.array([[2, 3]]), counts, 100)
    assert niche > popular


@pytest.mark.parametrize(
    ("recs", "counts", "n_users", "match"),
    [
        (np.array([[0, 1]]), np.array([1, 2]), 0, "n_users must be >= 1"),
        (np.array([[0, 1]]), np.array([[1, 2]]), 3, "1-D"),
        (np.array([[0, 1]]), np.array([1, 4]), 3, "0..n_users"),
        (np.array([[0, 1]]), np.array([-1, 2]), 3, "0..n_users"),
        (np.array([[0, 1]]), np.array([0.5, 2]), 3, "whole numbers"),
        (np.array([[0, 2]]), np.array([1, 2]), 3, "0..n_items-1"),
        (np.array([[-1, -1]]), np.array([1, 2]), 3, "only padding"),
    ],
)
def test_novelty_errors(recs, counts, n_users, match):
    with pytest.raises(ValueError, match=match):
        novelty(recs, counts, n_users)


# ---------------------------------------------------------------------------
# Rating prediction
# ---------------------------------------------------------------------------


def test_rmse_mae_example():
    y_true = [1.0, 2.0, 3.0]
    y_pred = [1.0, 4.0, 0.0]
    # errors 0, 2, -3; squares 0, 4, 9 -> mean 13/3 -> sqrt = 2.0817
    assert rmse(y_true, y_pred) == pytest.approx(math.sqrt(13 / 3))
    # absolute errors 0, 2, 3 -> mean 5/3
    assert mae(y_true, y_pred) == pytest.approx(5 / 3)
    assert rmse(y_true, y_true) == 0.0
    assert mae(np.array([[4.0]]), np.array([[3.5]])) == pytest.approx(0.5)
    assert isinstance(rmse(y_true, y_pred), float)
    assert isinstance(mae(y_true, y_pred), float)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 5), st.floats(0, 5)), min_size=1, max_size=20))
def test_rmse_at_least_mae(pairs):
    y_true, y_pred = zip(*pairs, strict=True)
    assert rmse(y_true, y_pred) >= mae(y_true, y_pred) - 1e-12


@pytest.mark.parametrize("fn", [rmse, mae])
@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        ([1.0, 2.0], [1.0], "same shape"),
        ([], [], "empty"),
        ([1.0, np.nan], [1.0, 2.0], "y_true contains 1 NaN"),
        ([1.0, 2.0], [np.nan, 2.0], "y_pred contains 1 NaN"),
        ([1.0, 2.0], [np.inf, 2.0], "infinite"),
    ],
)
def test_rmse_mae_errors(fn, y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        fn(y_true, y_pred)


def test_rating_inputs_not_mutated():
    y_true = np.array([1.0, 2.0])
    y_pred = np.array([2.0, 2.0])
    rmse(y_true, y_pred)
    mae(y_true, y_pred)
    np.testing.assert_array_equal(y_true, [1.0, 2.0])
    np.testing.assert_array_equal(y_pred, [2.0, 2.0])


# ---------------------------------------------------------------------------
# Concentration: gini and top_share
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # sorted [1, 2, 2, 2, 3]: sum((2i - 6) x_i) = -4 - 4 + 0 + 4 + 12 = 8;
        # n * sum = 5 * 10 = 50 -> 0.16
        ([2, 3, 1, 2, 2], 0.16),
        # one item holds everything: (2*4 - 5) * 4 / (4 * 4) = 3/4 = 1 - 1/n
        ([0, 0, 0, 4], 0.75),
        # [0, 1, 3]: (-2*0 + 0*1 + 2*3) / (3 * 4) = 6/12
        ([3, 0, 1], 0.5),
        ([7], 0.0),
        ([], 0.0),
        ([0, 0, 0], 0.0),
    ],
)
def test_gini_hand(counts, expected):
    assert gini(np.array(counts)) == pytest.approx(expected)
    assert isinstance(gini(counts), float)


@pytest.mark.parametrize("n", [1, 2, 5, 100])
def test_gini_equal_counts_is_zero(n):
    assert gini(np.full(n, 3)) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=30), st.integers(1, 9))
def test_gini_range_and_scale_invariance(counts, factor):
    x = np.array(counts)
    g = gini(x)
    assert -1e-12 <= g <= 1 - 1 / x.size + 1e-12
    assert gini(factor * x) == pytest.approx(g)
    assert gini(x[::-1]) == pytest.approx(g)  # order does not matter


def test_gini_does_not_mutate_its_input():
    x = np.array([3, 1, 2])
    gini(x)
    np.testing.assert_array_equal(x, [3, 1, 2])


@pytest.mark.parametrize(
    ("counts", "fraction", "expected"),
    [
        ([5, 3, 1, 1], 0.25, 5 / 10),  # the top 1 of 4 items
        ([5, 3, 1, 1], 0.5, 8 / 10),  # the top 2
        ([1, 1, 5, 3], 0.5, 8 / 10),  # order of the input does not matter
        ([5, 3, 1, 1], 1.0, 1.0),
        ([5, 3, 1, 1], 0.01, 5 / 10),  # at least one item
        ([0, 0, 9, 0], 0.25, 1.0),
        ([0, 0], 0.5, 0.0),
        ([], 0.5, 0.0),
    ],
)
def test_top_share_hand(counts, fraction, expected):
    assert top_share(np.array(counts), fraction) == pytest.approx(expected)
    assert isinstance(top_share(counts, fraction), float)


@pytest.mark.parametrize(("n", "fraction"), [(10, 0.1), (10, 0.3), (7, 0.5)])
def test_top_share_of_equal_counts_is_its_floor(n, fraction):
    top = max(1, round(fraction * n))
    assert top_share(np.full(n, 4), fraction) == pytest.approx(top / n)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 1000), min_size=1, max_size=30),
    st.floats(0.01, 1.0),
)
def test_top_share_range_and_monotone(counts, fraction):
    x = np.array(counts)
    share = top_share(x, fraction)
    if x.sum() == 0:
        assert share == 0.0
        return
    top = max(1, round(fraction * x.size))
    assert top / x.size - 1e-12 <= share <= 1 + 1e-12
    assert top_share(x, 1.0) == pytest.approx(1.0)
    assert top_share(x, fraction) <= top_share(x, min(1.0, fraction + 0.2)) + 1e-12


@pytest.mark.parametrize("fn", [gini, lambda c: top_share(c, 0.1)])
@pytest.mark.parametrize(
    ("counts", "match"),
    [
        (np.array([[1, 2]]), "counts must be a 1-D array, got 2 dimension"),
        (np.array([1, -2, 3]), r"counts must be >= 0, got \[-2.0\]"),
        (np.array([1.0, np.nan]), r"counts must be finite, got \[nan\]"),
        (np.array(["a", "b"]), "counts must be numbers"),
    ],
)
def test_concentration_errors_name_the_argument(fn, counts, match):
    with pytest.raises(ValueError, match=match):
        fn(counts)


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, True, "0.1", None])
def test_top_share_rejects_bad_fraction(fraction):
    with pytest.raises(
        ValueError, match=re.escape(f"fraction must be in (0, 1], got {fraction!r}")
    ):
        top_share(np.array([1, 2]), fraction)
