"""Exercise cases of lesson 04 (ranking losses): reference and wrong answers."""

from __future__ import annotations

import numpy as np

from recsys_helpers.exercises import ranking_losses
from tests.exercise_cases import Exercise


def bpr_loss(p, q, u, i, j):
    x = np.einsum("bf,bf->b", p[u], q[i] - q[j])
    return float(np.mean(np.logaddexp(0.0, -x)))


def _flipped(p, q, u, i, j):
    return bpr_loss(p, q, u, j, i)


def _summed(p, q, u, i, j):
    return bpr_loss(p, q, u, i, j) * len(u)


def _naive_sigmoid(p, q, u, i, j):
    x = np.einsum("bf,bf->b", p[u], q[i] - q[j])
    return float(np.mean(-np.log(1.0 / (1.0 + np.exp(-x)))))


def sample_negatives(user_items, users, rng):
    n_items = user_items.shape[1]
    counts = np.diff(user_items.indptr)
    keys = np.repeat(np.arange(user_items.shape[0]), counts) * n_items
    keys = np.sort(keys + user_items.indices)
    j = rng.integers(0, n_items, size=len(users))
    hit = np.isin(users * n_items + j, keys)
    while hit.any():
        j[hit] = rng.integers(0, n_items, size=int(hit.sum()))
        hit = np.isin(users * n_items + j, keys)
    return j


def _keeps_positives(user_items, users, rng):
    return rng.integers(0, user_items.shape[1], size=len(users))


def _first_free_item(user_items, users, rng):
    dense = user_items.toarray() > 0
    return np.argmax(~dense[users], axis=1)


def _one_redraw(user_items, users, rng):
    n_items = user_items.shape[1]
    dense = user_items.toarray() > 0
    j = rng.integers(0, n_items, size=len(users))
    hit = dense[users, j]
    j[hit] = rng.integers(0, n_items, size=int(hit.sum()))
    return j


def log_q_logits(users, items, probs):
    return users @ items.T - np.log(probs)[None, :]


EXERCISES = [
    Exercise(
        ranking_losses.check_bpr_loss,
        bpr_loss,
        {
            "pairs flipped": (_flipped, "other way round"),
            "summed": (_summed, "the sum over the batch"),
            "overflows": (_naive_sigmoid, "overflows"),
        },
    ),
    Exercise(
        ranking_losses.check_sample_negatives,
        sample_negatives,
        {
            "keeps positives": (_keeps_positives, "negatives were items the user"),
            "not random": (_first_free_item, "not spread evenly"),
            "one redraw only": (_one_redraw, "negatives were items the user"),
        },
    ),
    Exercise(
        ranking_losses.check_log_q_logits,
        log_q_logits,
        {
            "plus log Q": (
                lambda u, v, p: u @ v.T + np.log(p)[None, :],
                "bonus",
            ),
            "by row": (lambda u, v, p: u @ v.T - np.log(p)[:, None], "each column"),
            "divided": (lambda u, v, p: u @ v.T / p[None, :], "largest gap"),
        },
    ),
]
