"""spark.shutdown ends the JVM; compare_spark_als leaves none running.

Apart from ``test_spark.py``, whose module-wide session must outlive its
tests: these end the JVM that session would run in.
"""

from __future__ import annotations

import psutil

from recsys_helpers import data, evaluation, split
from recsys_helpers import spark as rs
from recsys_helpers.models import Popularity
from tests.test_spark import needs_java


def _jvm() -> psutil.Process | None:
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    return None if gateway is None else psutil.Process(gateway.proc.pid)


def _ended(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@needs_java
def test_shutdown_ends_the_jvm_and_spark_starts_again():
    rs.session(cores=1, shuffle_partitions=2)
    first = _jvm()
    assert first is not None and first.is_running()
    rs.shutdown()
    assert _ended(first)
    assert _jvm() is None
    again = rs.session(cores=1, shuffle_partitions=2)
    assert again.range(3).count() == 3
    second = _jvm()
    assert second is not None and second.pid != first.pid
    rs.shutdown()
    assert _ended(second)
    rs.shutdown()  # nothing running: nothing to do


@needs_java
def test_compare_spark_als_scores_the_same_users_then_ends_the_jvm():
    train, test = split.by_time(data.load("shop"), test_fraction=0.2)
    part = rs.compare_spark_als(train, test, k=10)
    assert _jvm() is None
    assert list(part.per_user) == ["SparkALS"]
    baseline = evaluation.compare({"Popularity": Popularity()}, train, test, k=10)
    both = evaluation.combine(baseline, part)
    assert set(both.leaderboard.index) == {"SparkALS", "Popularity"}
    assert part.leaderboard.loc["SparkALS", "ndcg@10"] > 0
