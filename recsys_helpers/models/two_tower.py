"""Two-tower retrieval in plain Keras 3, trained with an in-batch sampled softmax.

Model. A *query tower* maps user u to a unit vector q_u and a *candidate
tower* maps item i to a unit vector c_i; the score is their cosine divided by
a temperature tau::

    q_u = normalize(P[u] + MLP_q(x_u))      x_u: mean TF-IDF of u's history
    c_i = normalize(Q[i] + MLP_c(y_i))      y_i: TF-IDF of i's text (``tags``)
    s(u, i) = <q_u, c_i> / tau              in [-1/tau, 1/tau]

with MLP(x) = W2 relu(W1 x + b1) + b2. Without features (``use_features=False``,
or the default ``"auto"`` on a dataset whose items have no text) the towers are
the id embeddings alone and s(u, i) = <P_u, Q_i> / (|P_u| |Q_i| tau): matrix
factorisation with normalised factors.

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
from typing import Any

import numpy as np
import scipy.sparse as sp

from recsys_helpers import environment
from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender
from recsys_helpers.models.params import check_choice, check_int, check_number

__all__ = ["TwoTower", "in_batch_softmax_loss", "item_features", "user_features"]


def _keras() -> Any:
    """Import Keras (TensorFlow backend) with TensorFlow's C++ logs silenced.

    Applies :data:`recsys_helpers.environment.TENSORFLOW_ENV` without
    overriding what the user set: oneDNN's CPU kernels are switched off (they
    change the last bits of results from one CPU type to another, and log a
    line saying so; on models this small they bring no speed).
    """
    environment.apply(environment.TENSORFLOW_ENV, override=False)
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
    is zeroed after training; with id-only towers they score 0); users need a
    training history.

    Side information is used when present: with the default
    ``use_features="auto"`` the towers add the TF-IDF features of the items'
    ``text_column`` when the items have that column with at least one word,
    and are id-only otherwise (e.g. a Dataset built from interactions alone),
    so the defaults fit any dataset. ``uses_features_`` records the choice.
    ``use_features=True`` insists on the text (a clear ``ValueError`` when the
    column is missing or empty); ``False`` never reads it.

    Defaults were chosen on a validation split carved from train
    (``split.by_time(train, 0.2)``) of shop and ml-latest-small by
    ``benchmarks/tune_two_tower.py``.

    Args:
        embedding_dim: Size d of the tower outputs, >= 1.
        hidden_units: Width of each tower's hidden layer, >= 1.
        temperature: tau > 0; smaller sharpens the softmax.
        epochs: Passes over the training interactions, >= 1.
        batch_size: Training pairs per batch, >= 1; the other B - 1 items of
            the batch are each pair's negatives.
        learning_rate: Adam's step size, > 0.
        logq_correction: Subtract log p_j from the training logits.
        use_features: ``"auto"`` (use the item text when there is some),
            True (add the TF-IDF features of the text to the id embeddings;
            the text must be there) or False (id-only towers, normalised
            matrix factorisation).
        text_column: Column of ``items`` holding each item's text.
        max_features: TF-IDF vocabulary size, >= 1.
        random_state: Seed of the initialisation and the batch shuffling,
            an integer >= 0.

    Attributes:
        uses_features_: Whether the towers were given the item text (what
            ``use_features`` resolved to on the training data).
        vectorizer_: The fitted TF-IDF vectoriser (only when
            ``uses_features_``).
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
        use_features: bool | str = "auto",
        text_column: str = "tags",
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
        self.text_column = text_column
        self.max_features = max_features
        self.random_state = random_state

    # --------------------------------------------------------------- training
    def _check_params(self) -> None:
        for name in ("embedding_dim", "hidden_units", "epochs", "batch_size"):
            check_int("TwoTower", name, getattr(self, name))
        check_number("TwoTower", "temperature", self.temperature, strict=True)
        check_number("TwoTower", "learning_rate", self.learning_rate, strict=True)
        check_choice("TwoTower", "logq_correction", self.logq_correction, (True, False))
        check_choice(
            "TwoTower", "use_features", self.use_features, ("auto", True, False)
        )
        if not isinstance(self.text_column, str) or not self.text_column:
            raise ValueError(
                "TwoTower: text_column must be the name of a column of the items "
                f"(a non-empty string), got {self.text_column!r}"
            )
        check_int("TwoTower", "max_features", self.max_features)
        check_int("TwoTower", "random_state", self.random_state, minimum=0)

    def _item_text_features(self, train: Dataset) -> np.ndarray | None:
        """TF-IDF item features if ``use_features`` resolves to True, else None."""
        mode = self.use_features
        if not isinstance(mode, str) and not mode:  # False (or numpy's False)
            return None
        auto = mode == "auto"
        column = self.text_column
        if column not in train.items:
            if auto:
                return None
            raise ValueError(
                f"TwoTower: use_features=True needs an items column {column!r} "
                f"(text_column); the items have {list(train.items.columns)}. "
                "Pass use_features='auto' or False for id-only towers, or name "
                "the text column with text_column=."
            )
        try:
            item_x, vectorizer = item_features(train.items[column], self.max_features)
        except ValueError as error:  # every text empty: no vocabulary
            if auto:
                return None
            raise ValueError(
                f"TwoTower: use_features=True but items.{column} (text_column) "
                f"has no usable words: {error}"
            ) from error
        self.vectorizer_ = vectorizer
        return item_x

    def _fit(self, train: Dataset) -> None:
        self._check_params()
        item_x = self._item_text_features(train)
        self.uses_features_ = item_x is not None
        user_x = None if item_x is None else user_features(self.user_items_, item_x)
        keras = _keras()
        gc.collect()  # Keras models hold reference cycles: free earlier ones now
        keras.utils.set_random_seed(self.random_state)
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
        if not self.uses_features_:
            raise ValueError(
                f"this TwoTower has id-only towers (use_features={self.use_features!r}"
                f" resolved to no item text): it cannot embed items from "
                f"{self.text_column!r} text; fit it on items with that column."
            )
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
