"""Two-tower retrieval in plain Keras 3, trained with an in-batch sampled softmax.

Model. A *query tower* maps user u to a unit vector q_u and a *candidate
tower* maps item i to a unit vector c_i; the score is their cosine divided by
a temperature tau::

    q_u = normalize(P[u] + MLP_q(x_u))      x_u: mean TF-IDF of u's history
    c_i = normalize(Q[i] + MLP_c(y_i))      y_i: TF-IDF of i's ``tags``
    s(u, i) = <q_u, c_i> / tau              in [-1/tau, 1/tau]

with MLP(x) = W2 relu(W1 x + b1) + b2. Without features (``use_features=False``)
the towers are the id embeddings alone and s(u, i) = <P_u, Q_i> / (|P_u| |Q_i|
tau): matrix factorisation with normalised factors.

Training (Yi et al., 2019). For a batch of B training pairs (u_b, i_b), every
other item of the batch is a negative of user u_b. The logits are corrected
for how often each item is *sampled* as a negative, p_j = count_j / N (its
share of the training interactions), and an item that appears twice in the
batch is not a negative of itself ("accidental hit")::

    l_bj = s(u_b, i_j) - log p_j          (log-Q correction)
    l_bj = -inf  if i_j == i_b and j != b (accidental hits masked)
    loss = mean_b [ -l_bb + log sum_j exp(l_bj) ]

Without the correction, popular items are over-penalised (they are everyone's
negative), which pushes them down the rankings. Serving uses s(u, i) without
the correction: all item vectors are computed once and each user's top-k is a
brute-force matrix product, the user's training items excluded.

TensorFlow is imported lazily (inside functions), so ``import
recsys_helpers`` stays light; the Keras backend must be TensorFlow (the
default) because the training step uses ``tf.GradientTape``.
"""

from __future__ import annotations

import gc
import os
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender

__all__ = ["TwoTower", "in_batch_softmax_loss", "item_features", "user_features"]


def _keras() -> Any:
    """Import Keras (TensorFlow backend) with TensorFlow's C++ logs silenced.

    oneDNN's CPU kernels are switched off unless the user chose otherwise: they
    change the last bits of results from one CPU type to another (and log a
    line saying so), and on models this small they bring no speed.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "TwoTower trains with tf.GradientTape: set KERAS_BACKEND=tensorflow "
            f"(found {keras.backend.backend()!r})."
        )
    return keras


def item_features(tags: Any, max_features: int = 1000) -> tuple[np.ndarray, Any]:
    """TF-IDF vectors of item texts, one L2-normalised row per item.

    Args:
        tags: Sequence of strings (e.g. ``items["tags"]``); missing -> "".
        max_features: Keep the most frequent words only.

    Returns:
        ``(features, vectorizer)``: float32 array (n_items, n_words) with
        rows of norm 1 (0 for an empty text) and the fitted vectorizer, which
        turns the tags of a new item into the same space.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["" if t is None or t != t else str(t) for t in tags]
    vectorizer = TfidfVectorizer(max_features=max_features, dtype=np.float32)
    features = vectorizer.fit_transform(texts).toarray()
    return features.astype(np.float32), vectorizer


def user_features(user_items: sp.csr_matrix, item_vectors: np.ndarray) -> np.ndarray:
    """Profile of each user: the mean of their items' vectors, L2-normalised.

    x_u = normalize(sum_{i in I(u)} y_i / |I(u)|); a user with no history
    gets the zero vector.

    Args:
        user_items: Binary users x items CSR matrix (training history).
        item_vectors: (n_items, n_words) item features.

    Returns:
        Array (n_users, n_words).
    """
    counts = np.asarray(user_items.sum(axis=1)).ravel()
    profiles = (
        np.asarray(user_items @ item_vectors, dtype=np.float32)
        / np.maximum(counts, 1)[:, None]
    )
    norms = np.linalg.norm(profiles, axis=1, keepdims=True)
    return profiles / np.maximum(norms, 1e-12)


def in_batch_softmax_loss(
    query: Any,
    candidates: Any,
    item_ids: Any,
    log_q: Any,
    temperature: float,
) -> Any:
    """Mean in-batch sampled softmax loss with log-Q correction (Keras ops).

    Args:
        query: (B, d) unit query vectors of the batch's users.
        candidates: (B, d) unit vectors of the batch's items.
        item_ids: (B,) integer item ids of the batch (to find accidental hits).
        log_q: (B,) log sampling probability of each batch item; pass zeros
            for no correction.
        temperature: tau > 0; the logits are cosines divided by tau.

    Returns:
        Scalar loss: mean over the batch of -log softmax(logits_b)[b].
    """
    from keras import ops

    logits = ops.matmul(query, ops.transpose(candidates)) / temperature
    logits = logits - ops.expand_dims(log_q, 0)
    positions = ops.arange(ops.shape(item_ids)[0])
    diagonal = ops.equal(ops.expand_dims(positions, 1), ops.expand_dims(positions, 0))
    same_item = ops.equal(ops.expand_dims(item_ids, 1), ops.expand_dims(item_ids, 0))
    hits = ops.logical_and(same_item, ops.logical_not(diagonal))
    logits = ops.where(hits, ops.full_like(logits, -1e9), logits)
    log_softmax = logits - ops.logsumexp(logits, axis=1, keepdims=True)
    return -ops.mean(ops.diagonal(log_softmax))


