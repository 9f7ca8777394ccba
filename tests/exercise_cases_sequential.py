"""Exercise cases of lesson 06 (sequential): references pass, wrong answers fail."""

from __future__ import annotations

import itertools

import numpy as np

from recsys_helpers.exercises import sequential
from tests.exercise_cases import Exercise


def transition_counts(sequences, n_items):
    counts = np.zeros((n_items, n_items), dtype=int)
    for seq in sequences:
        np.add.at(counts, (seq[:-1], seq[1:]), 1)
    return counts


def _counts_transposed(sequences, n_items):
    return transition_counts(sequences, n_items).T


def _counts_across_users(sequences, n_items):
    return transition_counts([list(itertools.chain(*sequences))], n_items)


def _counts_without_repeats(sequences, n_items):
    counts = transition_counts(sequences, n_items)
    np.fill_diagonal(counts, 0)
    return counts


def causal_mask(valid):
    return np.tril(np.ones((len(valid), len(valid)), dtype=bool)) & valid[None, :]


def _mask_future(valid):
    return np.triu(np.ones((len(valid), len(valid)), dtype=bool)) & valid[None, :]


def _mask_padding_kept(valid):
    return np.tril(np.ones((len(valid), len(valid)), dtype=bool))


def _mask_without_diagonal(valid):
    return np.tril(np.ones((len(valid), len(valid)), dtype=bool), -1) & valid[None, :]


def next_item_loss(logits, targets):
    keep = targets >= 0
    rows, y = logits[keep], targets[keep]
    rows = rows - rows.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(rows).sum(axis=1))
    return float(np.mean(log_z - rows[np.arange(len(y)), y]))


def _loss_with_padding(logits, targets):
    return next_item_loss(logits, np.maximum(targets, 0))


def _loss_unshifted(logits, targets):
    keep = targets >= 0
    rows, y = logits[keep], targets[keep]
    with np.errstate(over="ignore", invalid="ignore"):
        log_z = np.log(np.exp(rows).sum(axis=1))
    return float(np.mean(log_z - rows[np.arange(len(y)), y]))


def _loss_of_the_best_item(logits, targets):
    keep = targets >= 0
    rows = logits[keep] - logits[keep].max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(rows).sum(axis=1))))


def sampled_rank(scores, target, negatives):
    return int((scores[negatives] > scores[target]).sum())


def _rank_in_full_catalogue(scores, target, negatives):
    return int((scores > scores[target]).sum())


def _rank_counting_ties(scores, target, negatives):
    return int((scores[negatives] >= scores[target]).sum())


EXERCISES = [
    Exercise(
        sequential.check_transition_counts,
        transition_counts,
        wrong={
            "rows and columns swapped": (_counts_transposed, "swapped"),
            "across users": (_counts_across_users, "crosses from one user"),
            "repeats dropped": (_counts_without_repeats, "is a transition 1 -> 1"),
        },
    ),
    Exercise(
        sequential.check_causal_mask,
        causal_mask,
        wrong={
            "sees the future": (_mask_future, "read the future"),
            "attends to padding": (_mask_padding_kept, "attends to padding"),
            "not itself": (_mask_without_diagonal, "see itself"),
        },
    ),
    Exercise(
        sequential.check_next_item_loss,
        next_item_loss,
        wrong={
            "padding counted": (_loss_with_padding, "padding positions"),
            "overflows": (_loss_unshifted, "adding 1000"),
            "target logit missing": (_loss_of_the_best_item, "expected"),
        },
    ),
    Exercise(
        sequential.check_sampled_rank,
        sampled_rank,
        wrong={
            "full catalogue": (_rank_in_full_catalogue, "full catalogue"),
            "ties against the target": (_rank_counting_ties, "strictly"),
        },
    ),
]
