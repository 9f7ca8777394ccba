"""SASRec: self-attentive sequential recommendation (Kang and McAuley, 2018).

Model. A user's training history, in time order (repeats kept), is cut to its
last ``L = max_len`` items and left-padded with the padding id 0 (items are
1..n inside the network). Each position t holds::

    x_t = sqrt(d) E[s_t] + P[t]                  item embedding + learned position
    x   = dropout(x) * m                         m_t = 1 for an item, 0 for padding

and ``blocks`` causal self-attention blocks, each (pre-layer-norm, residual)::

    x = x + dropout(MHA(LN(x), x, x, mask))      mask[t, t'] = (t' <= t) and m_t'
    x = (x + dropout(W2 relu(W1 LN(x))))  * m    point-wise feed-forward

then h = LN(x). Position t sees only the items up to t, so h_t summarises the
history so far; the score of item i after it is <h_t, E[i]> (the output layer
shares the item embeddings), unbounded in R.

Training: every position predicts the next item. For targets y_t = s_{t+1}
(padding targets ignored), the default ``loss="softmax"`` is the full softmax
cross-entropy over the whole catalogue (Klenitskiy and Vasilev, RecSys 2023)::

    loss = mean_t [ -<h_t, E[y_t]> + log sum_i exp(<h_t, E[i]>) ]

and ``loss="bce"`` is the paper's binary cross-entropy with one negative item
j_t drawn uniformly per position (never the target itself)::

    loss = mean_t [ -log sigma(<h_t, E[y_t]>) - log(1 - sigma(<h_t, E[j_t]>)) ]

A history longer than L + 1 is cut into windows of L + 1 items from its end
(the last one overlapping), so every training event is a target once.

Serving scores only the LAST position of each user's history: h_u (one
d-vector per user, computed once after training), then
``score(u, i) = <h_u, E[i]>``, a users x items matrix product. Predicting every
position's catalogue scores would take gigabytes on ml-latest-small.

TensorFlow is imported lazily, as in :mod:`recsys_helpers.models.two_tower`.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np

from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender
from recsys_helpers.models.params import check_choice, check_int, check_number
from recsys_helpers.models.sequential import user_sequences
from recsys_helpers.models.two_tower import _keras, progress_callback

__all__ = ["SASRec", "build_encoder", "build_trainer", "last_items", "windows"]

LAYER_NORM_EPSILON = 1e-8


def windows(sequences: list[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Training inputs and next-item targets, left-padded with 0.

    Each sequence (item ids 1..n, time order) is cut from its end into windows
    of ``max_len + 1`` items (the first window may be shorter); a window w
    gives the input w[:-1] and the target w[1:], both left-padded to
    ``max_len``. Sequences of one item give nothing to learn and are skipped.

    Args:
        sequences: One int array per user.
        max_len: L, the length of the inputs.

    Returns:
        ``(inputs, targets)``: int32 arrays (n_windows, L); 0 is padding.
    """
    inputs, targets = [], []
    for seq in sequences:
        for end in range(len(seq), 1, -max_len):
            window = seq[max(0, end - max_len - 1) : end]
            inputs.append(_left_pad(window[:-1], max_len))
            targets.append(_left_pad(window[1:], max_len))
    if not inputs:
        raise ValueError("SASRec: no user has two training events to learn from.")
    return np.stack(inputs), np.stack(targets)


def last_items(sequences: list[np.ndarray], max_len: int) -> np.ndarray:
    """Each sequence's last ``max_len`` items, left-padded with 0 (int32)."""
    return np.stack([_left_pad(seq[-max_len:], max_len) for seq in sequences])


def _left_pad(values: np.ndarray, length: int) -> np.ndarray:
    out = np.zeros(length, dtype=np.int32)
    if len(values):
        out[-len(values) :] = values
    return out


def build_encoder(
    n_items: int, max_len: int, dim: int, blocks: int, heads: int, dropout: float
) -> Any:
    """The SASRec network: padded ids (B, L) -> hidden states (B, L, d).

    Layers: ``item_embedding`` (n_items + 1 rows, row 0 = padding), a learned
    position embedding, then ``blocks`` causal self-attention blocks and a
    final layer norm (see the module docstring for the formulas).
    """
    keras = _keras()
    layers, ops = keras.layers, keras.ops
    ids = keras.Input(shape=(max_len,), dtype="int32", name="items")
    valid = ops.not_equal(ids, 0)  # (B, L): True for an item, False for padding
    m = ops.expand_dims(ops.cast(valid, "float32"), -1)  # (B, L, 1)
    causal = np.tril(np.ones((max_len, max_len), dtype=bool))  # t' <= t
    mask = ops.logical_and(ops.expand_dims(valid, 1), causal)  # (B, L, L)
    items = layers.Embedding(n_items + 1, dim, name="item_embedding")(ids)
    positions = ops.zeros_like(ids) + ops.arange(max_len, dtype="int32")
    x = items * np.sqrt(dim) + layers.Embedding(max_len, dim, name="position")(
        positions
    )
    x = layers.Dropout(dropout)(x) * m
    for _ in range(blocks):
        x = causal_block(x, mask, m, dim, heads, dropout)
    h = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON)(x)
    return keras.Model(ids, h, name="sasrec")


