"""evaluation.pairwise: paired bootstrap p-values with Holm's correction."""

import numpy as np
import pandas as pd
import pytest

from recsys_helpers import evaluation


def _frames(**columns):
    users = np.arange(1, len(next(iter(columns.values()))) + 1)
    return {
        name: pd.DataFrame({"user_id": users, "ndcg": values})
        for name, values in columns.items()
    }


def test_holm_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04,
    # made non-decreasing -> 0.02, 0.03, 0.06, 0.06
    np.testing.assert_allclose(evaluation._holm(p), [0.03, 0.06, 0.06, 0.02])


def test_clear_winner_tie_and_order():
    rng = np.random.default_rng(0)
    base = rng.random(400)
    per_user = _frames(
        strong=base + 0.2,
        same=base + rng.normal(0, 0.01, 400),
        reference=base,
    )
    table = evaluation.pairwise(per_user, ["strong", "same", "reference"])
    assert list(zip(table.a, table.b, strict=True)) == [
        ("strong", "same"),
        ("strong", "reference"),
        ("same", "reference"),
    ]
    verdicts = dict(zip(zip(table.a, table.b, strict=True), table.verdict, strict=True))
    assert verdicts[("strong", "reference")] == "a wins"
    assert verdicts[("same", "reference")] == "tie"
    assert (table.p_holm >= table.p).all()
    assert table.loc[0, "difference"] == pytest.approx(0.2, abs=0.01)


def test_loser_is_named():
    base = np.linspace(0, 1, 300)
    table = evaluation.pairwise(_frames(weak=base - 0.1, good=base), ["weak", "good"])
    assert table.verdict.tolist() == ["b wins"]


def test_correction_can_turn_a_win_into_a_tie():
    # a borderline difference: separated alone, not among many comparisons
    rng = np.random.default_rng(3)
    base = rng.random(200)
    noise = {f"m{i}": base + rng.normal(0, 0.3, 200) for i in range(6)}
    per_user = _frames(edge=base + 0.045 + rng.normal(0, 0.3, 200), **noise)
    names = list(per_user)
    table = evaluation.pairwise(per_user, names)
    assert (table.p_holm >= table.p).all()
    assert ((table.p < 0.05) & (table.verdict == "tie")).any()


def test_errors():
    per_user = _frames(a=np.ones(3), b=np.zeros(3))
    with pytest.raises(ValueError, match="at least two"):
        evaluation.pairwise(per_user, ["a"])
    with pytest.raises(KeyError, match="not among"):
        evaluation.pairwise(per_user, ["a", "c"])
    other = {**per_user, "c": per_user["b"].assign(user_id=[7, 8, 9])}
    with pytest.raises(ValueError, match="other users"):
        evaluation.pairwise(other, ["a", "c"])
