r"""The Spark MLlib bridge: a laptop session, Dataset <-> DataFrame, SparkALS.

pyspark is imported lazily (inside the functions), so ``import
recsys_helpers`` never starts a JVM or needs Java.

* :func:`session`: a local Spark session sized for a laptop or Binder
  (``local[2]``, 1 GB driver, 4 shuffle partitions, no web UI, bound to
  127.0.0.1, log level ERROR). Stop it with ``spark.stop()``.
* :func:`to_spark` / :func:`from_spark`: a course
  :class:`~recsys_helpers.data.Dataset`'s interactions to a Spark DataFrame
  and back, through plain Python lists and an explicit schema (no
  ``toPandas``/``createDataFrame(pandas)``, whose behaviour depends on the
  pandas and pyarrow versions).
* :class:`SparkALS`: ``pyspark.ml.recommendation.ALS`` behind the course's
  Recommender API, so ``evaluation.evaluate`` takes it like any other model.
* :func:`check_java`: a clear error, not a Java stack trace, when no Java
  17+ is found.

Conventions of the two ALS implementations (both minimise Hu, Koren and
Volinsky's weighted loss with ``p_ui = 1[r_ui > 0]``):

* confidence: both use ``c_ui = 1 + alpha r_ui`` (Spark's ``alpha``, with
  ``r`` = 1 here, is the course's ``alpha``; the ``implicit`` library's is
  ``1 + alpha``, see ``benchmarks/als_vs_implicit.py``);
* regularisation: ``models.ALS`` penalises ``lambda ||x_u||^2`` for every
  user and item alike; Spark scales its ``regParam`` by the row's number of
  interactions (ALS-WR, Zhou et al. 2008): ``regParam n_u ||x_u||^2`` and
  ``regParam n_i ||y_i||^2``. No single ``regParam`` reproduces a constant
  ``lambda``; :func:`mapped_params` equates them at the typical row,
  ``regParam = lambda / n_bar`` with ``n_bar = nnz / sqrt(n_users n_items)``
  (the geometric mean of the mean user and mean item counts);
* solver: Spark solves each row's ``f x f`` system exactly (Cholesky),
  ``models.ALS`` by a few conjugate-gradient steps.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recsys_helpers import evaluation
from recsys_helpers.columns import ITEM, RANK, RATING, SCORE, TIMESTAMP, USER
from recsys_helpers.data import Dataset
from recsys_helpers.models.base import Recommender
from recsys_helpers.models.factorization import ALS
from recsys_helpers.models.params import check_choice, check_int, check_number

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "JavaNotFoundError",
    "SparkALS",
    "check_java",
    "compare_spark_als",
    "from_spark",
    "jvm_heap_peak_mb",
    "mapped_params",
    "reset_jvm_heap_peak",
    "scaling_figures",
    "session",
    "shutdown",
    "to_spark",
]

MIN_JAVA = 17  # Spark 4 runs on Java 17 or newer

INSTALL_JAVA = (
    "Spark needs Java {minimum} or newer. Install a JDK or JRE, then restart "
    "the kernel:\n"
    "  Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless "
    "(or `make install`, which runs tools/install_java.sh)\n"
    "  macOS: brew install openjdk@17 (then follow brew's note to link it), "
    "or the Temurin 17 installer from https://adoptium.net\n"
    "  Windows: winget install EclipseAdoptium.Temurin.17.JRE, or the Temurin "
    "17 installer from https://adoptium.net (tick 'Set JAVA_HOME')\n"
    "  conda: conda install -c conda-forge openjdk=17\n"
    "or point JAVA_HOME at an existing Java {minimum}+."
)


class JavaNotFoundError(RuntimeError):
    """No usable Java (>= 17) for Spark; the message says how to install one."""


def _java_executable() -> str | None:
    home = os.environ.get("JAVA_HOME", "").strip()
    if home:
        for name in ("java", "java.exe"):
            candidate = os.path.join(home, "bin", name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return shutil.which("java")


def check_java(minimum: int = MIN_JAVA) -> int:
    """Return the major version of the Java Spark will use, or raise clearly.

    Looks at ``$JAVA_HOME/bin/java`` first, then ``java`` on ``PATH`` (the
    order Spark's launcher uses).

    Args:
        minimum: The lowest acceptable major version.

    Returns:
        The major version, e.g. 17.

    Raises:
        JavaNotFoundError: No Java, or one older than ``minimum``; the message
            says what to install on Linux, macOS and Windows.
    """
    how = INSTALL_JAVA.format(minimum=minimum)
    java = _java_executable()
    if java is None:
        raise JavaNotFoundError(
            f"No Java found (JAVA_HOME unset, no java on PATH). {how}"
        )
    try:
        shown = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise JavaNotFoundError(f"{java} -version failed ({error}). {how}") from None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', shown.stderr + shown.stdout)
    if match is None:
        raise JavaNotFoundError(f"Cannot read the version of {java}. {how}")
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_392" is Java 8
        major = int(match.group(2))
    if major < minimum:
        raise JavaNotFoundError(f"{java} is Java {major}. {how}")
    return major


def _import_pyspark() -> None:
    """Import pyspark, silencing its pandas>=3 FutureWarning for this process.

    pyspark 4 warns, on import and on its first pandas-related call, that
    pandas >= 3 is "not fully supported"; this module never hands pandas
    objects to Spark (plain lists in, ``collect`` out), so the warning does
    not apply. Only that one message is filtered.
    """
    warnings.filterwarnings(
        "ignore",
        message="PySpark does not yet fully support pandas",
        category=FutureWarning,
    )
    import pyspark.sql  # noqa: F401


def session(
    cores: int = 2,
    driver_memory: str = "768m",
    shuffle_partitions: int = 4,
    app_name: str = "recsys-course",
) -> SparkSession:
    """Start (or return the running) local Spark session, sized for a laptop.

    ``local[cores]`` runs Spark's driver and executors as threads of one JVM;
    ``spark.sql.shuffle.partitions`` drops from Spark's cluster default of
    200 (200 tiny tasks per shuffle dominate small data); the web UI is off
    and everything binds to 127.0.0.1 (nothing leaves the machine); Arrow is
    off (pyarrow is not a course dependency); log level ERROR; Spark's Python
    workers run this interpreter (``PYSPARK_PYTHON``, unless already set).
    A 768 MB heap keeps the JVM near 1 GB resident, so that the kernel and the
    JVM together stay under 2 GB on ml-latest-small (Binder gives 2 GB in all).

    Args:
        cores: Worker threads, >= 1.
        driver_memory: JVM heap, e.g. ``"768m"`` or ``"1g"``.
        shuffle_partitions: Partitions after a shuffle, >= 1.
        app_name: The application's name.

    Returns:
        The SparkSession; call ``spark.stop()`` when done.

    Raises:
        JavaNotFoundError: No Java 17+ (checked before Spark tries).
    """
    check_int("session", "cores", cores)
    check_int("session", "shuffle_partitions", shuffle_partitions)
    check_java()
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    _import_pyspark()
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.driver.memory", driver_memory)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.sql.execution.arrow.pyspark.enabled", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def shutdown() -> None:
    """Stop the running Spark session and end its Java process.

    ``SparkSession.stop()`` stops Spark but leaves the JVM that pyspark
    started running, with its heap (about 1 GB resident): closing the pipe
    pyspark holds to its standard input makes it exit (what pyspark relies on
    when Python itself exits). A later :func:`session` starts a new JVM. Does
    nothing when no Spark was started.
    """
    if "pyspark" not in sys.modules:
        return
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    gateway = SparkContext._gateway  # pyspark keeps the JVM gateway here
    if gateway is None:
        return
    gateway.shutdown()
    process = getattr(gateway, "proc", None)
    if process is not None and process.stdin is not None:
        process.stdin.close()  # the JVM exits on end of input
        process.wait(timeout=60)
    SparkContext._gateway = None
    SparkContext._jvm = None


def compare_spark_als(
    train: Dataset, test: Dataset, k: int = 10, seed: int = 0
) -> evaluation.Comparison:
    """SparkALS at the settings mapped from ``models.ALS()``, then Spark shut down.

    Evaluated by :func:`evaluation.compare` like any model, on its own, so
    that the JVM's memory is returned (:func:`shutdown`) before anything else
    trains; join the result to a line-up's with :func:`evaluation.combine`.

    Args:
        train: Training data.
        test: Held-out data.
        k: Cut-off of every metric.
        seed: Spark's seed and the bootstrap's.

    Returns:
        The comparison of the single model ``"SparkALS"``.

    Raises:
        JavaNotFoundError: No Java 17+.
    """
    defaults = ALS().get_params()
    model = SparkALS(
        **mapped_params(
            defaults["factors"], defaults["regularization"], defaults["alpha"], train
        ),
        iterations=defaults["iterations"],
        random_state=seed,
    )
    try:
        return evaluation.compare(
            {"SparkALS": model}, train, test, k=k, seed=seed, release=True
        )
    finally:
        shutdown()


def _active_session() -> SparkSession:
    """The running session, or a new laptop one (models need no argument)."""
    _import_pyspark()
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession() or session()


# ------------------------------------------------------------- conversions
def _schema(frame: pd.DataFrame) -> Any:
    from pyspark.sql.types import (
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    fields = []
    for column in frame.columns:
        dtype = frame[column].dtype
        if pd.api.types.is_integer_dtype(dtype):
            kind = LongType()
        elif pd.api.types.is_float_dtype(dtype):
            kind = DoubleType()
        elif pd.api.types.is_string_dtype(dtype) or dtype is np.dtype(object):
            kind = StringType()
        else:
            raise TypeError(f"column {column!r} has dtype {dtype}, not id/number.")
        fields.append(StructField(column, kind, nullable=False))
    return StructType(fields)


def to_spark(dataset: Dataset, spark: SparkSession | None = None) -> DataFrame:
    """A Dataset's interactions as a Spark DataFrame, row for row.

    Columns and order as in ``dataset.interactions`` (``user_id``,
    ``item_id`` and optional ``rating``, ``timestamp``); integer ids become
    ``bigint``, string ids ``string``, ratings ``double``. Built from plain
    Python lists with an explicit schema, so no pandas or pyarrow version
    changes what arrives. The Dataset is not modified.

    Args:
        dataset: The Dataset.
        spark: A session; default the running one (or a new laptop one).

    Returns:
        A Spark DataFrame with ``len(dataset.interactions)`` rows.
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"to_spark expects a Dataset, got {type(dataset).__name__}.")
    spark = spark or _active_session()
    frame = dataset.interactions
    columns = [frame[c].to_numpy().tolist() for c in frame.columns]  # Python scalars
    rows = list(zip(*columns, strict=True))
    return spark.createDataFrame(rows, schema=_schema(frame))