def causal_block(
    x: Any, mask: Any, m: Any, dim: int, heads: int, dropout: float
) -> Any:
    """One block: causal multi-head self-attention, then a feed-forward net.

    Both sub-layers read a layer-normed copy and add their output to x
    (residual); padding positions are zeroed at the end (``m``).
    """
    layers = _keras().layers
    query = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON)(x)
    attention = layers.MultiHeadAttention(heads, dim // heads, dropout=dropout)
    x = x + layers.Dropout(dropout)(attention(query, x, x, attention_mask=mask))
    h = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON)(x)
    h = layers.Dropout(dropout)(layers.Dense(dim, activation="relu")(h))
    h = layers.Dropout(dropout)(layers.Dense(dim)(h))
    return (x + h) * m


def build_trainer(encoder: Any, loss: str, seed: int) -> Any:
    """A ``keras.Model`` whose ``fit(inputs, targets)`` trains ``encoder``.

    Each step keeps the non-padding target positions, then applies the full
    softmax cross-entropy over the n items (``loss="softmax"``) or the BCE
    with one uniform negative per position (``loss="bce"``); the output layer
    is the item embedding table (rows 1..n).
    """
    keras = _keras()
    import tensorflow as tf

    ops = keras.ops
    table_layer = encoder.get_layer("item_embedding")

    class NextItem(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.seeds = keras.random.SeedGenerator(seed)
            self.loss_tracker = keras.metrics.Mean(name="loss")

        def call(self, inputs: Any, training: bool = False) -> Any:
            return self.encoder(inputs, training=training)

        def train_step(self, data: Any) -> dict[str, Any]:
            ids, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
            with tf.GradientTape() as tape:
                h = self(ids, training=True)
                keep = ops.not_equal(targets, 0)
                h = tf.boolean_mask(h, keep)  # (N, d): real positions only
                y = tf.boolean_mask(targets, keep) - 1  # item index 0..n-1
                table = table_layer.embeddings[1:]  # (n, d), padding row dropped
                value = next_item_loss(h, y, table, loss, self.seeds)
            grads = tape.gradient(value, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            self.loss_tracker.update_state(value)
            return {"loss": self.loss_tracker.result()}

        @property
        def metrics(self) -> list[Any]:
            return [self.loss_tracker]

    return NextItem()


def next_item_loss(h: Any, y: Any, table: Any, loss: str, seeds: Any) -> Any:
    """Mean next-item loss of hidden states ``h`` (N, d), targets ``y`` (N,).

    ``"softmax"``: cross-entropy of softmax(h E^T) over all n items;
    ``"bce"``: -log sigma(<h, E_y>) - log(1 - sigma(<h, E_j>)), j uniform,
    j != y.
    """
    keras = _keras()
    ops = keras.ops
    if loss == "softmax":
        logits = ops.matmul(h, ops.transpose(table))
        return ops.mean(
            keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
        )
    n = ops.shape(table)[0]
    shift = keras.random.randint(ops.shape(y), 1, n, dtype="int32", seed=seeds)
    negative = ops.mod(y + shift, n)  # uniform over the other n - 1 items
    positive_logit = ops.sum(h * ops.take(table, y, axis=0), axis=-1)
    negative_logit = ops.sum(h * ops.take(table, negative, axis=0), axis=-1)
    return ops.mean(ops.softplus(-positive_logit) + ops.softplus(negative_logit))


class SASRec(Recommender):
    """Self-attentive sequential recommendation: what comes next.

    score(u, i) = <h_u, E[i]>, with h_u the last hidden state of the causal
    self-attention network over u's last ``max_len`` training items (time
    order, repeats kept) and E the item embeddings; scores lie in R. See the
    module docstring for the network and the two losses. Users need a
    training history (cold users are refused); an item never seen in training
    keeps its random initial embedding.

    Defaults were chosen on a validation split carved from train
    (``split.leave_last_out`` of the train part of ``split.leave_last_out``)
    of shop by ``benchmarks/tune_sasrec.py``: validation nDCG@10 0.112 with
    L = 50, batch 128, 30 epochs; 0.118 with L = 20 (shop histories are
    short: about 16 events); 0.120 with 60 epochs; 0.129 with L = 20, batch 32,
    40 epochs (more updates), the default, beside ALS 0.131, Transitions
    0.096 and Popularity 0.076. Dropout 0 (0.085) and 0.5 (0.091) were worse.
    The epochs are capped for time: the full softmax costs several seconds
    per epoch on ml-latest-small (9,742 items).

    Args:
        embedding_dim: d, the size of item, position and hidden vectors;
            a positive multiple of ``heads``.
        blocks: Number of self-attention blocks, >= 1.
        heads: Attention heads per block, >= 1.
        max_len: L, the number of latest items read, >= 1.
        dropout: Dropout rate in [0, 1).
        loss: ``"softmax"`` (full cross-entropy over the catalogue) or
            ``"bce"`` (one sampled negative per position, the paper's).
        epochs: Passes over the training windows, >= 1.
        batch_size: Windows per step, >= 1.
        learning_rate: Adam's step size, > 0.
        random_state: Seed of initialisation, dropout, shuffling and negatives.

    Attributes:
        user_vectors_: (n_users, d) float32, h_u of each user (0 without history).
        item_vectors_: (n_items, d) float32, E[i] for items in catalogue order.
        history_: Training loss after each epoch.
        network_: The trained Keras encoder (padded ids -> hidden states).
    """

    def __init__(
        self,
        embedding_dim: int = 64,
        blocks: int = 2,
        heads: int = 1,
        max_len: int = 20,
        dropout: float = 0.2,
        loss: str = "softmax",
        epochs: int = 40,
        batch_size: int = 32,
        learning_rate: float = 0.002,
        random_state: int = 0,
    ) -> None:
        self.embedding_dim = embedding_dim
        self.blocks = blocks
        self.heads = heads
        self.max_len = max_len
        self.dropout = dropout
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state

    def _check_params(self) -> None:
        for name in ("embedding_dim", "blocks", "heads", "max_len", "epochs"):
            check_int("SASRec", name, getattr(self, name))
        check_int("SASRec", "batch_size", self.batch_size)
        if self.embedding_dim % self.heads:
            raise ValueError(
                f"SASRec: embedding_dim ({self.embedding_dim}) must be a multiple "
                f"of heads ({self.heads})"
            )
        check_number("SASRec", "dropout", self.dropout)
        if self.dropout >= 1:
            raise ValueError(f"SASRec: dropout must be < 1, got {self.dropout!r}")
        check_choice("SASRec", "loss", self.loss, ("softmax", "bce"))
        check_number("SASRec", "learning_rate", self.learning_rate, strict=True)
        check_int("SASRec", "random_state", self.random_state, minimum=0)

    def _fit(self, train: Dataset) -> None:
        self._check_params()
        sequences = [seq + 1 for seq in user_sequences(train)]  # 0 = padding
        inputs, targets = windows(sequences, self.max_len)
        keras = _keras()
        gc.collect()  # Keras models hold reference cycles: free earlier ones now
        keras.utils.set_random_seed(self.random_state)
        n_items = train.n_items
        self.network_ = build_encoder(
            n_items,
            self.max_len,
            self.embedding_dim,
            self.blocks,
            self.heads,
            self.dropout,
        )
        trainer = build_trainer(self.network_, self.loss, self.random_state)
        trainer.compile(optimizer=keras.optimizers.Adam(self.learning_rate))
        history = trainer.fit(
            inputs,
            targets,
            batch_size=self.batch_size,
            epochs=self.epochs,
            shuffle=True,
            verbose=0,
            callbacks=[progress_callback(self.epochs, desc="SASRec")],
        )
        self.history_ = [float(v) for v in history.history["loss"]]
        table = self.network_.get_layer("item_embedding").get_weights()[0]
        self.item_vectors_ = table[1:].astype(np.float32)
        self.user_vectors_ = self.last_hidden(sequences)

    def last_hidden(self, sequences: list[np.ndarray], chunk: int = 1024) -> np.ndarray:
        """The hidden state h at the last position of each sequence (0 if empty).

        Args:
            sequences: One int array of item ids (1..n, time order) per user.
            chunk: Sequences run through the network at once.

        Returns:
            float32 array (len(sequences), d).
        """
        ops = _keras().ops
        padded = last_items(sequences, self.max_len)
        parts = [
            ops.convert_to_numpy(
                self.network_(padded[s : s + chunk], training=False)[:, -1]
            )
            for s in range(0, len(padded), chunk)
        ]
        vectors = np.concatenate(parts).astype(np.float32)
        vectors[padded[:, -1] == 0] = 0.0
        return vectors

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return (self.user_vectors_[rows] @ self.item_vectors_.T).astype(np.float64)
