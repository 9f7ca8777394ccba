"""Models that use the order of purchases: Transitions, and recency in Popularity."""

import numpy as np
import pandas as pd
import pytest

from recsys_helpers import data, evaluation, split
from recsys_helpers.data import Dataset
from recsys_helpers.models import Popularity, Transitions
from tests.model_contract import ModelContract


class TestTransitionsContract(ModelContract):
    # on the checkerboard the last item's successors are not the missing item
    personalised = False

    def make_model(self):
        return Transitions()


class TestRecentPopularityContract(ModelContract):
    personalised = False

    def make_model(self):
        return Popularity(recent_days=30)


@pytest.fixture(scope="module")
def shop():
    return data.load("shop")


# ------------------------------------------------------------ by hand
# Items a, b, c, d = 1, 2, 3, 4; each user's purchases in time order:
#   u1: a b c      u2: a b      u3: c a a (a repeat)      u4: d
# Transitions: a->b twice (u1, u2), b->c (u1), c->a (u3), a->a (u3); no
# transition crosses from one user to the next.
# Popularity (users per item): a 3, b 2, c 2, d 1 -> fallback / (3 + 1)
SEQUENCES = {1: [1, 2, 3], 2: [1, 2], 3: [3, 1, 1], 4: [4]}
FALLBACK = np.array([3, 2, 2, 1]) / 4
COUNTS = np.array(
    [  # from a, b, c, d (rows) to a, b, c, d (columns)
        [1, 2, 0, 0],
        [0, 0, 1, 0],
        [1, 0, 0, 0],
        [0, 0, 0, 0],
    ]
)
LAST = {1: 3, 2: 2, 3: 1, 4: 4}


