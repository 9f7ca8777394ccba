"""Every exercise check: the reference answer passes, plausible wrong answers fail.

For each ``check_*`` of every module of :mod:`recsys_helpers.exercises` this
file holds a reference answer (what a solution notebook writes) and at least
one plausible wrong answer (an off-by-one, the seed's bug, seen items not
excluded, a wrong normalisation, ...). A wrong answer must be rejected with a
falsy result and a printed "not yet" message (with the expected diagnosis
where the check gives one); a stub must get the hint. A meta test makes sure
no check is left out.

The checks that run on ``data.load("shop")`` get answers that do not depend
on the shop's exact numbers.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import svds

import recsys_helpers.exercises as exercises
from recsys_helpers import evaluation
from recsys_helpers.columns import ITEM, USER
from recsys_helpers.exercises import (
    collaborative,
    comparison,
    content,
    factorization,
    getting_started,
    two_tower,
)
from recsys_helpers.models.factorization import als_loss as package_als_loss
from tests.exercise_cases import Exercise, _stub


# ===================================================== 00 getting started
def recall_at_k(recommended, relevant, k):
    return sum(item in relevant for item in recommended[:k]) / len(relevant)


def popular_unseen(train, user_id, n):
    pairs = train.interactions.drop_duplicates([USER, ITEM])  # a user once
    counts = pairs.groupby(ITEM).size().rename("count").reset_index()
    seen = set(pairs.loc[pairs[USER] == user_id, ITEM])
    unseen = counts[~counts[ITEM].isin(seen)]
    ranked = unseen.sort_values(["count", ITEM], ascending=[False, True])
    return ranked[ITEM].head(n).tolist()


def _popular_counting_events(train, user_id, n):
    inter = train.interactions  # a repeat purchase counted as a second vote
    counts = inter.groupby(ITEM).size().rename("count").reset_index()
    seen = set(inter.loc[inter[USER] == user_id, ITEM])
    unseen = counts[~counts[ITEM].isin(seen)]
    ranked = unseen.sort_values(["count", ITEM], ascending=[False, True])
    return ranked[ITEM].head(n).tolist()


def _popular_with_seen(train, user_id, n):
    pairs = train.interactions.drop_duplicates([USER, ITEM])
    counts = pairs.groupby(ITEM).size().rename("count").reset_index()
    ranked = counts.sort_values(["count", ITEM], ascending=[False, True])
    return ranked[ITEM].head(n).tolist()


def _popular_ties_by_larger_id(train, user_id, n):
    pairs = train.interactions.drop_duplicates([USER, ITEM])
    counts = pairs.groupby(ITEM).size().rename("count").reset_index()
    seen = set(pairs.loc[pairs[USER] == user_id, ITEM])
    unseen = counts[~counts[ITEM].isin(seen)]
    ranked = unseen.sort_values(["count", ITEM], ascending=[False, False])
    return ranked[ITEM].head(n).tolist()


def user_history(ds, user_id):
    ds.user_index([user_id])  # raises on a mistyped or unknown id
    inter = ds.interactions
    return set(inter.loc[inter[USER] == user_id, ITEM])


def _user_history_seed_bug(ds, user_id):
    inter = ds.interactions  # '1' matches nothing: an empty set, silently
    return set(inter.loc[inter[USER] == user_id, ITEM])


def _user_history_casts(ds, user_id):
    inter = ds.interactions  # hides the mix-up instead of reporting it
    return set(inter.loc[inter[USER] == int(user_id), ITEM])


GETTING_STARTED = [
    Exercise(
        getting_started.check_recall_at_k,
        recall_at_k,
        {
            "precision (divides by k)": (
                lambda rec, rel, k: sum(i in rel for i in rec[:k]) / k,
                "expected",
            ),
            "off by one (k + 1 items)": (
                lambda rec, rel, k: recall_at_k(rec, rel, k + 1),
                "expected",
            ),
            "whole list, no cut-off": (
                lambda rec, rel, k: recall_at_k(rec, rel, len(rec)),
                "expected",
            ),
        },
    ),
    Exercise(
        getting_started.check_popular_unseen,
        popular_unseen,
        {
            "counts events, not users": (_popular_counting_events, "user 5"),
            "seen items not excluded": (_popular_with_seen, "for user"),
            "ties broken by the larger id": (_popular_ties_by_larger_id, "user 1"),
        },
    ),
    Exercise(
        getting_started.check_user_history,
        user_history,
        {
            "the seed's '1' bug": (_user_history_seed_bug, "raising TypeError"),
            "casts the id silently": (_user_history_casts, "raising TypeError"),
        },
    ),
]


# ===================================================== 01 content filtering
def create_user_profile(ds, item_vectors, user_id):
    bought = ds.interactions.loc[ds.interactions[USER] == user_id, ITEM].to_numpy()
    return np.asarray(item_vectors[ds.item_index(bought)].mean(axis=0)).ravel()


def _profile_assumes_sorted_catalogue(ds, item_vectors, user_id):
    bought = ds.interactions.loc[ds.interactions[USER] == user_id, ITEM].to_numpy()
    rows = np.searchsorted(np.sort(ds.item_ids), bought)  # rows != sorted ids
    return np.asarray(item_vectors[rows].mean(axis=0)).ravel()


def _profile_sum(ds, item_vectors, user_id):
    bought = ds.interactions.loc[ds.interactions[USER] == user_id, ITEM].to_numpy()
    return np.asarray(item_vectors[ds.item_index(bought)].sum(axis=0)).ravel()


def recency_weights(timestamps, half_life_days):
    timestamps = np.asarray(timestamps, dtype=float)
    age_days = (timestamps.max() - timestamps) / 86_400
    return 0.5 ** (age_days / half_life_days)


def _weights_from_the_oldest(timestamps, half_life_days):
    timestamps = np.asarray(timestamps, dtype=float)
    return 0.5 ** ((timestamps - timestamps.min()) / 86_400 / half_life_days)


def _weights_in_seconds(timestamps, half_life_days):
    timestamps = np.asarray(timestamps, dtype=float)
    return 0.5 ** ((timestamps.max() - timestamps) / half_life_days)


def more_like_this(item_vectors, item, n):
    scores = (item_vectors[item] @ item_vectors.T).toarray().ravel()
    scores[item] = -np.inf
    return np.argsort(-scores, kind="stable")[:n]


def _more_like_this_with_itself(item_vectors, item, n):
    scores = (item_vectors[item] @ item_vectors.T).toarray().ravel()
    return np.argsort(-scores, kind="stable")[:n]


def _more_like_this_least_similar(item_vectors, item, n):
    scores = (item_vectors[item] @ item_vectors.T).toarray().ravel()
    scores[item] = np.inf
    return np.argsort(scores, kind="stable")[:n]  # ascending: the wrong end


def top_k_unseen_content(scores, seen, k):
    masked = np.where(seen.toarray() > 0, -np.inf, scores)
    return np.argsort(-masked, axis=1, kind="stable")[:, :k]


def _top_k_with_seen(scores, seen, k):
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def _top_k_in_place(scores, seen, k):
    scores[seen.toarray() > 0] = -np.inf  # changes the caller's array
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


CONTENT = [
    Exercise(
        content.check_user_profile,
        create_user_profile,
        {
            "assumes a sorted catalogue": (
                _profile_assumes_sorted_catalogue,
                "wrong profile",
            ),
            "sum instead of mean": (_profile_sum, "wrong profile"),
        },
    ),
    Exercise(
        content.check_recency_weights,
        recency_weights,
        {
            "age from the oldest": (_weights_from_the_oldest, "latest interaction"),
            "age in seconds": (_weights_in_seconds, "half-life"),
        },
    ),
    Exercise(
        content.check_more_like_this,
        more_like_this,
        {
            "the item itself included": (_more_like_this_with_itself, "like itself"),
            "least similar first": (_more_like_this_least_similar, "most similar"),
        },
    ),
    Exercise(
        content.check_top_k_unseen,
        top_k_unseen_content,
        {
            "seen items not excluded": (_top_k_with_seen, "already bought"),
            "scores modified in place": (_top_k_in_place, "do not modify"),
        },
    ),
]


# ============================================== 02 collaborative filtering
def cosine_with_shrinkage(x, shrinkage):
    counts = x.sum(axis=1)
    denominator = np.sqrt(np.outer(counts, counts)) + shrinkage
    sim = np.divide(
        x @ x.T, denominator, out=np.zeros(denominator.shape), where=denominator > 0
    )
    np.fill_diagonal(sim, 0.0)
    return sim


def _cosine_keeps_diagonal(x, shrinkage):
    sim = cosine_with_shrinkage(x, shrinkage)
    counts = x.sum(axis=1)
    np.fill_diagonal(sim, counts / (counts + shrinkage + (counts == 0)))
    return sim


def explain(user_items, similarity, item, n):
    contribution = user_items * similarity[:, item]
    order = np.argsort(-contribution, kind="stable")[:n]
    return order[contribution[order] > 0]


def _explain_keeps_zeros(user_items, similarity, item, n):
    contribution = user_items * similarity[:, item]
    return np.argsort(-contribution, kind="stable")[:n]


def rank_unseen(scores, seen, n):
    scores = np.array(scores, dtype=float)
    scores[seen] = -np.inf
    order = np.argsort(-scores, kind="stable")[:n]
    return order[np.isfinite(scores[order])]


def _rank_unseen_pads_with_seen(scores, seen, n):
    scores = np.array(scores, dtype=float)
    scores[seen] = -np.inf
    return np.argsort(-scores, kind="stable")[:n]  # -inf items fill the list


def jaccard(x):
    overlap = x @ x.T
    counts = x.sum(axis=1)
    union = counts[:, None] + counts[None, :] - overlap
    sim = np.divide(overlap, union, out=np.zeros(union.shape), where=union > 0)
    np.fill_diagonal(sim, 0.0)
    return sim


def _jaccard_unguarded(x):
    overlap = x @ x.T
    counts = x.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = overlap / (counts[:, None] + counts[None, :] - overlap)
    np.fill_diagonal(sim, 0.0)
    return sim


COLLABORATIVE = [
    Exercise(
        collaborative.check_cosine_with_shrinkage,
        cosine_with_shrinkage,
        {
            "shrinkage forgotten": (
                lambda x, s: cosine_with_shrinkage(x, 0.0),
                "with s=1.0",
            ),
            "diagonal kept": (_cosine_keeps_diagonal, "diagonal must be 0"),
        },
    ),
    Exercise(
        collaborative.check_explain,
        explain,
        {
            "similarity transposed": (
                lambda ui, sim, item, n: explain(ui, sim.T, item, n),
                "explaining item",
            ),
            "zero contributions kept": (
                _explain_keeps_zeros,
                "are not items the user has",
            ),
        },
    ),
    Exercise(
        collaborative.check_rank_unseen,
        rank_unseen,
        {
            "seen items kept": (
                lambda scores, seen, n: np.argsort(-scores)[:n],
                "already seen",
            ),
            "padded with seen items": (_rank_unseen_pads_with_seen, "already seen"),
        },
    ),
    Exercise(
        collaborative.check_jaccard,
        jaccard,
        {
            "cosine instead": (lambda x: cosine_with_shrinkage(x, 0.0), "jaccard("),
            "0 / 0 for empty rows": (_jaccard_unguarded, "NaN or inf"),
        },
    ),
]


# ================================================ 03 matrix factorisation
def pure_svd_scores(user_items, k):
    _, _, vt = svds(user_items, k=k)
    return np.asarray(user_items @ vt.T) @ vt


def _pure_svd_centred(user_items, k):
    dense = user_items.toarray()
    dense = dense - dense.mean(axis=1, keepdims=True)
    _, _, vt = np.linalg.svd(dense, full_matrices=False)
    return dense @ vt[:k].T @ vt[:k]


def _pure_svd_not_projected_back(user_items, k):
    _, _, vt = svds(user_items, k=k)
    return np.asarray(user_items @ vt.T)  # users x k, not users x items


def als_user_update(user_items, y, regularization, alpha):
    dense = user_items.toarray()
    out = np.empty((dense.shape[0], y.shape[1]))
    for u, row in enumerate(dense):
        c = 1.0 + alpha * row
        a = (y.T * c) @ y + regularization * np.eye(y.shape[1])
        out[u] = np.linalg.solve(a, (y.T * c) @ (row > 0))
    return out


def als_loss(user_items, x, y, regularization, alpha):
    cui = user_items.copy()
    cui.data = alpha * cui.data
    return package_als_loss(cui, x, y, regularization)


def _als_loss_bought_cells_only(user_items, x, y, regularization, alpha):
    coo = user_items.tocoo()
    s = np.einsum("nf,nf->n", x[coo.row], y[coo.col])
    bought = np.sum((1 + alpha * coo.data) * (1 - s) ** 2)
    return float(bought + regularization * (np.sum(x**2) + np.sum(y**2)))


FACTORIZATION = [
    Exercise(
        factorization.check_pure_svd_scores,
        pure_svd_scores,
        {
            "mean-centred first": (_pure_svd_centred, "mean-centred"),
            "not projected back": (_pure_svd_not_projected_back, "expected shape"),
        },
    ),
    Exercise(
        factorization.check_als_user_update,
        als_user_update,
        {
            "confidence missing": (
                lambda r, y, reg, alpha: als_user_update(r, y, reg, 0.0),
                "confidence is missing",
            ),
            "regularisation missing": (
                lambda r, y, reg, alpha: als_user_update(r, y, 0.0, alpha),
                "the user vectors differ",
            ),
        },
    ),
    Exercise(
        factorization.check_als_loss,
        als_loss,
        {
            "bought cells only": (_als_loss_bought_cells_only, "expected"),
            "no penalty": (lambda r, x, y, reg, a: als_loss(r, x, y, 0.0, a), "got"),
            "confidence missing": (
                lambda r, x, y, reg, a: als_loss(r, x, y, reg, 0.0),
                "expected",
            ),
        },
    ),
]


# ======================================================== 05 two-tower
def in_batch_logits(query, candidates, item_ids, sampling_prob, temperature):
    logits = query @ candidates.T / temperature - np.log(sampling_prob)[None, :]
    same_item = item_ids[:, None] == item_ids[None, :]
    return np.where(same_item & ~np.eye(len(item_ids), dtype=bool), -np.inf, logits)


def _logits_without_mask(query, candidates, item_ids, sampling_prob, temperature):
    return query @ candidates.T / temperature - np.log(sampling_prob)[None, :]


def _logits_row_probability(query, candidates, item_ids, sampling_prob, temperature):
    logits = query @ candidates.T / temperature - np.log(sampling_prob)[:, None]
    same_item = item_ids[:, None] == item_ids[None, :]
    return np.where(same_item & ~np.eye(len(item_ids), dtype=bool), -np.inf, logits)


def in_batch_softmax_loss(logits):
    top = logits.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    return float(np.mean(log_z - np.diag(logits)))


def _loss_unstable(logits):
    with np.errstate(over="ignore", invalid="ignore"):
        log_z = np.log(np.exp(logits).sum(axis=1))  # overflows at +1000
    return float(np.mean(log_z - np.diag(logits)))


def top_k_unseen_towers(user_vectors, item_vectors, seen, k):
    scores = user_vectors @ item_vectors.T
    scores[seen.nonzero()] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def _towers_top_k_with_seen(user_vectors, item_vectors, seen, k):
    return np.argsort(-(user_vectors @ item_vectors.T), axis=1)[:, :k]


def _towers_top_k_worst_first(user_vectors, item_vectors, seen, k):
    return top_k_unseen_towers(user_vectors, item_vectors, seen, k)[:, ::-1]


def cosine_scores(user_table, item_table, temperature):
    users = user_table / np.linalg.norm(user_table, axis=1, keepdims=True)
    items = item_table / np.linalg.norm(item_table, axis=1, keepdims=True)
    return users @ items.T / temperature


TWO_TOWER = [
    Exercise(
        two_tower.check_in_batch_logits,
        in_batch_logits,
        {
            "no log-Q correction": (
                lambda q, c, ids, p, t: in_batch_logits(q, c, ids, np.ones_like(p), t),
                "log-Q correction",
            ),
            "accidental hits kept": (_logits_without_mask, "accidental hit"),
            "the row's probability": (_logits_row_probability, "column's item"),
        },
    ),
    Exercise(
        two_tower.check_in_batch_softmax_loss,
        in_batch_softmax_loss,
        {
            "overflows": (_loss_unstable, "row's maximum"),
            "sum instead of mean": (
                lambda logits: in_batch_softmax_loss(logits) * len(logits),
                "mean over rows",
            ),
        },
    ),
    Exercise(
        two_tower.check_top_k_unseen,
        top_k_unseen_towers,
        {
            "seen items kept": (_towers_top_k_with_seen, "seen item was recommended"),
            "worst first": (_towers_top_k_worst_first, "not best first"),
        },
    ),
    Exercise(
        two_tower.check_cosine_scores,
        cosine_scores,
        {
            "not normalised": (lambda p, q, t: p @ q.T / t, "L2-normalise"),
            "temperature forgotten": (
                lambda p, q, t: cosine_scores(p, q, 1.0),
                "/ temperature",
            ),
        },
    ),
]


# ======================================================== 11 comparison
def coverage(top_items, n_items):
    return np.unique(top_items[top_items >= 0]).size / n_items


def beats(values_a, values_b):
    return evaluation.paired_bootstrap(values_a, values_b)["low"] > 0


def mean_popularity(top_items, train):
    share = np.asarray(train.to_csr().sum(axis=0)).ravel() / train.n_users
    return float(share[top_items[top_items >= 0]].mean())


def _popularity_with_padding(top_items, train):
    share = np.asarray(train.to_csr().sum(axis=0)).ravel() / train.n_users
    return float(share[top_items].mean())  # -1 reads the last item


def _popularity_counting_events(top_items, train):
    rows = train.item_index(train.interactions[ITEM].to_numpy())
    share = np.bincount(rows, minlength=train.n_items) / train.n_users
    return float(share[top_items[top_items >= 0]].mean())


COMPARISON = [
    Exercise(
        comparison.check_coverage,
        coverage,
        {
            "-1 counted as an item": (
                lambda top, n: np.unique(top).size / n,
                "you returned",
            ),
            "over the list slots": (
                lambda top, n: np.unique(top[top >= 0]).size / top.size,
                "you returned",
            ),
        },
    ),
    Exercise(
        comparison.check_beats,
        beats,
        {
            "a higher mean": (lambda a, b: a.mean() > b.mean(), "expected False"),
            "the upper bound": (
                lambda a, b: evaluation.paired_bootstrap(a, b)["high"] > 0,
                "expected False",
            ),
        },
    ),
    Exercise(
        comparison.check_mean_popularity,
        mean_popularity,
        {
            "padding included": (_popularity_with_padding, "'small'"),
            "counts events, not users": (_popularity_counting_events, "'small'"),
            "divides by the items": (
                lambda top, train: (
                    mean_popularity(top, train) * train.n_users / train.n_items
                ),
                "'small'",
            ),
        },
    ),
]


def _cases_of_later_lessons() -> list[Exercise]:
    """The EXERCISES of each ``tests/exercise_cases_<topic>.py`` (one per lesson)."""
    found: list[Exercise] = []
    for path in sorted(Path(__file__).parent.glob("exercise_cases_*.py")):
        found += importlib.import_module(f"tests.{path.stem}").EXERCISES
    return found


EXERCISES = GETTING_STARTED + CONTENT + COLLABORATIVE + FACTORIZATION + TWO_TOWER
EXERCISES += COMPARISON + _cases_of_later_lessons()
WRONG = [
    pytest.param(ex.check, answer, text, id=f"{ex.name}: {label}")
    for ex in EXERCISES
    for label, (answer, text) in ex.wrong.items()
]


def _ids(exercises):
    return [ex.name for ex in exercises]


# ------------------------------------------------------------------- tests
def _all_checks():
    found = []
    for info in pkgutil.iter_modules(exercises.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"recsys_helpers.exercises.{info.name}")
        found += [
            fn
            for name, fn in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("check_") and fn.__module__ == module.__name__
        ]
    return found


def test_every_check_of_every_module_is_tested():
    checks = _all_checks()
    assert len(checks) >= 20
    tested = {ex.check for ex in EXERCISES if ex.wrong}
    missing = [f"{fn.__module__}.{fn.__name__}" for fn in checks if fn not in tested]
    assert not missing, f"checks without a wrong-answer test: {missing}"


def test_modules_are_named_by_topic():
    names = {i.name for i in pkgutil.iter_modules(exercises.__path__)}
    assert names == {
        "_core",
        "collaborative",
        "comparison",
        "content",
        "factorization",
        "getting_started",
        "multi_stage",
        "online_evaluation",
        "ranking_losses",
        "scaling",
        "sequential",
        "serving",
        "two_tower",
    }


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids(EXERCISES))
def test_reference_answer_passes(exercise, capsys):
    result = exercise.check(exercise.solution)
    out = capsys.readouterr().out
    assert result, out
    assert out.endswith("correct!\n")
    assert "Hint" not in out


@pytest.mark.parametrize(("check", "answer", "text"), WRONG)
def test_plausible_wrong_answer_fails(check, answer, text, capsys):
    result = check(answer)
    out = capsys.readouterr().out
    assert not result, f"a wrong answer passed: {out}"
    assert result.attempted
    assert ": not yet. " in out
    assert text in out, out
    assert "Hint: " in out


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids(EXERCISES))
def test_stub_gets_a_hint_that_does_not_give_the_answer_away(exercise, capsys):
    result = exercise.check(_stub)
    out = capsys.readouterr().out
    assert not result and not result.attempted
    assert ": not attempted yet. Hint: " in out
    hint = out.split("Hint: ", 1)[1]
    # a hint guides in words; code (assignments, matrix products, slices,
    # method chains on arrays) would be the solution itself
    for pattern in (r"\w\s*=\s*\w", r"@", r"\[:", r"np\.\w+\(", r"\.T\b"):
        assert not re.search(pattern, hint), f"hint shows code ({pattern}): {hint}"


def test_a_stub_returning_none_counts_as_not_attempted(capsys):
    result = getting_started.check_recall_at_k(lambda *args: None)
    assert not result and not result.attempted
    assert "not attempted yet" in capsys.readouterr().out


def test_small_datasets_are_what_their_docstrings_say():
    shop = getting_started._repeat_shop()
    assert len(shop.interactions) == 10  # the event log keeps the 2 repeats
    per_item = np.diff(shop.to_csr().tocsc().indptr)
    np.testing.assert_array_equal(per_item, [1, 2, 3, 2])
    small = comparison._small_shop()
    assert len(small.interactions) == 8
    share = np.asarray(small.to_csr().sum(axis=0)).ravel() / small.n_users
    np.testing.assert_allclose(share, [0.4, 0.6, 0.2, 0.0])


def test_two_tower_references_agree_with_the_reference_answers():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(5, 3))
    c = rng.normal(size=(5, 3))
    ids = np.array([1, 2, 1, 3, 2])
    p = rng.uniform(0.1, 0.5, 5)
    np.testing.assert_array_equal(
        two_tower.reference_in_batch_logits(q, c, ids, p, 0.5),
        in_batch_logits(q, c, ids, p, 0.5),
    )
    logits = rng.normal(size=(4, 4))
    assert two_tower.reference_in_batch_softmax_loss(logits) == pytest.approx(
        in_batch_softmax_loss(logits)
    )
    seen = sp.csr_matrix(np.eye(4, 6))
    users, items = rng.normal(size=(4, 2)), rng.normal(size=(6, 2))
    np.testing.assert_array_equal(
        two_tower.reference_top_k_unseen(users, items, seen, 3),
        top_k_unseen_towers(users, items, seen, 3),
    )


def test_popular_unseen_reference_agrees_with_popularity_on_toy():
    from recsys_helpers import data, models

    toy = data.load("toy")
    model = models.Popularity().fit(toy)
    for user in toy.user_ids:
        assert (
            popular_unseen(toy, user, 3) == model.recommend(user, n=3).item_id.tolist()
        )
