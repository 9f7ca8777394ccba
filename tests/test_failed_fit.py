"""The issue's two findings: a fit that raises leaves the model unfitted.

Before, ``ALS(factors=0).fit(ds)`` raised but left ``train_`` set, so
``recommend`` failed later with ``AttributeError: user_factors_``; the same
with ContentBased and a bad ``text_column``. The generic version of this is in
``tests/model_contract.py``.
"""

import pytest

from recsys_helpers import data
from recsys_helpers.models import ALS, ContentBased


@pytest.fixture(scope="module")
def toy():
    return data.load("toy")


@pytest.mark.parametrize(
    "model, message",
    [
        (ALS(factors=0), "factors must be a positive integer, got 0"),
        (ContentBased(text_column="no such column"), "no such column"),
    ],
    ids=["ALS(factors=0)", "ContentBased(bad text_column)"],
)
def test_failed_fit_then_recommend_says_not_fitted(toy, model, message):
    with pytest.raises(ValueError, match=message):
        model.fit(toy)
    assert not [name for name in vars(model) if name.endswith("_")]
    with pytest.raises(RuntimeError, match="not fitted: call fit"):
        model.recommend(1, n=3)


def test_a_failed_refit_forgets_the_earlier_fit(toy):
    model = ALS(factors=2, iterations=2).fit(toy)
    assert model.recommend(1, n=2).shape[0] == 2
    model.set_params(factors=0)
    with pytest.raises(ValueError, match="factors"):
        model.fit(toy)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.recommend(1, n=2)