def build_tower(
    n_ids: int,
    features: np.ndarray | None,
    embedding_dim: int,
    hidden_units: int,
    name: str,
) -> Any:
    """One tower: id embedding (+ MLP of fixed features), L2-normalised.

    Args:
        n_ids: Number of ids (rows of the embedding table).
        features: (n_ids, n_words) fixed feature table, or None for id only.
        embedding_dim: Output size d.
        hidden_units: Width of the MLP's hidden layer.
        name: Keras model name ("query" / "candidate").

    Returns:
        A ``keras.Model`` mapping int ids of shape (B,) to (B, d) unit vectors.
    """
    keras = _keras()
    layers = keras.layers
    ids = keras.Input(shape=(), dtype="int32", name=f"{name}_id")
    vector = layers.Embedding(n_ids, embedding_dim, name=f"{name}_embedding")(ids)
    if features is not None:
        table = layers.Embedding(
            n_ids,
            features.shape[1],
            weights=[features],
            trainable=False,
            name=f"{name}_features",
        )(ids)
        hidden = layers.Dense(hidden_units, activation="relu", name=f"{name}_hidden")(
            table
        )
        vector = layers.Add()(
            [vector, layers.Dense(embedding_dim, name=f"{name}_out")(hidden)]
        )
    output = layers.UnitNormalization(name=f"{name}_normalize")(vector)
    return keras.Model(ids, output, name=name)


def build_retrieval_model(
    query_tower: Any, candidate_tower: Any, log_q: np.ndarray, temperature: float
) -> Any:
    """Wrap two towers in a ``keras.Model`` whose ``fit`` trains them.

    ``fit(x=(user_ids, item_ids))`` minimises :func:`in_batch_softmax_loss`;
    the logged loss is the running mean of a ``keras.metrics.Mean`` tracker
    (returning the raw loss tensor from ``train_step`` would log 0.0).
    """
    keras = _keras()
    import tensorflow as tf

    class Retrieval(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.query_tower = query_tower
            self.candidate_tower = candidate_tower
            self.log_q = keras.ops.convert_to_tensor(log_q, dtype="float32")
            self.temperature = temperature
            self.loss_tracker = keras.metrics.Mean(name="loss")

        def call(self, inputs: Any, training: bool = False) -> Any:
            users, items = inputs
            query = self.query_tower(users, training=training)
            candidates = self.candidate_tower(items, training=training)
            return query, candidates

        def train_step(self, data: Any) -> dict[str, Any]:
            (users, items), _, _ = keras.utils.unpack_x_y_sample_weight(data)
            with tf.GradientTape() as tape:
                query, candidates = self((users, items), training=True)
                loss = in_batch_softmax_loss(
                    query,
                    candidates,
                    items,
                    keras.ops.take(self.log_q, items),
                    self.temperature,
                )
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

        @property
        def metrics(self) -> list[Any]:
            return [self.loss_tracker]

    return Retrieval()


def progress_callback(epochs: int, desc: str = "two-tower") -> Any:
    """A Keras callback that advances a :mod:`recsys_helpers.progress` bar."""
    keras = _keras()
    from recsys_helpers.progress import progress

    class EpochProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs: Any = None) -> None:
            self.bar = progress(range(epochs), desc=desc, total=epochs)
            self.steps = iter(self.bar)

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            next(self.steps, None)
            if hasattr(self.bar, "set_postfix") and logs:
                self.bar.set_postfix(loss=f"{float(logs['loss']):.3f}")

        def on_train_end(self, logs: Any = None) -> None:
            for _ in self.steps:
                pass

    return EpochProgress()