def from_spark(
    frame: DataFrame,
    items: pd.DataFrame | None = None,
    users: pd.DataFrame | None = None,
    name: str = "from-spark",
) -> Dataset:
    """A Spark DataFrame of interactions back to a Dataset (via ``collect``).

    Args:
        frame: Must have ``user_id`` and ``item_id``; ``rating`` and
            ``timestamp`` are kept when present, other columns too.
        items: The catalogue (default: the items seen in ``frame``).
        users: The users (default: the users seen in ``frame``).
        name: The Dataset's label.

    Returns:
        A Dataset validated by :meth:`Dataset.from_frames`, rows in the
        DataFrame's order.
    """
    columns = list(frame.columns)
    rows = frame.collect()
    data = {c: [row[i] for row in rows] for i, c in enumerate(columns)}
    pandas_frame = pd.DataFrame(data, columns=columns)
    for column in (USER, ITEM, TIMESTAMP):
        if column in pandas_frame and all(isinstance(v, int) for v in data[column]):
            pandas_frame[column] = pandas_frame[column].astype("int64")
    if RATING in pandas_frame:
        pandas_frame[RATING] = pandas_frame[RATING].astype("float64")
    return Dataset.from_frames(pandas_frame, items=items, users=users, name=name)


# ------------------------------------------------------------------- model
def mapped_params(
    factors: int, regularization: float, alpha: float, train: Dataset
) -> dict[str, float]:
    r"""Spark ALS settings equivalent to ``models.ALS(factors, regularization, alpha)``.

    ``rank = factors`` and ``alpha`` carry over (both use ``c = 1 + alpha r``);
    Spark's penalty on a row with ``n`` interactions is ``regParam n``, so
    ``regParam = lambda / n_bar`` with ``n_bar = nnz / sqrt(n_users n_items)``
    gives a row of typical size the course's ``lambda`` (see this module's
    docstring).

    Args:
        factors: ``f`` of models.ALS.
        regularization: ``lambda`` of models.ALS (not scaled by counts).
        alpha: ``alpha`` of models.ALS.
        train: The training data (its counts set ``n_bar``).

    Returns:
        ``{"factors": ..., "regularization": ..., "alpha": ...}`` for SparkALS.
    """
    matrix = train.to_csr()
    n_bar = matrix.nnz / np.sqrt(float(matrix.shape[0]) * matrix.shape[1])
    return {
        "factors": int(factors),
        "regularization": float(regularization / n_bar),
        "alpha": float(alpha),
    }


