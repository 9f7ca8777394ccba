"""Checks for the exercises of lesson ``04_ranking_losses``.

Each ``check_*`` calls the learner's function on fresh random inputs, compares
the result with a reference computed here and prints what is wrong (or a hint
for an untouched stub). Every check returns a result that is truthy when the
answer passes.

    from recsys_helpers.exercises import ranking_losses
    ranking_losses.check_bpr_loss(bpr_loss)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = ["check_bpr_loss", "check_log_q_logits", "check_sample_negatives"]


def _reference_bpr_loss(p, q, u, i, j) -> float:
    x = np.einsum("bf,bf->b", p[u], q[i] - q[j])
    return float(np.mean(np.logaddexp(0.0, -x)))


def check_bpr_loss(bpr_loss: Callable[..., Any]) -> CheckResult:
    """Exercise 1: the mean BPR loss of a batch of triples, overflow-free.

    ``bpr_loss(user_factors, item_factors, u, i, j)`` returns
    ``mean over the batch of -ln sigma(p_u . (q_i - q_j))`` as a float, and
    stays finite when the score differences are in the thousands.
    """

    def test() -> None:
        rng = np.random.default_rng(11)
        p, q = rng.normal(size=(6, 4)), rng.normal(size=(9, 4))
        u, i, j = rng.integers(0, 6, 50), rng.integers(0, 9, 50), rng.integers(0, 9, 50)
        expected = _reference_bpr_loss(p, q, u, i, j)
        with np.errstate(all="ignore"):
            got = float(bpr_loss(p, q, u, i, j))
        flipped = _reference_bpr_loss(p, q, u, j, i)
        if np.isclose(got, flipped, rtol=1e-8):
            raise AssertionError(
                "that is the loss of the pairs the other way round: the bought "
                "item i should score above j."
            )
        if np.isclose(got, expected * u.size, rtol=1e-8):
            raise AssertionError("that is the sum over the batch; return the mean.")
        assert np.isclose(got, expected, rtol=1e-8), (
            f"expected {expected:.4f}, got {got:.4f}."
        )
        big = 500.0 * p
        with np.errstate(all="ignore"):
            got_big = float(bpr_loss(big, q, u, i, j))
        expected_big = _reference_bpr_loss(big, q, u, i, j)
        assert np.isfinite(got_big) and np.isclose(got_big, expected_big, rtol=1e-6), (
            f"with large score differences expected {expected_big:.1f}, got "
            f"{got_big}: the sigmoid overflows or rounds to 0 before the log."
        )

    return run_check(
        "Exercise 1 (BPR loss)",
        "compute each triple's score difference x_uij from the dot product of "
        "the user vector with the difference of the two item vectors; minus "
        "the log of the sigmoid of x is log(1 + exp(-x)), which np.logaddexp "
        "computes without overflow; average over the batch.",
        test,
    )


def _reference_negatives(seed: int):
    rng = np.random.default_rng(seed)
    dense = rng.random((12, 15)) < 0.4
    dense[0, :14] = True  # user 0 misses a single item: 14
    return sp.csr_matrix(dense.astype(np.float64)), dense


def check_sample_negatives(sample_negatives: Callable[..., Any]) -> CheckResult:
    """Exercise 2: negatives that are never the user's own purchases.

    ``sample_negatives(user_items, users, rng)`` returns one item index per
    entry of ``users`` (int array of the same length), uniform over the items
    that user did *not* buy in ``user_items`` (a 0/1 CSR matrix).
    """

    def test() -> None:
        matrix, dense = _reference_negatives(3)
        users = np.repeat(np.arange(12), 400)
        got = np.asarray(sample_negatives(matrix, users, np.random.default_rng(0)))
        assert got.shape == users.shape, (
            f"expected one negative per entry of users, shape {users.shape}, got "
            f"{got.shape}."
        )
        assert np.issubdtype(got.dtype, np.integer), "return item indices (ints)."
        assert ((got >= 0) & (got < 15)).all(), "indices must be in [0, n_items)."
        bought = dense[users, got]
        assert not bought.any(), (
            f"{int(bought.sum())} of {users.size} negatives were items the user bought."
        )
        assert (got[users == 0] == 14).all(), "user 0 has only item 14 left."
        # uniform over the unbought items: user 1's draws spread evenly
        free = np.flatnonzero(~dense[1])
        share = np.bincount(got[users == 1], minlength=15)[free] / 400
        assert np.abs(share - 1 / free.size).max() < 0.08, (
            "the negatives of one user are not spread evenly over the items "
            f"they did not buy (shares {np.round(share, 2).tolist()})."
        )

    return run_check(
        "Exercise 2 (negatives that are not positives)",
        "draw uniformly over all items, find which draws the user actually "
        "bought (the CSR row of the user, or a sorted array of user * n_items "
        "plus item keys with np.isin), and draw those again until none is left.",
        test,
    )


def check_log_q_logits(log_q_logits: Callable[..., Any]) -> CheckResult:
    """Exercise 3: in-batch logits corrected for how often items are sampled.

    ``log_q_logits(user_vectors, item_vectors, item_probabilities)`` returns
    the (batch, batch) array ``s_ab - ln Q_b``: the dot product of user ``a``
    with the item of row ``b``, minus the log of the probability ``Q_b`` that
    item ``b`` lands in a batch.
    """

    def test() -> None:
        rng = np.random.default_rng(5)
        users, items = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
        probs = rng.dirichlet(np.ones(7))
        expected = users @ items.T - np.log(probs)[None, :]
        got = np.asarray(log_q_logits(users, items, probs), dtype=np.float64)
        assert got.shape == expected.shape, (
            f"expected a (batch, batch) array {expected.shape}, got {got.shape}."
        )
        if np.allclose(got, users @ items.T + np.log(probs)[None, :]):
            raise AssertionError(
                "popular items got a *bonus*: the correction must lower the "
                "logits of often-sampled items."
            )
        if np.allclose(got, users @ items.T - np.log(probs)[:, None]):
            raise AssertionError(
                "the correction belongs to the item of each column, not to the "
                "user of each row."
            )
        assert np.allclose(got, expected), (
            f"largest gap {np.abs(got - expected).max():.3g} from the corrected logits."
        )

    return run_check(
        "Exercise 3 (log-Q correction)",
        "the logits are all user-item dot products of the batch (a matrix "
        "product of the users with the transposed items); subtract the log of "
        "each item's sampling probability from its column.",
        test,
    )
