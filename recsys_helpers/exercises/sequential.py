"""Checks for the exercises of lesson ``06_sequential`` (what comes next).

Every exercise is plain NumPy (no TensorFlow needed): the transition counts of
the first-order model, SASRec's causal attention mask, its next-item softmax
loss, and the sampled rank that inflates HR@10.

    from recsys_helpers.exercises import sequential
    sequential.check_transition_counts(transition_counts)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = [
    "check_causal_mask",
    "check_next_item_loss",
    "check_sampled_rank",
    "check_transition_counts",
    "reference_causal_mask",
    "reference_next_item_loss",
    "reference_sampled_rank",
    "reference_transition_counts",
]


def reference_transition_counts(sequences: list[list[int]], n_items: int) -> np.ndarray:
    """C[a, b] = times b directly followed a within one user's sequence."""
    counts = np.zeros((n_items, n_items), dtype=np.int64)
    for seq in sequences:
        for a, b in itertools.pairwise(seq):
            counts[a, b] += 1
    return counts


def reference_causal_mask(valid: np.ndarray) -> np.ndarray:
    """mask[t, t'] = (t' <= t) and valid[t']: what position t may attend to."""
    valid = np.asarray(valid, dtype=bool)
    causal = np.tril(np.ones((valid.size, valid.size), dtype=bool))
    return causal & valid[None, :]


def reference_next_item_loss(logits: np.ndarray, targets: np.ndarray) -> float:
    """Mean over positions with target >= 0 of -log softmax(logits_t)[target_t]."""
    keep = targets >= 0
    rows, y = logits[keep], targets[keep]
    top = rows.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(rows - top).sum(axis=1))
    return float(np.mean(log_z - rows[np.arange(y.size), y]))


def reference_sampled_rank(
    scores: np.ndarray, target: int, negatives: np.ndarray
) -> int:
    """How many sampled negatives score strictly above the target (0 = first)."""
    return int(np.sum(scores[negatives] > scores[target]))


def check_transition_counts(
    transition_counts: Callable[[list[list[int]], int], np.ndarray],
) -> CheckResult:
    """Exercise 1: the counts of the first-order "what follows what" model."""

    def test() -> None:
        sequences = [[0, 1, 2], [2, 3], [1, 1, 0], [4]]
        got = np.asarray(transition_counts(sequences, 5))
        want = reference_transition_counts(sequences, 5)
        assert got.shape == (5, 5), f"shape {got.shape}, expected (5, 5)."
        if np.array_equal(got, want.T):
            raise AssertionError(
                "the rows and columns are swapped: row a, column b counts a -> b."
            )
        joined = reference_transition_counts([list(itertools.chain(*sequences))], 5)
        if np.array_equal(got, joined):
            raise AssertionError(
                "a transition crosses from one user's last item to the next "
                "user's first item (2 -> 2, 3 -> 1, 0 -> 4): count within a user."
            )
        assert got[1, 1] == 1, (
            "a repeat (item 1 bought twice in a row) is a transition 1 -> 1."
        )
        assert np.array_equal(got, want), "some counts differ from C[a, b]."

    return run_check(
        "Exercise 1 (transition counts)",
        "walk through each user's sequence separately and add one to the cell "
        "of every consecutive pair, row for the earlier item and column for the "
        "later one; a repeat counts too.",
        test,
    )


def check_causal_mask(causal_mask: Callable[[np.ndarray], np.ndarray]) -> CheckResult:
    """Exercise 2: SASRec's attention mask for one left-padded sequence."""

    def test() -> None:
        valid = np.array([False, False, True, True, True, True])
        got = np.asarray(causal_mask(valid.copy()), dtype=bool)
        want = reference_causal_mask(valid)
        assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}."
        if np.any(got & ~np.tril(np.ones_like(got))):
            raise AssertionError(
                "a position attends to a later one: it would read the future "
                "(the very item it must predict)."
            )
        if np.any(got[:, ~valid]):
            raise AssertionError("a position attends to padding (valid is False).")
        assert np.array_equal(got, want), (
            "a position must see itself and every earlier real item."
        )

    return run_check(
        "Exercise 2 (causal mask)",
        "start from a lower-triangular square of True values (the diagonal "
        "included), then switch off every column whose position is padding.",
        test,
    )


def check_next_item_loss(
    next_item_loss: Callable[[np.ndarray, np.ndarray], float],
) -> CheckResult:
    """Exercise 3: full softmax cross-entropy, padding targets ignored."""

    def test() -> None:
        rng = np.random.default_rng(13)
        logits = rng.normal(scale=3.0, size=(7, 9))
        targets = np.array([-1, -1, 4, 0, 8, 4, 2])
        got = float(next_item_loss(logits.copy(), targets.copy()))
        want = reference_next_item_loss(logits, targets)
        with_padding = reference_next_item_loss(logits, np.maximum(targets, 0))
        if abs(got - with_padding) < 1e-9:
            raise AssertionError(
                "padding positions (target -1) were counted: leave them out of "
                "the mean."
            )
        assert np.isfinite(got) and abs(got - want) < 1e-9, (
            f"got {got:.4f}, expected {want:.4f}: mean over real positions of "
            "log(sum_i exp(logits[t, i])) - logits[t, target_t]."
        )
        big = float(next_item_loss(logits + 1000.0, targets.copy()))
        assert np.isfinite(big) and abs(big - want) < 1e-6, (
            "adding 1000 to every logit must not change the loss (nor overflow): "
            "subtract each row's maximum before exponentiating."
        )

    return run_check(
        "Exercise 3 (next-item softmax loss)",
        "keep only the rows whose target is a real item; each is a softmax "
        "classification over the whole catalogue: its log-sum-exp minus the "
        "target's logit. Shift each row by its largest value first.",
        test,
    )


def check_sampled_rank(
    sampled_rank: Callable[[np.ndarray, int, np.ndarray], int],
) -> CheckResult:
    """Exercise 4: the target's rank among sampled negatives (HR@k's input)."""

    def test() -> None:
        scores = np.array([0.9, 0.1, 0.5, 0.5, 0.7, 0.2, 0.95, 0.3])
        negatives = np.array([0, 1, 3, 5, 7])
        got = int(sampled_rank(scores.copy(), 2, negatives.copy()))
        want = reference_sampled_rank(scores, 2, negatives)
        full = int(np.sum(scores > scores[2]))
        if got == full and full != want:
            raise AssertionError(
                "that is the rank in the full catalogue: count only the sampled "
                "negatives."
            )
        if got == want + 1:
            raise AssertionError(
                "a tie (item 3 scores the same as the target) does not push the "
                "target down, or the target counts itself: count strictly "
                "greater scores."
            )
        assert got == want, f"got rank {got}, expected {want}."

    return run_check(
        "Exercise 4 (sampled rank)",
        "compare the target's score with the scores of the sampled items only, "
        "and count those strictly above it.",
        test,
    )
