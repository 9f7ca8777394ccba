r"""BPR: matrix factorisation trained to *rank* (Rendle et al. 2009).

Implicit feedback has no negatives, only missing data. Bayesian Personalised
Ranking turns it into pairs: for a user ``u``, an item ``i`` they bought
should score higher than an item ``j`` they did not. Training samples
triples ``(u, i, j)`` and maximises the log-likelihood that the pairs are
ordered right, by minibatch stochastic gradient steps, all vectorised with
numpy (no Python loop over triples).

The defaults were chosen by ``benchmarks/tune_bpr.py`` on validation splits
carved from the training data (``split.by_time(train, 0.2)`` of
``split.by_time(ds, 0.2)``), never on test.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender
from recsys_helpers.models.params import check_choice, check_int, check_number
from recsys_helpers.progress import progress

__all__ = ["BPR", "bpr_gradients", "bpr_loss", "sample_triples"]

# Rounds of re-drawing negatives that hit one of the user's positives.
_RESAMPLE_ROUNDS = 20


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log(sigmoid(x))`` computed without overflow."""
    return -np.logaddexp(0.0, -x)


def bpr_loss(
    user_factors: np.ndarray,
    item_factors: np.ndarray,
    item_bias: np.ndarray,
    triples: tuple[np.ndarray, np.ndarray, np.ndarray],
    regularization: float,
) -> float:
    r"""Mean BPR loss of a batch of triples.

    .. math::

        L = \frac{1}{|S|} \sum_{(u,i,j) \in S} \Big[-\ln \sigma(\hat{x}_{uij})
            + \lambda (\|p_u\|^2 + \|q_i\|^2 + \|q_j\|^2)\Big],
        \quad \hat{x}_{uij} = p_u^T (q_i - q_j) + b_i - b_j

    Args:
        user_factors: ``P``, shape (n_users, f).
        item_factors: ``Q``, shape (n_items, f).
        item_bias: ``b``, shape (n_items,).
        triples: ``(u, i, j)`` index arrays of equal length.
        regularization: ``lambda`` >= 0.

    Returns:
        ``L`` (>= 0; ``ln 2`` = 0.693 when every score is equal).
    """
    u, i, j = triples
    p, qi, qj = user_factors[u], item_factors[i], item_factors[j]
    x = np.einsum("bf,bf->b", p, qi - qj) + item_bias[i] - item_bias[j]
    penalty = np.sum(p * p, axis=1) + np.sum(qi * qi, axis=1) + np.sum(qj * qj, axis=1)
    return float(np.mean(-_log_sigmoid(x) + regularization * penalty))


