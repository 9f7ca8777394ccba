"""Checks for the exercises of lesson ``05_two_tower`` (two-tower retrieval).

Every exercise is plain NumPy (no TensorFlow needed): the pieces of the
in-batch softmax, the loss, brute-force retrieval and the id-only model.

    from recsys_helpers.exercises import two_tower
    two_tower.check_in_batch_logits(in_batch_logits)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from recsys_helpers.exercises._core import CheckResult, run_check

__all__ = [
    "check_cosine_scores",
    "check_in_batch_logits",
    "check_in_batch_softmax_loss",
    "check_top_k_unseen",
    "reference_in_batch_logits",
    "reference_in_batch_softmax_loss",
    "reference_top_k_unseen",
]


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def reference_in_batch_logits(
    query: np.ndarray,
    candidates: np.ndarray,
    item_ids: np.ndarray,
    sampling_prob: np.ndarray,
    temperature: float,
) -> np.ndarray:
    """l_bj = <q_b, c_j> / tau - log p_j; -inf where i_j == i_b and j != b."""
    logits = query @ candidates.T / temperature - np.log(sampling_prob)[None, :]
    hits = (item_ids[:, None] == item_ids[None, :]) & ~np.eye(len(item_ids), dtype=bool)
    return np.where(hits, -np.inf, logits)


def reference_in_batch_softmax_loss(logits: np.ndarray) -> float:
    """mean_b [ -l_bb + log sum_j exp(l_bj) ], computed stably."""
    top = logits.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    return float(np.mean(log_z - np.diag(logits)))


def reference_top_k_unseen(
    user_vectors: np.ndarray,
    item_vectors: np.ndarray,
    seen: sp.csr_matrix,
    k: int,
) -> np.ndarray:
    """Indices of each user's k highest-scoring unseen items, best first."""
    scores = user_vectors @ item_vectors.T
    scores[seen.nonzero()] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def check_in_batch_logits(in_batch_logits: Callable[..., np.ndarray]) -> CheckResult:
    """Exercise 1: the corrected, masked logits of one batch."""

    def test() -> None:
        rng = np.random.default_rng(4)
        item_ids = np.array([3, 7, 3, 1, 9, 7, 2])
        query, candidates = _unit(rng, 7, 5), _unit(rng, 7, 5)
        prob = rng.uniform(0.01, 0.3, size=7)
        got = np.asarray(in_batch_logits(query, candidates, item_ids, prob, 0.2))
        want = reference_in_batch_logits(query, candidates, item_ids, prob, 0.2)
        assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}."
        masked = np.isinf(want)
        assert np.all(got[masked] < -1e8), (
            "an accidental hit (the same item elsewhere in the batch, e.g. item 3 "
            "at positions 0 and 2) must be masked with -inf, not kept as a negative."
        )
        assert np.all(np.isfinite(np.diag(got))), (
            "never mask the diagonal (the positives)."
        )
        plain = query @ candidates.T / 0.2
        if np.allclose(got[~masked], plain[~masked]):
            raise AssertionError("the log-Q correction (- log p_j) is missing.")
        assert np.allclose(got[~masked], want[~masked]), (
            "the unmasked logits differ from <q_b, c_j> / temperature - log p_j "
            "(p of the column's item j, not of the row's)."
        )

    return run_check(
        "Exercise 1 (in-batch logits)",
        "start from every query-candidate dot product over the temperature; the "
        "correction subtracts the log sampling probability of each COLUMN's "
        "item; an accidental hit is the row's own item id in another column "
        "(compare all pairs of ids by broadcasting), never the diagonal.",
        test,
    )


def check_in_batch_softmax_loss(
    loss: Callable[[np.ndarray], float],
) -> CheckResult:
    """Exercise 2: the softmax cross-entropy with the diagonal as the labels."""

    def test() -> None:
        rng = np.random.default_rng(5)
        logits = rng.normal(scale=3.0, size=(6, 6))
        logits[0, 3] = logits[4, 1] = -np.inf
        got = float(loss(logits.copy()))
        want = reference_in_batch_softmax_loss(logits)
        assert np.isfinite(got), "the loss must stay finite when a logit is -inf."
        assert abs(got - want) < 1e-9, (
            f"got {got:.4f}, expected {want:.4f}: mean over rows of "
            "-logits[b, b] + log(sum_j exp(logits[b, j]))."
        )
        big = float(loss(logits + 1000.0))
        assert np.isfinite(big) and abs(big - want) < 1e-6, (
            "adding 1000 to every logit must not change the loss (nor overflow): "
            "subtract each row's maximum before np.exp."
        )

    return run_check(
        "Exercise 2 (in-batch softmax loss)",
        "each row is a softmax classification whose right answer is on the "
        "diagonal; its cross-entropy is the row's log-sum-exp minus the positive "
        "logit. Shift each row by its largest value before exponentiating, so "
        "nothing overflows.",
        test,
    )


def check_top_k_unseen(top_k_unseen: Callable[..., np.ndarray]) -> CheckResult:
    """Exercise 3: brute-force retrieval without the items already seen."""

    def test() -> None:
        rng = np.random.default_rng(6)
        users, items = _unit(rng, 20, 8), _unit(rng, 50, 8)
        seen = sp.random(20, 50, density=0.2, random_state=6, format="csr")
        seen.data[:] = 1.0
        got = np.asarray(top_k_unseen(users, items, seen, 5))
        want = reference_top_k_unseen(users, items, seen, 5)
        assert got.shape == (20, 5), f"shape {got.shape}, expected (20, 5)."
        overlap = [bool(seen[u, got[u]].nnz) for u in range(20)]
        assert not any(overlap), "a seen item was recommended: set its score to -inf."
        assert np.array_equal(np.sort(got, axis=1), np.sort(want, axis=1)), (
            "not the 5 highest-scoring unseen items."
        )
        assert np.array_equal(got, want), "the right items, but not best first."

    return run_check(
        "Exercise 3 (top-k unseen)",
        "score every item for every user with one matrix product, make each "
        "user's seen items lose to everything, and keep each row's k best in "
        "order, best first.",
        test,
    )


def check_cosine_scores(cosine_scores: Callable[..., np.ndarray]) -> CheckResult:
    """Exercise 4: the id-only two-tower's scores from its two tables."""

    def test() -> None:
        rng = np.random.default_rng(7)
        p, q = rng.normal(size=(6, 4)), rng.normal(size=(9, 4))
        got = np.asarray(cosine_scores(p, q, 0.5))
        pn = p / np.linalg.norm(p, axis=1, keepdims=True)
        qn = q / np.linalg.norm(q, axis=1, keepdims=True)
        want = pn @ qn.T / 0.5
        assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}."
        if np.allclose(got, p @ q.T / 0.5) or np.allclose(got, p @ q.T):
            raise AssertionError("the towers L2-normalise their outputs first.")
        assert np.allclose(got, want), "expected <P_u/|P_u|, Q_i/|Q_i|> / temperature."

    return run_check(
        "Exercise 4 (id-only scores)",
        "each tower ends with a normalisation layer: every row of P and of Q "
        "becomes a unit vector before the dot products, and the temperature "
        "divides the result.",
        test,
    )
