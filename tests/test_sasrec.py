"""SASRec: the contract, its data preparation by hand, what it learns."""

import numpy as np
import pandas as pd
import pytest

from recsys_helpers import data, evaluation, split
from recsys_helpers.data import Dataset
from recsys_helpers.models.sequential import user_sequences
from tests.model_contract import ModelContract, checkerboard

pytest.importorskip("keras")


def sasrec(**params):
    from recsys_helpers.models import SASRec

    small = {"embedding_dim": 16, "max_len": 8, "epochs": 40, "batch_size": 8}
    return SASRec(**{**small, "learning_rate": 0.01, "random_state": 1, **params})


_CACHE = {}


def fitted_on(name, ds, **params):
    """Fit once per dataset and parameter set: Keras models take seconds."""
    key = (name, tuple(sorted(params.items())))
    if key not in _CACHE:
        _CACHE[key] = sasrec(**params).fit(ds)
    return _CACHE[key]


class TestSASRecContract(ModelContract):
    # each checkerboard user's items come in item order: the held-out item is
    # not what comes next, so no known answer here (see the cycle test below)
    personalised = False

    def make_model(self):
        return sasrec(epochs=3)

    @pytest.fixture
    def fitted(self, board):
        return fitted_on("checkerboard", board[0], epochs=3)


# ------------------------------------------------------------ by hand
def _frame(sequences):
    rows = [
        (user, item, 100 * user + position)
        for user, items in sequences.items()
        for position, item in enumerate(items)
    ]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])


def test_user_sequences_follow_time_and_keep_repeats():
    frame = _frame({1: [3, 1, 1, 2], 2: [2], 3: [4, 3]}).sample(frac=1, random_state=0)
    sequences = user_sequences(Dataset.from_frames(frame))  # items 1..4 -> 0..3
    assert [s.tolist() for s in sequences] == [[2, 0, 0, 1], [1], [3, 2]]


def test_windows_by_hand():
    from recsys_helpers.models.sasrec import last_items, windows

    inputs, targets = windows([np.array([5, 6, 7, 8, 9]), np.array([4]), [1, 2]], 3)
    # 5 6 7 8 9 with L = 3: windows of 4 items from the end: 6 7 8 9, then 5 6
    np.testing.assert_array_equal(inputs, [[6, 7, 8], [0, 0, 5], [0, 0, 1]])
    np.testing.assert_array_equal(targets, [[7, 8, 9], [0, 0, 6], [0, 0, 2]])
    np.testing.assert_array_equal(
        last_items([np.array([5, 6, 7, 8, 9]), np.array([4])], 3),
        [[7, 8, 9], [0, 0, 4]],
    )


def test_no_window_to_learn_from_is_refused():
    from recsys_helpers.models.sasrec import windows

    with pytest.raises(ValueError, match="no user has two training events"):
        windows([np.array([1]), np.array([2])], 5)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"embedding_dim": 0}, "embedding_dim must be a positive integer"),
        ({"embedding_dim": 10, "heads": 4}, "must be a multiple of heads"),
        ({"max_len": 2.5}, "max_len must be a positive integer"),
        ({"dropout": 1.0}, "dropout must be < 1"),
        ({"dropout": -0.1}, "dropout must be >= 0"),
        ({"loss": "bpr"}, "loss must be one of"),
        ({"learning_rate": 0}, "learning_rate must be > 0"),
        ({"epochs": True}, "epochs must be a positive integer"),
    ],
)
def test_bad_hyper_parameters_fail_before_training(params, message):
    model = sasrec(**params)
    with pytest.raises(ValueError, match=message):
        model.fit(checkerboard()[0])
    assert not [k for k in vars(model) if k.endswith("_")]


# ------------------------------------------------------- what it learns
def _cycles(n_users=40, n_items=6, length=9):
    """Users walk the cycle 1 -> 2 -> ... -> 6 -> 1 from a random start."""
    rng = np.random.default_rng(0)
    starts = rng.integers(0, n_items, n_users)
    sequences = {
        u + 1: [(s + t) % n_items + 1 for t in range(length)]
        for u, s in enumerate(starts)
    }
    return Dataset.from_frames(_frame(sequences)), sequences


@pytest.mark.parametrize("loss", ["softmax", "bce"])
def test_learns_what_comes_next(loss):
    ds, sequences = _cycles()
    model = fitted_on("cycles", ds, loss=loss)
    assert model.history_[-1] < model.history_[0]
    top = model.recommend(list(sequences), n=1, exclude_seen=False)
    expected = [seq[-1] % 6 + 1 for seq in sequences.values()]
    assert (top.item_id.to_numpy() == expected).mean() == 1.0


def test_scores_are_the_last_hidden_state_times_the_items():
    ds, sequences = _cycles()
    model = fitted_on("cycles", ds, loss="softmax")
    table = model.network_.get_layer("item_embedding").get_weights()[0]
    padded = np.zeros((1, model.max_len), dtype=np.int32)
    last = np.array(sequences[3][-model.max_len :])  # item ids 1..6 = index + 1
    padded[0, -len(last) :] = last
    hidden = np.asarray(model.network_(padded, training=False))[0, -1]
    np.testing.assert_allclose(
        model.score([3])[0], hidden @ table[1:].T, rtol=1e-4, atol=1e-4
    )


def test_order_matters():
    # the same items, two orders: only the last item differs in what comes next
    ds, _ = _cycles()
    model = fitted_on("cycles", ds, loss="softmax")
    forward = model.last_hidden([np.array([1, 2, 3])]) @ model.item_vectors_.T
    backward = model.last_hidden([np.array([3, 2, 1])]) @ model.item_vectors_.T
    assert np.argmax(forward) == 3  # item 4 (index 3) follows 3
    assert np.argmax(backward) == 1  # item 2 (index 1) follows 1


def test_the_shop_next_purchase_beats_popularity():
    from recsys_helpers.models import Popularity, SASRec

    train, test = split.leave_last_out(data.load("shop"))
    result = evaluation.compare(
        {"SASRec": SASRec(epochs=10), "Popularity": Popularity()}, train, test
    )
    table = evaluation.versus(result.per_user, baseline="Popularity")
    assert table.loc["SASRec", "verdict"] == "wins"