def _sequences(shuffle_seed=None, with_time=True):
    rows = [
        (user, item, 10 * user + position)
        for user, items in SEQUENCES.items()
        for position, item in enumerate(items)
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    if shuffle_seed is not None:
        frame = frame.sample(frac=1.0, random_state=shuffle_seed)
    if not with_time:
        frame = frame.drop(columns="timestamp")
    return Dataset.from_frames(frame, name="sequences")


def test_transition_counts_by_hand():
    model = Transitions().fit(_sequences())
    np.testing.assert_array_equal(model.transitions_.toarray(), COUNTS)
    np.testing.assert_array_equal(model.last_item_, [2, 1, 0, 3])  # indices
    np.testing.assert_allclose(model.fallback_, FALLBACK)


def test_scores_by_hand():
    model = Transitions().fit(_sequences())
    scores = model.score([1, 2, 3, 4])
    for row, user in enumerate(SEQUENCES):
        expected = COUNTS[LAST[user] - 1] + FALLBACK
        np.testing.assert_allclose(scores[row], expected, err_msg=f"user {user}")
    # u1 (last c): a followed c once -> 1 + 3/4; the rest by popularity
    np.testing.assert_allclose(scores[0], [1.75, 0.5, 0.5, 0.25])
    # u3 (last a): b (2 + 2/4) before a (1 + 3/4), the repeat a -> a
    assert model.recommend(3, n=4, exclude_seen=False).item_id.tolist() == [2, 1, 3, 4]


def test_popularity_fallback():
    model = Transitions().fit(_sequences())
    # d has no successor: u4 gets the popularity order, ties by item order
    np.testing.assert_allclose(model.score(4)[0], FALLBACK)
    assert model.recommend(4, n=3).item_id.tolist() == [1, 2, 3]
    # one observed transition always outweighs the fallback
    assert (COUNTS.max(axis=1)[:3] + FALLBACK.min() > FALLBACK.max()).all()


def test_order_comes_from_time_not_rows():
    ordered = Transitions().fit(_sequences())
    for seed in range(3):
        shuffled = Transitions().fit(_sequences(shuffle_seed=seed))
        np.testing.assert_array_equal(
            shuffled.transitions_.toarray(), ordered.transitions_.toarray()
        )
        np.testing.assert_allclose(
            shuffled.score([1, 2, 3, 4]), ordered.score([1, 2, 3, 4])
        )


def test_without_time_the_log_order_counts():
    model = Transitions().fit(_sequences(with_time=False))
    np.testing.assert_array_equal(model.transitions_.toarray(), COUNTS)


def test_repeats_are_transitions_to_themselves():
    frame = pd.DataFrame(
        {"user_id": [1, 1, 1, 2, 2], "item_id": [7, 7, 7, 7, 8], "timestamp": range(5)}
    )
    model = Transitions().fit(Dataset.from_frames(frame))  # items [7, 8]
    np.testing.assert_array_equal(model.transitions_.toarray(), [[2, 1], [0, 0]])
    # user 1 (last 7): 7 followed 7 twice and 8 once
    np.testing.assert_allclose(model.score(1)[0], [2 + 2 / 3, 1 + 1 / 3])


def test_cold_users_are_refused():
    frame = pd.DataFrame({"user_id": [1, 1], "item_id": [1, 2], "timestamp": [1, 2]})
    ds = Dataset.from_frames(frame, users=pd.DataFrame({"user_id": [1, 2]}))
    model = Transitions().fit(ds)
    with pytest.raises(ValueError, match="no training interactions"):
        model.score([2])


# ---------------------------------------------------- Popularity(recent_days)
def test_recent_popularity_by_hand():
    day = 86_400
    # item 1: three users long ago; item 2: one user recently (twice);
    # item 3: one user recently and one long ago; item 4: one user long ago
    frame = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4, 4, 5, 6, 7],
            "item_id": [1, 1, 1, 2, 2, 3, 3, 4],
            "timestamp": np.array([0, 1, 2, 95, 96, 97, 3, 4]) * day,
        }
    )
    ds = Dataset.from_frames(frame)
    recent = Popularity(recent_days=10).fit(ds)
    # last 10 days before t=97: items 2 (user 4, once) and 3 (user 5); the
    # all-time count (2 for item 3, 1 for item 2) breaks the tie
    assert recent.recommend(1, n=3).item_id.tolist() == [3, 2, 4]
    scores = recent.score(1)[0]
    np.testing.assert_allclose(scores, [0, 1, 1, 0] + np.array([3, 1, 2, 1]) / 4)
    # all time: item 1 first
    assert Popularity().fit(ds).recommend(7, n=3).item_id.tolist() == [1, 3, 2]
    # a window covering everything is the all-time order
    everything = Popularity(recent_days=1000).fit(ds)
    np.testing.assert_array_equal(
        np.argsort(-everything.score(1)[0], kind="stable"),
        np.argsort(-Popularity().fit(ds).score(1)[0], kind="stable"),
    )


@pytest.mark.parametrize("bad", [0, -3, 0.0, float("nan"), True, "30"])
def test_recent_days_must_be_positive(bad):
    ds = _sequences()
    model = Popularity(recent_days=bad)
    with pytest.raises(ValueError, match=r"Popularity: recent_days must be > 0, got"):
        model.fit(ds)
    assert not hasattr(model, "counts_") and not hasattr(model, "train_")


def test_recent_days_needs_timestamps():
    toy = data.load("toy")
    with pytest.raises(ValueError, match="recent_days=30 needs a 'timestamp' column"):
        Popularity(recent_days=30).fit(toy)
    Popularity().fit(toy)  # all time needs no clock


# ------------------------------------------------------------ on the shop
def test_transitions_beat_popularity_on_the_next_purchase(shop):
    train, test = split.leave_last_out(shop)
    result = evaluation.compare(
        {"Transitions": Transitions(), "Popularity": Popularity()}, train, test
    )
    assert result.leaderboard.index[0] == "Transitions"
    table = evaluation.versus(result.per_user, baseline="Popularity")
    assert table.loc["Transitions", "low"] > 0
    assert table.loc["Transitions", "verdict"] == "wins"


def test_recent_popularity_beats_all_time_popularity(shop):
    train, test = split.global_time(shop, 0.2)
    result = evaluation.compare(
        {"Recent": Popularity(recent_days=30), "Popularity": Popularity()}, train, test
    )
    table = evaluation.versus(result.per_user, baseline="Popularity")
    assert table.loc["Recent", "low"] > 0
    assert table.loc["Recent", "verdict"] == "wins"
