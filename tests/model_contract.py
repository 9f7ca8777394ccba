"""Contract tests every recommender passes, on a checkerboard with a known answer.

Use it by subclassing in a model's own test file::

    class TestItemKNNContract(ModelContract):
        personalised = True

        def make_model(self):
            return ItemKNN(neighbors=5)

A model that cannot fit on interactions alone (its scores come from item
text) declares it with the class attribute ``requires_item_text = True``; the
contract then checks that such a fit fails with a ValueError naming the
missing column instead.

The checkerboard: 8 users and 8 items; even users bought even items and odd
users odd items, each user missing exactly one item of their parity (a
different one per user, so every item has the same popularity). A
personalised model must rank that missing item first among the unseen ones.
Items carry tags ("Group Even" / "Group Odd") so content models can learn too.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender

N = 8
# the class attribute by which a model declares that it needs item text
TEXT_FLAG = "requires_item_text"


def checkerboard() -> tuple[Dataset, dict[int, int]]:
    """The fixture dataset and each user's held-out (expected) item."""
    rows, held_out = [], {}
    for user in range(N):
        same = [item for item in range(N) if item % 2 == user % 2]
        missing = same[(user // 2) % len(same)]
        held_out[user + 1] = missing + 1
        rows += [
            (user + 1, item + 1, 10 * user + item) for item in same if item != missing
        ]
    interactions = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    items = pd.DataFrame(
        {
            "item_id": np.arange(1, N + 1),
            "title": [f"Item {i}" for i in range(1, N + 1)],
            "tags": ["Group Even" if i % 2 == 0 else "Group Odd" for i in range(N)],
        }
    )
    users = pd.DataFrame({"user_id": np.arange(1, N + 1)})
    return Dataset.from_frames(
        interactions, items, users, name="checkerboard"
    ), held_out


def _learned(model: Recommender) -> list[str]:
    """The model's learned attributes: public names ending in ``_``."""
    return [n for n in vars(model) if n.endswith("_") and not n.startswith("_")]


class ModelContract:
    """Shared tests; subclasses define make_model() and set the flags."""

    personalised: bool = True  # must find each user's held-out item

    def make_model(self) -> Recommender:
        raise NotImplementedError

    @pytest.fixture
    def board(self):
        return checkerboard()

    @pytest.fixture
    def fitted(self, board):
        ds, _ = board
        return self.make_model().fit(ds)

    def test_fit_returns_self_and_init_only_stores_params(self, board):
        model = self.make_model()
        params = model.get_params()
        assert model.fit(board[0]) is model
        assert clone(model).get_params() == params
        learned = [k for k in vars(model) if k not in params]
        assert learned and all(k.endswith("_") for k in learned), learned

    def test_fit_does_not_mutate_the_dataset(self, board):
        ds, _ = board
        before = ds.interactions.copy(), ds.items.copy(), ds.users.copy()
        self.make_model().fit(ds)
        for frame, copy in zip(
            (ds.interactions, ds.items, ds.users), before, strict=True
        ):
            pd.testing.assert_frame_equal(frame, copy)

    def test_score_shape_and_finite(self, fitted):
        scores = fitted.score([1, 2, 3])
        assert scores.shape == (3, N)
        assert np.isfinite(scores).all()

    def test_recommend_frame(self, fitted, board):
        ds, _ = board
        recs = fitted.recommend([1, 2], n=4)
        assert list(recs.columns) == ["user_id", "item_id", "score", "rank"]
        for user, group in recs.groupby("user_id"):
            seen = set(ds.interactions.loc[ds.interactions.user_id == user, "item_id"])
            assert not seen & set(group.item_id), "recommended a seen item"
            assert list(group["rank"]) == list(range(1, len(group) + 1))
            assert group.score.is_monotonic_decreasing
            assert group.item_id.is_unique
        assert len(recs) == 8  # every user has 5 unseen items >= 4

    def test_recommend_agrees_with_score(self, fitted):
        scores = fitted.score([3])[0]
        seen = fitted.user_items_[fitted.train_.user_index([3])].indices
        scores[seen] = -np.inf
        top = fitted.recommend(3, n=1)
        assert top.score.iloc[0] == pytest.approx(scores.max())

    def test_exclude_seen_false_can_return_seen(self, fitted):
        recs = fitted.recommend(1, n=N, exclude_seen=False)
        assert len(recs) == N

    def test_bad_input(self, fitted):
        with pytest.raises(KeyError, match="unknown user"):
            fitted.recommend([99])
        with pytest.raises(TypeError, match="did you mean"):
            fitted.recommend(["1"])
        with pytest.raises(ValueError, match=f"n must be between 1 and the {N} items"):
            fitted.recommend([1], n=N + 1)
        with pytest.raises(ValueError, match=r"n must be between .*, got 0\."):
            fitted.recommend([1], n=0)
        with pytest.raises(TypeError, match="n must be an integer"):
            fitted.recommend([1], n=2.5)
        with pytest.raises(ValueError, match=f"k must be between 1 and the {N} items"):
            fitted.top_k_rows(np.array([0]), N + 1)

    def test_failed_fit_leaves_the_model_unfitted(self, board, monkeypatch):
        ds, _ = board
        model = self.make_model().fit(ds)
        assert _learned(model)

        def failing_fit(train):
            model.partial_ = "half-learned"
            raise RuntimeError("boom")

        monkeypatch.setattr(model, "_fit", failing_fit)
        with pytest.raises(RuntimeError, match="boom"):
            model.fit(ds)
        assert _learned(model) == []  # neither this fit's state nor the last one's
        with pytest.raises(RuntimeError, match="not fitted"):
            model.recommend([1])
        # bad data after a good fit: unfitted too
        monkeypatch.undo()
        model.fit(ds)
        with pytest.raises(TypeError, match="Dataset"):
            model.fit(ds.interactions)
        assert _learned(model) == []
        with pytest.raises(RuntimeError, match="not fitted"):
            model.score([1])

    def test_fits_interactions_alone_with_defaults(self, board):
        ds, _ = board
        bare = Dataset.from_frames(ds.interactions)  # items: item_id only
        assert list(bare.items.columns) == ["item_id"]
        cls = type(self.make_model())
        model = cls()
        if getattr(cls, TEXT_FLAG, False):
            column = getattr(model, "text_column", "tags")
            with pytest.raises(ValueError, match=re.escape(repr(column))):
                model.fit(bare)
            assert _learned(model) == []
        else:
            model.fit(bare)
            recs = model.recommend(bare.user_ids, n=2)
            assert len(recs) == 2 * bare.n_users
            assert np.isfinite(recs.score).all()

    def test_unfitted_model_raises(self):
        with pytest.raises(RuntimeError, match="not fitted"):
            self.make_model().recommend([1])

    def test_deterministic(self, board):
        ds, _ = board
        first = self.make_model().fit(ds).score([1, 2, 5])
        second = self.make_model().fit(ds).score([1, 2, 5])
        np.testing.assert_allclose(first, second)

    def test_known_answer_on_checkerboard(self, fitted, board):
        if not self.personalised:
            pytest.skip("not a personalised model")
        _, held_out = board
        recs = fitted.recommend(list(held_out), n=1)
        assert dict(zip(recs.user_id, recs.item_id, strict=True)) == held_out