class TwoTower(Recommender):
    """Two-tower retrieval trained with in-batch softmax and log-Q correction.

    s(u, i) = <q_u, c_i> / tau, with q_u and c_i the unit outputs of the query
    and candidate towers (see the module docstring for the towers and the
    loss). Scores lie in [-1/tau, 1/tau]. Items without training
    interactions get their vector from their tags alone (their id embedding
    is zeroed after training); users need a training history.

    Defaults were chosen on a validation split carved from train
    (``split.by_time(train, 0.2)``) of shop and ml-latest-small by
    ``benchmarks/tune_two_tower.py``.

    Args:
        embedding_dim: Size d of the tower outputs, >= 1.
        hidden_units: Width of each tower's hidden layer, >= 1.
        temperature: tau > 0; smaller sharpens the softmax.
        epochs: Passes over the training interactions.
        batch_size: Training pairs per batch; the other B - 1 items of the
            batch are each pair's negatives.
        learning_rate: Adam's step size.
        logq_correction: Subtract log p_j from the training logits.
        use_features: Add the TF-IDF features (tags) to the id embeddings;
            False gives id-only towers (normalised matrix factorisation).
        max_features: TF-IDF vocabulary size.
        random_state: Seed of the initialisation and the batch shuffling.

    Attributes:
        user_vectors_: (n_users, d) float32 unit query vectors.
        item_vectors_: (n_items, d) float32 unit candidate vectors.
        history_: Training loss after each epoch.
    """

    def __init__(
        self,
        embedding_dim: int = 64,
        hidden_units: int = 128,
        temperature: float = 0.2,
        epochs: int = 5,
        batch_size: int = 1024,
        learning_rate: float = 0.005,
        logq_correction: bool = True,
        use_features: bool = True,
        max_features: int = 1000,
        random_state: int = 0,
    ) -> None:
        self.embedding_dim = embedding_dim
        self.hidden_units = hidden_units
        self.temperature = temperature
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.logq_correction = logq_correction
        self.use_features = use_features
        self.max_features = max_features
        self.random_state = random_state

    # --------------------------------------------------------------- training
    def _fit(self, train: Dataset) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}.")
        if min(self.embedding_dim, self.hidden_units, self.epochs, self.batch_size) < 1:
            raise ValueError(
                "embedding_dim, hidden_units, epochs and batch_size must be >= 1."
            )
        keras = _keras()
        gc.collect()  # Keras models hold reference cycles: free earlier ones now
        keras.utils.set_random_seed(self.random_state)
        item_x = user_x = None
        if self.use_features:
            if "tags" not in train.items:
                raise ValueError(
                    "use_features=True needs an items column 'tags'; pass "
                    "use_features=False for id-only towers."
                )
            item_x, self.vectorizer_ = item_features(
                train.items["tags"], self.max_features
            )
            user_x = user_features(self.user_items_, item_x)
        self.query_tower_ = build_tower(
            train.n_users, user_x, self.embedding_dim, self.hidden_units, "query"
        )
        self.candidate_tower_ = build_tower(
            train.n_items, item_x, self.embedding_dim, self.hidden_units, "candidate"
        )
        counts = self.item_counts_
        log_q = np.log(np.maximum(counts, 1) / counts.sum()).astype(np.float32)
        if not self.logq_correction:
            log_q = np.zeros_like(log_q)
        model = build_retrieval_model(
            self.query_tower_, self.candidate_tower_, log_q, self.temperature
        )
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate))
        pairs = self.user_items_.tocoo()
        users = pairs.row.astype(np.int32)
        items = pairs.col.astype(np.int32)
        history = model.fit(
            (users, items),
            batch_size=self.batch_size,
            epochs=self.epochs,
            shuffle=True,
            verbose=0,
            callbacks=[progress_callback(self.epochs)],
        )
        self.history_ = [float(v) for v in history.history["loss"]]
        # an item never seen in training has an untrained (random) id
        # embedding: zero it, so its vector comes from its tags alone
        table = self.candidate_tower_.get_layer("candidate_embedding")
        weights = table.get_weights()[0]
        weights[counts == 0] = 0.0
        table.set_weights([weights])
        self.user_vectors_ = _predict(self.query_tower_, train.n_users)
        self.item_vectors_ = _predict(self.candidate_tower_, train.n_items)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return (self.user_vectors_[rows] @ self.item_vectors_.T).astype(
            np.float64
        ) / self.temperature

    # ------------------------------------------------------------- cold start
    def item_vectors_from_tags(self, tags: Any) -> np.ndarray:
        """Candidate vectors of brand-new items from their tags alone.

        The id embedding of an unseen item is zero, so c = normalize(MLP_c(y))
        with y the TF-IDF vector of its tags in the training vocabulary.

        Args:
            tags: Sequence of tag strings, e.g. ["Electronics, Television, 4K"].

        Returns:
            float32 array (len(tags), d) of unit vectors; score a user with
            ``user_vectors_[row] @ vectors.T / temperature``.
        """
        self._check_fitted()
        if not self.use_features:
            raise ValueError("an id-only TwoTower (use_features=False) has no tags.")
        from keras import ops

        texts = ["" if t is None or t != t else str(t) for t in tags]
        y = self.vectorizer_.transform(texts).toarray().astype(np.float32)
        tower = self.candidate_tower_
        hidden = tower.get_layer("candidate_hidden")(y)
        vector = tower.get_layer("candidate_out")(hidden)
        return ops.convert_to_numpy(ops.normalize(vector, axis=-1, epsilon=1e-12))


def _predict(tower: Any, n: int, chunk: int = 4096) -> np.ndarray:
    """Outputs of a tower for ids 0..n-1, computed in chunks."""
    from keras import ops

    parts = [
        ops.convert_to_numpy(tower(np.arange(s, min(n, s + chunk), dtype=np.int32)))
        for s in range(0, n, chunk)
    ]
    return np.concatenate(parts).astype(np.float32)
