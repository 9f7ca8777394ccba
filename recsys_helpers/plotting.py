"""Figures shared by the lessons, in a colour-blind-safe palette.

The palette is Okabe and Ito's (2008), distinguishable with every common
colour-vision deficiency. Every function draws on an Axes it returns, so a
lesson can keep styling it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from recsys_helpers.data import Dataset

__all__ = ["PALETTE", "plot_leaderboard", "plot_long_tail", "use_course_style"]

PALETTE = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # green
    "#CC79A7",  # purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
]


def use_course_style() -> None:
    """Set the palette and a clean, readable default style for figures."""
    plt.rcParams.update(
        {
            "axes.prop_cycle": plt.cycler(color=PALETTE),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.figsize": (6.4, 3.6),
            "figure.dpi": 100,
        }
    )


def plot_long_tail(ds: Dataset, ax: Axes | None = None) -> Axes:
    """Users per item (distinct pairs), most to least popular (log scale).

    Repeat purchases are collapsed (:meth:`Dataset.distinct`): the curve shows
    how many users bought each item, not how many times it was sold.
    """
    ax = ax or plt.subplots()[1]
    counts = ds.distinct().interactions.groupby("item_id").size()
    counts = counts.reindex(ds.item_ids, fill_value=0).sort_values(ascending=False)
    ranks = np.arange(1, len(counts) + 1)
    ax.plot(ranks, counts.to_numpy(), color=PALETTE[0])
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel("item rank by popularity")
    ax.set_ylabel("users")
    ax.set_title(f"{ds.name}: the long tail")
    return ax


def plot_leaderboard(
    results: pd.DataFrame, metric: str = "ndcg@10", ax: Axes | None = None
) -> Axes:
    """Horizontal bars of a metric with its 95% confidence interval."""
    ax = ax or plt.subplots()[1]
    ordered = results.sort_values(metric)
    mean = ordered[metric].to_numpy()
    err = np.vstack(
        [mean - ordered[f"{metric}_low"].to_numpy(), ordered[f"{metric}_high"] - mean]
    )
    ax.barh(ordered.index, mean, xerr=err, color=PALETTE[0], capsize=3)
    ax.set_xlabel(f"{metric} (95% CI over users)")
    return ax