class SparkALS(Recommender):
    r"""Implicit ALS fitted by Spark MLlib (``pyspark.ml.recommendation.ALS``).

    Model: Hu, Koren and Volinsky's weighted least squares (see
    ``models.ALS``), with Spark's count-scaled penalty:

    .. math::

        L = \sum_{u,i} c_{ui} (p_{ui} - x_u^T y_i)^2
            + \rho \Big(\sum_u n_u \|x_u\|^2 + \sum_i n_i \|y_i\|^2\Big),
        \quad c_{ui} = 1 + \alpha r_{ui}

    with ``rho = regularization`` (Spark's ``regParam``). Spark splits users
    and items into ``blocks`` blocks, ships each item block's vectors to the
    user blocks that need them (one shuffle per half-iteration) and solves
    every user's ``f x f`` system exactly (Cholesky); then the same for items.

    Scoring: the learned factors are collected to numpy at the end of
    ``fit`` (``user_factors_``, ``item_factors_``), so ``score`` is
    ``x_u^T y_i`` like every factor model of the course and the Spark session
    is not needed to evaluate. :meth:`recommend_spark` asks Spark itself
    (``recommendForUserSubset``), for comparison.

    ``implicit_prefs=False`` fits Spark's *explicit* ALS (squared error on the
    observed cells only): on 0/1 purchase data every observed value is 1, so
    it learns to predict 1 everywhere, a classic pitfall lesson 09 measures.

    Defaults: those of ``models.ALS`` (factors 128, alpha 1, 10 iterations);
    ``regularization`` 0.5 lies between what :func:`mapped_params` gives
    for ``models.ALS``'s ``lambda`` = 10 on the ``by_time`` training data of
    ml-latest-small (0.30) and ``shop`` (0.62); use :func:`mapped_params`
    for a given split (lesson 09 does). Not tuned further.

    Args:
        factors: Rank ``f`` >= 1.
        regularization: Spark's ``regParam`` >= 0 (scaled by counts).
        alpha: Confidence slope >= 0.
        iterations: Alternations (``maxIter``) >= 1.
        implicit_prefs: True for implicit feedback (the course's setting).
        blocks: User and item blocks (``numUserBlocks``/``numItemBlocks``).
        random_state: Spark's ``seed`` (factors initialised from it; with a
            fixed seed and fixed blocks results repeat across processes).

    Attributes:
        user_factors_: (n_users, f) float32; zero rows for users Spark never
            saw (no training interactions).
        item_factors_: (n_items, f) float32; zero rows for unseen items.
        model_: The fitted ``ALSModel`` (usable while its session runs).
        fit_seconds_: Seconds spent in Spark's ``ALS.fit`` (data already
            cached in Spark, factors not yet collected).
    """

    def __init__(
        self,
        factors: int = 128,
        regularization: float = 0.5,
        alpha: float = 1.0,
        iterations: int = 10,
        implicit_prefs: bool = True,
        blocks: int = 2,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.implicit_prefs = implicit_prefs
        self.blocks = blocks
        self.random_state = random_state

    def _check_params(self) -> None:
        check_int("SparkALS", "factors", self.factors)
        check_number("SparkALS", "regularization", self.regularization)
        check_number("SparkALS", "alpha", self.alpha)
        check_int("SparkALS", "iterations", self.iterations)
        check_choice("SparkALS", "implicit_prefs", self.implicit_prefs, (True, False))
        check_int("SparkALS", "blocks", self.blocks)
        check_int("SparkALS", "random_state", self.random_state, minimum=0)

    def _pairs(self, spark: SparkSession) -> DataFrame:
        """The training pairs as (user, item, rating=1) with matrix indices as ids."""
        from pyspark.sql.types import (
            FloatType,
            IntegerType,
            StructField,
            StructType,
        )

        coo = self.user_items_.tocoo()
        rows = list(
            zip(coo.row.tolist(), coo.col.tolist(), [1.0] * coo.nnz, strict=True)
        )
        schema = StructType(
            [
                StructField("user", IntegerType(), False),
                StructField("item", IntegerType(), False),
                StructField("rating", FloatType(), False),
            ]
        )
        return spark.createDataFrame(rows, schema=schema)

    def _fit(self, train: Dataset) -> None:
        self._check_params()
        spark = _active_session()
        from pyspark.ml.recommendation import ALS as SparkMLlibALS  # noqa: N811

        pairs = self._pairs(spark).repartition(self.blocks).cache()
        pairs.count()  # materialise: the timing below is Spark's ALS alone
        estimator = SparkMLlibALS(
            rank=self.factors,
            maxIter=self.iterations,
            regParam=self.regularization,
            alpha=self.alpha,
            implicitPrefs=self.implicit_prefs,
            numUserBlocks=self.blocks,
            numItemBlocks=self.blocks,
            seed=self.random_state,
            userCol="user",
            itemCol="item",
            ratingCol="rating",
            coldStartStrategy="drop",
        )
        start = time.perf_counter()
        model = estimator.fit(pairs)
        user_factors = _collect_factors(model.userFactors, self.user_items_.shape[0])
        self.fit_seconds_ = time.perf_counter() - start
        pairs.unpersist()
        self.user_factors_ = user_factors
        self.item_factors_ = _collect_factors(
            model.itemFactors, self.user_items_.shape[1]
        )
        self.model_ = model

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[rows] @ self.item_factors_.T

    def recommend_spark(self, user_ids: Any, n: int = 10) -> pd.DataFrame:
        """Top-n unseen items per user, computed by Spark (``recommendForUserSubset``).

        Spark's method has no "exclude seen" option, so it is asked for
        ``n + (most items any of these users has seen)`` items and the seen
        ones are dropped here: the same lists as :meth:`recommend` up to
        float32 rounding (Spark scores in float32 too).

        Args:
            user_ids: Ids of users with training interactions.
            n: List length, 1 <= n <= n_items.

        Returns:
            DataFrame user_id, item_id, score, rank like :meth:`recommend`.
        """
        rows = self._rows(user_ids)
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"n must be an integer, got {n!r}.")
        n_items = self.train_.n_items
        if not 1 <= n <= n_items:
            raise ValueError(f"n must be between 1 and the {n_items} items, got {n}.")
        self.score_rows(rows[:0])  # the cold-user check, for free
        seen = self.user_items_[rows]
        ask = int(min(n_items, n + np.diff(seen.indptr).max(initial=0)))
        spark = _active_session()
        from pyspark.sql.types import IntegerType, StructField, StructType

        schema = StructType([StructField("user", IntegerType(), False)])
        subset = spark.createDataFrame([(int(r),) for r in np.unique(rows)], schema)
        lists = {
            row["user"]: row["recommendations"]
            for row in self.model_.recommendForUserSubset(subset, ask).collect()
        }
        out = []
        for row in rows.tolist():
            seen_items = set(self.user_items_[row].indices.tolist())
            kept = [(r["item"], r["rating"]) for r in lists.get(row, [])]
            kept = [(i, s) for i, s in kept if i not in seen_items][:n]
            out += [(row, i, s, rank) for rank, (i, s) in enumerate(kept, start=1)]
        frame = pd.DataFrame(out, columns=["row", "col", SCORE, RANK])
        return pd.DataFrame(
            {
                USER: self.train_.user_ids[frame["row"].to_numpy(dtype=np.int64)],
                ITEM: self.train_.item_ids[frame["col"].to_numpy(dtype=np.int64)],
                SCORE: frame[SCORE].to_numpy(dtype=np.float64),
                RANK: frame[RANK].to_numpy(dtype=np.int64),
            }
        )


