"""Exercise cases of lesson ``07_multi_stage``: reference and wrong answers."""

from __future__ import annotations

import numpy as np

from recsys_helpers.exercises import multi_stage
from tests.exercise_cases import Exercise

DAY = 86_400


def _counts_including_now(items, times, n_items, when, days):
    inside = (times >= when - days * DAY) & (times <= when + DAY)
    return np.bincount(items[inside], minlength=n_items)


def _counts_all_past(items, times, n_items, when, days):
    return np.bincount(items[times < when], minlength=n_items)


def _labels_by_item(cand_users, cand_items, window_users, window_items):
    return np.isin(cand_items, window_items).astype(int)


def _labels_counted(cand_users, cand_items, window_users, window_items):
    pairs = list(zip(window_users.tolist(), window_items.tolist(), strict=True))
    return np.array(
        [
            pairs.count(p)
            for p in zip(cand_users.tolist(), cand_items.tolist(), strict=True)
        ]
    )


def _bans_every_owned(kind, launched, owned, when):
    return ~owned & (launched <= when)


def _forgets_launch(kind, launched, owned, when):
    return ~((kind == "durable") & owned)


def _launch_strict(kind, launched, owned, when):
    return ~((kind == "durable") & owned) & (launched < when)


def _plain_top_k(relevance, similarity, k, diversity):
    return np.argsort(-relevance, kind="stable")[:k]


def _sum_of_similarities(relevance, similarity, k, diversity):
    chosen, total = [], np.zeros(relevance.size)
    for _ in range(k):
        value = (1 - diversity) * relevance - diversity * total
        value[chosen] = -np.inf
        pick = int(np.argmax(value))
        chosen.append(pick)
        total = total + similarity[pick]
    return np.array(chosen)


def _picks_again(relevance, similarity, k, diversity):
    chosen, closest = [], np.zeros(relevance.size)
    for _ in range(k):
        pick = int(np.argmax((1 - diversity) * relevance - diversity * closest))
        chosen.append(pick)
        closest = np.maximum(closest, similarity[pick] * 0.5)
    return np.array(chosen)


EXERCISES = [
    Exercise(
        multi_stage.check_recent_counts,
        multi_stage.reference_recent_counts,
        wrong={
            "counts the future": (_counts_including_now, "a leak"),
            "no window start": (_counts_all_past, "last 30 days"),
        },
    ),
    Exercise(
        multi_stage.check_next_window_labels,
        multi_stage.reference_next_window_labels,
        wrong={
            "item bought by anyone": (_labels_by_item, "not to the item"),
            "counts repeats": (_labels_counted, "0 or 1"),
        },
    ),
    Exercise(
        multi_stage.check_allowed,
        multi_stage.reference_allowed,
        wrong={
            "bans owned consumables": (_bans_every_owned, "bought again"),
            "forgets the launch": (_forgets_launch, "not on sale yet"),
            "launch strictly before": (_launch_strict, "exactly at the ranking time"),
        },
    ),
    Exercise(
        multi_stage.check_mmr_rerank,
        multi_stage.reference_mmr_rerank,
        wrong={
            "ignores diversity": (_plain_top_k, "with diversity 0.3"),
            "sum instead of max": (_sum_of_similarities, "with diversity 0.3"),
            "picks an item twice": (_picks_again, "picked twice"),
        },
    ),
]