def bpr_gradients(
    user_factors: np.ndarray,
    item_factors: np.ndarray,
    item_bias: np.ndarray,
    triples: tuple[np.ndarray, np.ndarray, np.ndarray],
    regularization: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Per-triple gradients of the (summed, not averaged) BPR loss.

    With :math:`g = \sigma(-\hat{x}_{uij})` (how wrong the pair is, in (0, 1)):

    .. math::

        \partial_{p_u} = -g (q_i - q_j) + 2\lambda p_u, \quad
        \partial_{q_i} = -g\, p_u + 2\lambda q_i, \quad
        \partial_{q_j} = g\, p_u + 2\lambda q_j, \quad
        \partial_{b_i} = -g, \quad \partial_{b_j} = g

    Returns:
        ``(grad_p, grad_qi, grad_qj, grad_bi, grad_bj)``, one row per triple
        (rows of the same user or item are summed by the caller).
    """
    u, i, j = triples
    p, qi, qj = user_factors[u], item_factors[i], item_factors[j]
    diff = qi - qj
    x = np.einsum("bf,bf->b", p, diff) + item_bias[i] - item_bias[j]
    g = np.exp(_log_sigmoid(-x))[:, None]  # sigma(-x), stable
    two_lambda = p.dtype.type(2.0 * regularization)
    grad_p = -g * diff + two_lambda * p
    grad_qi = -g * p + two_lambda * qi
    grad_qj = g * p + two_lambda * qj
    return grad_p, grad_qi, grad_qj, -g[:, 0], g[:, 0]


def sample_triples(
    user_items: sp.csr_matrix,
    rng: np.random.Generator,
    negatives: str = "uniform",
    exclude_positives: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One epoch of ``(u, i, j)`` triples: every training pair once, shuffled.

    Args:
        user_items: Binary users x items CSR matrix (sorted indices).
        rng: The random generator (consumed).
        negatives: ``"uniform"``: ``j`` uniform over the catalogue;
            ``"popularity"``: ``j`` drawn with probability proportional to
            its number of training users.
        exclude_positives: Re-draw a ``j`` the user bought (up to 20 rounds;
            a user who bought almost everything may keep a few).

    Returns:
        ``(u, i, j)``, int64 arrays of length nnz(user_items).
    """
    n_users, n_items = user_items.shape
    counts = np.diff(user_items.indptr)
    order = rng.permutation(user_items.nnz)
    u = np.repeat(np.arange(n_users), counts)[order]
    i = user_items.indices[order].astype(np.int64)
    popularity = None
    if negatives == "popularity":
        popularity = np.cumsum(np.bincount(user_items.indices, minlength=n_items))

    def draw(size: int) -> np.ndarray:
        if popularity is None:
            return rng.integers(0, n_items, size=size)
        return np.searchsorted(
            popularity, rng.integers(0, popularity[-1], size=size), side="right"
        )

    j = draw(u.size)
    if exclude_positives:
        keys = np.repeat(np.arange(n_users), counts) * n_items + user_items.indices
        for _ in range(_RESAMPLE_ROUNDS):
            hit = np.flatnonzero(_contains(keys, u * n_items + j))
            if hit.size == 0:
                break
            j[hit] = draw(hit.size)
    return u, i, j


def _contains(sorted_keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Boolean mask: which ``queries`` occur in ``sorted_keys`` (ascending)."""
    where = np.searchsorted(sorted_keys, queries)
    where[where == sorted_keys.size] = 0
    return sorted_keys[where] == queries


def _sum_rows(index: np.ndarray, grads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum gradient rows that share an index: ``(unique_index, summed)``."""
    unique, inverse = np.unique(index, return_inverse=True)
    scatter = sp.csr_matrix(
        (np.ones(index.size, dtype=grads.dtype), (inverse, np.arange(index.size))),
        shape=(unique.size, index.size),
    )
    return unique, np.asarray(scatter @ grads)


class _Adagrad:
    """Adagrad on selected rows: ``w -= lr g / sqrt(G + eps)``, ``G += g^2``."""

    def __init__(self, shape: tuple[int, ...], learning_rate: float) -> None:
        self.accumulated = np.zeros(shape)
        self.learning_rate = learning_rate

    def step(self, weights: np.ndarray, rows: np.ndarray, grad: np.ndarray) -> None:
        self.accumulated[rows] += grad * grad
        weights[rows] -= (
            self.learning_rate * grad / np.sqrt(self.accumulated[rows] + 1e-10)
        )


class BPR(Recommender):
    r"""Bayesian Personalised Ranking with a matrix-factorisation scorer.

    Model (Rendle, Freudenthaler, Gantner and Schmidt-Thieme, UAI 2009): user
    vectors ``p_u`` and item vectors ``q_i`` (``f`` numbers each) plus an item
    bias ``b_i`` score ``\hat{x}_{ui} = p_u^T q_i + b_i`` (unbounded reals;
    only their order matters). For a user ``u``, a bought item ``i`` and an
    item ``j`` the user did not buy, the model's probability that ``u``
    prefers ``i`` to ``j`` is ``sigma(\hat{x}_{ui} - \hat{x}_{uj})``; training
    minimises the negative log-likelihood of sampled pairs with L2
    regularisation (the MAP estimate under a Gaussian prior):

    .. math::

        L = \sum_{(u,i,j)} -\ln \sigma(\hat{x}_{ui} - \hat{x}_{uj})
            + \lambda (\|p_u\|^2 + \|q_i\|^2 + \|q_j\|^2)

    This is a smooth surrogate of AUC: ``-ln sigma`` upper-bounds the 0/1
    loss of each misordered pair.

    Update rule: each epoch draws one triple per training pair ``(u, i)``
    (shuffled) with ``j`` from :func:`sample_triples`, and takes Adagrad
    steps on minibatches of ``batch_size`` triples; the gradient of each
    triple is :func:`bpr_gradients`, rows of the same user or item within a
    batch are summed, and only the rows in the batch move. Initial factors
    are ``init_scale * N(0, 1)`` from ``np.random.default_rng(random_state)``
    (drawn in float64, then kept in float32 like every training array);
    biases start at 0.

    Args:
        factors: Vector length ``f`` >= 1.
        learning_rate: Adagrad step size > 0.
        regularization: ``lambda`` >= 0, per triple.
        epochs: Passes over the training pairs, >= 1.
        batch_size: Triples per gradient step, >= 1.
        negatives: ``"uniform"`` or ``"popularity"`` (``j`` drawn in
            proportion to its training count: harder negatives).
        exclude_positives: Re-draw negatives the user actually bought
            (``False`` keeps them: a known-wrong pair now and then).
        init_scale: Standard deviation of the initial factors, >= 0.
        track_loss: Record the mean training loss of each epoch in ``loss_``.
        random_state: Seed of the initial factors and of the sampling.

    Defaults (factors=64, learning_rate=0.1, regularization=0.01, epochs=30,
    batch_size=1024, uniform negatives, positives excluded, init_scale=0.1)
    were chosen by ``benchmarks/tune_bpr.py`` on validation splits carved
    from the training data of ``shop`` and ml-latest-small: the best of
    learning rates {0.05, 0.1} x penalties {0.001, 0.01, 0.03, 0.1} on both
    (validation nDCG@10 0.114 and 0.124; the grid spanned 0.089-0.114 and
    0.096-0.124). 60 epochs scored 1-4% higher at twice the cost and 15
    epochs 4-11% lower; 30 keeps a fit of ml-latest-small within 20 s on
    2 cores. The sampling choices are measured in lesson 04.

    Attributes:
        user_factors_: ``P``, shape (n_users, f).
        item_factors_: ``Q``, shape (n_items, f).
        item_bias_: ``b``, shape (n_items,).
        loss_: Mean training loss per epoch (empty unless ``track_loss``).
    """

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.1,
        regularization: float = 0.01,
        epochs: int = 30,
        batch_size: int = 1024,
        negatives: str = "uniform",
        exclude_positives: bool = True,
        init_scale: float = 0.1,
        track_loss: bool = False,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.epochs = epochs
        self.batch_size = batch_size
        self.negatives = negatives
        self.exclude_positives = exclude_positives
        self.init_scale = init_scale
        self.track_loss = track_loss
        self.random_state = random_state

    def _check_params(self) -> None:
        check_int("BPR", "factors", self.factors)
        check_number("BPR", "learning_rate", self.learning_rate, strict=True)
        check_number("BPR", "regularization", self.regularization)
        check_int("BPR", "epochs", self.epochs)
        check_int("BPR", "batch_size", self.batch_size)
        check_choice("BPR", "negatives", self.negatives, ("uniform", "popularity"))
        check_choice("BPR", "exclude_positives", self.exclude_positives, (True, False))
        check_number("BPR", "init_scale", self.init_scale)
        check_choice("BPR", "track_loss", self.track_loss, (True, False))
        check_int("BPR", "random_state", self.random_state, minimum=0)

    def _fit(self, train: Dataset) -> None:
        self._check_params()
        user_items = self.user_items_
        n_users, n_items = user_items.shape
        rng = np.random.default_rng(self.random_state)
        p = self.init_scale * rng.standard_normal((n_users, self.factors))
        q = self.init_scale * rng.standard_normal((n_items, self.factors))
        p, q = p.astype(np.float32), q.astype(np.float32)
        b = np.zeros(n_items, dtype=np.float32)
        optimisers = (
            _Adagrad(p.shape, self.learning_rate),
            _Adagrad(q.shape, self.learning_rate),
            _Adagrad(b.shape, self.learning_rate),
        )
        losses = []
        # a diverging run overflows: caught by the finiteness check below
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in progress(range(self.epochs), desc="BPR", total=self.epochs):
                triples = sample_triples(
                    user_items, rng, self.negatives, self.exclude_positives
                )
                epoch_loss = self._epoch(p, q, b, triples, optimisers)
                if self.track_loss:
                    losses.append(epoch_loss)
        if not (np.isfinite(p).all() and np.isfinite(q).all()):
            raise FloatingPointError(
                "BPR diverged (non-finite factors): lower learning_rate."
            )
        self.user_factors_ = p
        self.item_factors_ = q
        self.item_bias_ = b
        self.loss_ = np.asarray(losses)

    def _epoch(
        self,
        p: np.ndarray,
        q: np.ndarray,
        b: np.ndarray,
        triples: tuple[np.ndarray, np.ndarray, np.ndarray],
        optimisers: tuple[_Adagrad, _Adagrad, _Adagrad],
    ) -> float:
        """One pass of minibatch Adagrad steps; the mean loss (if tracked)."""
        u, i, j = triples
        total = 0.0
        for start in range(0, u.size, self.batch_size):
            batch = tuple(a[start : start + self.batch_size] for a in (u, i, j))
            if self.track_loss:
                total += bpr_loss(p, q, b, batch, self.regularization) * batch[0].size
            gp, gqi, gqj, gbi, gbj = bpr_gradients(p, q, b, batch, self.regularization)
            rows, summed = _sum_rows(batch[0], gp)
            optimisers[0].step(p, rows, summed)
            items = np.concatenate(batch[1:])
            rows, summed = _sum_rows(items, np.concatenate([gqi, gqj]))
            optimisers[1].step(q, rows, summed)
            rows, summed = _sum_rows(items, np.concatenate([gbi, gbj])[:, None])
            optimisers[2].step(b, rows, summed[:, 0])
        return total / u.size

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[rows] @ self.item_factors_.T + self.item_bias_