def _collect_factors(factors: DataFrame, n_rows: int) -> np.ndarray:
    """Spark's (id, features) factor table as a dense (n_rows, f) float32 array."""
    rows = factors.collect()
    rank = len(rows[0]["features"]) if rows else 0
    out = np.zeros((n_rows, rank), dtype=np.float32)
    if rows:
        ids = np.fromiter((r["id"] for r in rows), dtype=np.int64, count=len(rows))
        out[ids] = np.asarray([r["features"] for r in rows], dtype=np.float32)
    return out


# ------------------------------------------------------------- measurement
def _heap_pools(spark: SparkSession) -> list[Any]:
    jvm = spark.sparkContext._jvm
    pools = jvm.java.lang.management.ManagementFactory.getMemoryPoolMXBeans()
    return [p for p in pools if str(p.getType()) == "Heap memory"]


def reset_jvm_heap_peak(spark: SparkSession) -> None:
    """Reset the peak-usage counters of the JVM's heap pools (before a fit)."""
    for pool in _heap_pools(spark):
        pool.resetPeakUsage()


def jvm_heap_peak_mb(spark: SparkSession) -> float:
    """Peak heap used by the JVM since :func:`reset_jvm_heap_peak`, in MB.

    The sum of each heap pool's peak (pools peak at different moments, so
    this is an upper bound of the true peak). It counts garbage not yet
    collected: a JVM with room to spare collects late, so the figure grows
    with the data *and* with the heap it is given.
    """
    return sum(p.getPeakUsage().getUsed() for p in _heap_pools(spark)) / 2**20


def scaling_figures() -> pd.DataFrame:
    """The figures of ``benchmarks/scaling.py`` as committed with the package.

    Made by ``python benchmarks/scaling.py`` (which writes
    ``recsys_helpers/datasets/scaling.csv``) and shipped with the package, so
    lesson 09 reads them offline from any working directory. One row per
    (model, n_users): ``n_items``, ``interactions``, ``seconds_per_iteration``,
    ``peak_mb`` and how peak memory was measured (``memory``).
    """
    from recsys_helpers.datasets import read_committed_table

    return read_committed_table("scaling.csv")
