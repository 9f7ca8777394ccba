"""Tests of recsys_helpers.plotting: each function draws what it should."""

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import BarContainer, ErrorbarContainer

from recsys_helpers import data, plotting


@pytest.fixture(autouse=True)
def agg_backend():
    """Draw off-screen, keep every test's style changes to itself, free figures."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context():
        yield plt
    plt.close("all")


@pytest.fixture
def small():
    # item 1: 3 users, item 2: 1, item 3: 2 (and a repeat), item 4: none
    interactions = pd.DataFrame(
        {"user_id": [1, 2, 3, 1, 2, 3, 3], "item_id": [1, 1, 1, 2, 3, 3, 3]}
    )
    items = pd.DataFrame({"item_id": [1, 2, 3, 4]})
    return data.Dataset.from_frames(interactions, items, name="small")


@pytest.fixture
def leaderboard():
    return pd.DataFrame(
        {
            "ndcg@10": [0.30, 0.10, 0.20],
            "ndcg@10_low": [0.25, 0.08, 0.15],
            "ndcg@10_high": [0.34, 0.13, 0.26],
            "recall@10": [0.5, 0.7, 0.6],
            "recall@10_low": [0.4, 0.6, 0.5],
            "recall@10_high": [0.6, 0.8, 0.7],
        },
        index=pd.Index(["ALS", "Popularity", "ItemKNN"], name="model"),
    )


def _bars(ax):
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    return bars


def test_palette_is_okabe_ito_and_distinct():
    assert len(plotting.PALETTE) == 8
    assert all(mcolors.is_color_like(c) for c in plotting.PALETTE)
    assert len({c.lower() for c in plotting.PALETTE}) == 8
    assert plotting.PALETTE[:3] == ["#0072B2", "#E69F00", "#009E73"]


def test_use_course_style_sets_the_palette(agg_backend):
    plt = agg_backend
    plotting.use_course_style()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    assert [c.lower() for c in colors] == [c.lower() for c in plotting.PALETTE]
    assert not plt.rcParams["axes.spines.top"]
    assert not plt.rcParams["axes.spines.right"]
    assert plt.rcParams["axes.grid"]
    assert list(plt.rcParams["figure.figsize"]) == [6.4, 3.6]
    # a new line takes the first colour of the palette
    _, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    assert mcolors.to_hex(line.get_color()) == plotting.PALETTE[0].lower()


def test_plot_long_tail_draws_sorted_counts(small):
    ax = plotting.plot_long_tail(small)
    assert isinstance(ax, matplotlib.axes.Axes)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])  # ranks
    # users per item, descending: the repeat of item 3 is not counted twice
    np.testing.assert_array_equal(line.get_ydata(), [3, 2, 1, 0])
    assert mcolors.to_hex(line.get_color()) == plotting.PALETTE[0].lower()
    assert ax.get_yscale() == "symlog"
    assert ax.get_xlabel() == "item rank by popularity"
    assert ax.get_ylabel() == "users"
    assert ax.get_title() == "small: the long tail"


def test_plot_long_tail_draws_on_the_given_axes(small, agg_backend):
    fig, (left, right) = agg_backend.subplots(1, 2)
    assert plotting.plot_long_tail(small, ax=right) is right
    assert len(right.get_lines()) == 1
    assert not left.get_lines()
    assert len(fig.axes) == 2


def test_plot_leaderboard_bars_sorted_with_intervals(leaderboard):
    ax = plotting.plot_leaderboard(leaderboard)
    assert isinstance(ax, matplotlib.axes.Axes)
    bars = _bars(ax)
    assert len(bars) == 3
    widths = [bar.get_width() for bar in bars]
    np.testing.assert_allclose(widths, [0.10, 0.20, 0.30])  # best on top
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Popularity", "ItemKNN", "ALS"]
    assert ax.get_xlabel() == "ndcg@10 (95% CI over users)"
    assert mcolors.to_hex(bars[0].get_facecolor()) == plotting.PALETTE[0].lower()
    # one horizontal error bar per model, from the low to the high bound
    (errorbar,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert errorbar.has_xerr and not errorbar.has_yerr
    (segments,) = errorbar.lines[2]
    ends = np.sort([seg[:, 0] for seg in segments.get_segments()], axis=1)
    np.testing.assert_allclose(ends, [[0.08, 0.13], [0.15, 0.26], [0.25, 0.34]])


def test_plot_leaderboard_other_metric_and_axes(leaderboard, agg_backend):
    _, ax = agg_backend.subplots()
    assert plotting.plot_leaderboard(leaderboard, "recall@10", ax=ax) is ax
    widths = [bar.get_width() for bar in _bars(ax)]
    np.testing.assert_allclose(widths, [0.5, 0.6, 0.7])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["ALS", "ItemKNN", "Popularity"]
    assert ax.get_xlabel().startswith("recall@10")


def test_plot_leaderboard_needs_the_interval_columns(leaderboard):
    with pytest.raises(KeyError, match="ndcg@10_low"):
        plotting.plot_leaderboard(leaderboard.drop(columns="ndcg@10_low"))
