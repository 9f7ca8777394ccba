"""recsys_helpers.spark: the no-Java message, conversions, mapping, SparkALS.

Tests that need a JVM skip (with the reason) when no Java 17+ is found;
the no-Java message itself is tested with Java hidden, so it runs anywhere.
One local Spark session serves the module and is stopped at its end.
"""

from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest

from recsys_helpers import spark as rs
from recsys_helpers.data import Dataset
from tests.model_contract import ModelContract, checkerboard


def _java_problem() -> str | None:
    try:
        rs.check_java()
    except rs.JavaNotFoundError as error:
        return str(error).splitlines()[0]
    return None


JAVA_PROBLEM = _java_problem()
needs_java = pytest.mark.skipif(
    JAVA_PROBLEM is not None,
    reason=f"Spark tests need Java 17+: {JAVA_PROBLEM} (tools/install_java.sh)",
)


# ------------------------------------------------------------ without Java
@pytest.fixture
def no_java(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no java
    return tmp_path


def test_no_java_gives_install_instructions_not_a_stack_trace(no_java):
    with pytest.raises(rs.JavaNotFoundError) as caught:
        rs.check_java()
    message = str(caught.value)
    assert "No Java found" in message
    for platform in ("Debian/Ubuntu", "macOS", "Windows"):
        assert platform in message
    assert "openjdk-17-jre-headless" in message
    assert "Py4J" not in message and "Exception in thread" not in message


def test_session_checks_java_before_starting_spark(no_java):
    with pytest.raises(rs.JavaNotFoundError, match="No Java found"):
        rs.session()


def test_old_java_is_named(monkeypatch, tmp_path):
    java = tmp_path / "java"
    java.write_text("#!/bin/sh\necho 'java version \"1.8.0_392\"' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + "/bin")
    with pytest.raises(rs.JavaNotFoundError, match="is Java 8"):
        rs.check_java()


def test_import_does_not_start_spark():
    import subprocess
    import sys

    code = (
        "import sys, recsys_helpers, recsys_helpers.spark; "
        "print('pyspark' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------ mapping
def test_mapped_params_equate_the_penalty_of_a_typical_row():
    ds, _ = checkerboard()  # 8 users, 8 items, 24 pairs
    got = rs.mapped_params(16, 10.0, 2.0, ds)
    n_bar = 24 / np.sqrt(8 * 8)
    assert got == {
        "factors": 16,
        "regularization": pytest.approx(10.0 / n_bar),
        "alpha": 2.0,
    }
    # a row with n_bar interactions gets exactly the course's lambda from Spark
    assert got["regularization"] * n_bar == pytest.approx(10.0)


def test_mapped_params_scale_with_density():
    ds, _ = checkerboard()
    sparse = Dataset.from_frames(ds.interactions.iloc[::2], ds.items, ds.users)
    dense_reg = rs.mapped_params(8, 10.0, 1.0, ds)["regularization"]
    sparse_reg = rs.mapped_params(8, 10.0, 1.0, sparse)["regularization"]
    assert sparse_reg == pytest.approx(2 * dense_reg)  # half the pairs


def test_hyper_parameters_checked_before_any_work():
    ds, _ = checkerboard()
    for bad in (
        {"factors": 0},
        {"regularization": -1.0},
        {"implicit_prefs": 1},
        {"blocks": 0},
        {"alpha": float("nan")},
    ):
        model = rs.SparkALS(**bad)
        with pytest.raises(ValueError, match="SparkALS: "):
            model.fit(ds)
        assert not hasattr(model, "train_")


# ------------------------------------------------------------ with Spark
@pytest.fixture(scope="module")
def spark():
    if JAVA_PROBLEM is not None:
        pytest.skip(f"Spark tests need Java 17+: {JAVA_PROBLEM}")
    session = rs.session(cores=1, shuffle_partitions=2)
    yield session
    session.stop()


def _frames():
    inter = pd.DataFrame(
        {
            "user_id": [3, 1, 3, 2, 1],
            "item_id": [10, 11, 12, 10, 10],
            "rating": [4.0, 5.0, 3.5, 1.0, 2.0],
            "timestamp": [100, 50, 300, 200, 60],
        }
    )
    return inter


@needs_java
def test_round_trip_int_ids_rating_timestamp(spark):
    ds = Dataset.from_frames(_frames())
    before = ds.interactions.copy()
    frame = rs.to_spark(ds, spark)
    assert dict(frame.dtypes) == {
        "user_id": "bigint",
        "item_id": "bigint",
        "rating": "double",
        "timestamp": "bigint",
    }
    back = rs.from_spark(frame, items=ds.items, users=ds.users, name=ds.name)
    pd.testing.assert_frame_equal(back.interactions, ds.interactions)
    pd.testing.assert_frame_equal(ds.interactions, before)  # input untouched
    assert back.items.equals(ds.items) and back.users.equals(ds.users)


@needs_java
def test_round_trip_string_ids(spark):
    inter = pd.DataFrame({"user_id": ["u1", "u2", "u1"], "item_id": ["a", "b", "b"]})
    ds = Dataset.from_frames(inter)
    frame = rs.to_spark(ds, spark)
    assert dict(frame.dtypes) == {"user_id": "string", "item_id": "string"}
    back = rs.from_spark(frame)
    pd.testing.assert_frame_equal(back.interactions, ds.interactions)


@needs_java
def test_to_spark_rejects_frames(spark):
    with pytest.raises(TypeError, match="Dataset"):
        rs.to_spark(_frames(), spark)


@needs_java
class TestSparkALSContract(ModelContract):
    personalised = True

    @pytest.fixture(autouse=True)
    def _session(self, spark):
        return spark

    def make_model(self):
        return rs.SparkALS(factors=4, regularization=0.01, iterations=5, blocks=1)


@needs_java
def test_recommend_spark_agrees_with_recommend(spark):
    ds, held_out = checkerboard()
    model = rs.SparkALS(factors=4, regularization=0.01, iterations=5).fit(ds)
    users = list(held_out)
    ours = model.recommend(users, n=3)
    theirs = model.recommend_spark(users, n=3)
    assert list(theirs.columns) == ["user_id", "item_id", "score", "rank"]
    assert theirs.user_id.tolist() == ours.user_id.tolist()
    top = theirs[theirs["rank"] == 1]
    assert dict(zip(top.user_id, top.item_id, strict=True)) == held_out
    np.testing.assert_allclose(theirs.score, ours.score, rtol=1e-4, atol=1e-5)
    for user, group in theirs.groupby("user_id"):
        seen = set(ds.interactions.loc[ds.interactions.user_id == user, "item_id"])
        assert not seen & set(group.item_id)


@needs_java
def test_explicit_prefs_on_binary_data_predict_one_everywhere(spark):
    ds, held_out = checkerboard()
    model = rs.SparkALS(
        factors=4, regularization=0.01, iterations=5, implicit_prefs=False
    ).fit(ds)
    scores = model.score(list(held_out))
    observed = model.user_items_[model.train_.user_index(list(held_out))].toarray() > 0
    # fitted to the observed 1s only: the observed cells are near 1
    assert np.abs(scores[observed] - 1.0).max() < 0.1
