"""Exercise cases of lesson 08 (serving): reference and wrong answers."""

from __future__ import annotations

import numpy as np

from recsys_helpers.exercises import serving
from tests.exercise_cases import Exercise


def _position_by_position(found, exact):
    return float(np.mean(found == exact))


def _padding_counts(found, exact):
    return float(
        np.mean([np.isin(e, f).mean() for f, e in zip(found, exact, strict=True)])
    )


def _over_k(found, exact):
    k = exact.shape[1]
    pairs = zip(found, exact, strict=True)
    return float(np.mean([np.intersect1d(f[f >= 0], e).size / k for f, e in pairs]))


def _fetch_only_k(search, user_vector, seen, k):
    return [int(i) for i in search(user_vector, k) if int(i) not in seen]


def _fetch_everything(search, user_vector, seen, k):
    return [int(i) for i in search(user_vector, 10**6) if int(i) not in seen][:k]


def _sorted_by_id(search, user_vector, seen, k):
    return sorted(serving.reference_unseen_top_k(search, user_vector, seen, k))


def _mean_and_p99(seconds):
    ms = np.asarray(seconds) * 1000
    return float(ms.mean()), float(np.percentile(ms, 99))


def _median_and_max(seconds):
    ms = np.asarray(seconds) * 1000
    return float(np.median(ms)), float(ms.max())


def _in_seconds(seconds):
    return float(np.percentile(seconds, 50)), float(np.percentile(seconds, 99))


def _never_converts(text, ids_are_int):
    return text


def _always_int(text, ids_are_int):
    return int(text)


def _via_float(text, ids_are_int):
    return int(float(text)) if ids_are_int else text


EXERCISES = [
    Exercise(
        serving.check_recall_vs_exact,
        serving.reference_recall_vs_exact,
        wrong={
            "position by position": (_position_by_position, "position by position"),
            "padding counted": (_padding_counts, "padding -1 is not an item"),
            "divided by k": (_over_k, "counts out of 2"),
        },
    ),
    Exercise(
        serving.check_unseen_top_k,
        serving.reference_unseen_top_k,
        wrong={
            "fetch only k": (_fetch_only_k, "asking the index for only k"),
            "fetch everything": (_fetch_everything, "k plus the number of seen"),
            "sorted by id": (_sorted_by_id, "not in the index's order"),
        },
    ),
    Exercise(
        serving.check_latency_percentiles,
        serving.reference_latency_percentiles,
        wrong={
            "mean": (_mean_and_p99, "is the mean"),
            "max": (_median_and_max, "not the slowest request"),
            "seconds": (_in_seconds, "in milliseconds"),
        },
    ),
    Exercise(
        serving.check_parse_user_id,
        serving.reference_parse_user_id,
        wrong={
            "never converts": (_never_converts, "the seed's bug"),
            "always int": (_always_int, "'42' is an id as it is"),
            "via float": (_via_float, "instead of raising ValueError"),
        },
    ),
]
