"""The tuning protocol shared by ``benchmarks/tune_*.py``.

Hyper-parameters are chosen on a validation split carved from train, never on
test (DESIGN.md):

1. ``train, test = split.by_time(ds, test_fraction=0.2)``, the course's split;
   ``test`` is dropped here and never looked at;
2. ``fit, valid = split.by_time(train, test_fraction=0.2)``: the same split
   again, inside train;
3. every setting is fitted on ``fit`` and scored by mean nDCG@10 over the
   users of ``valid`` (full ranking, ``fit``'s items excluded).

Datasets are loaded by name with :func:`recsys_helpers.data.load`, so
MovieLens is read from ``RECSYS_DATA_DIR`` (or the user cache, downloading
when it can). The scripts import this module as ``protocol`` (the folder of
the script run is on ``sys.path``).
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

import pandas as pd

from recsys_helpers import data, evaluation, split
from recsys_helpers.data import Dataset
from recsys_helpers.datasets.movielens import DatasetUnavailableError
from recsys_helpers.models.base import Recommender

TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.2
K = 10


def load_dataset(name: str) -> Dataset:
    """The dataset ``name`` (``shop``, ``movielens-latest-small``, ...)."""
    return data.load(name)


def validation_split(dataset: str | Dataset) -> tuple[Dataset, Dataset]:
    """``(fit, valid)``: the course's train part, split again by time.

    Args:
        dataset: A dataset or its name.
    """
    ds = load_dataset(dataset) if isinstance(dataset, str) else dataset
    train, _ = split.by_time(ds, test_fraction=TEST_FRACTION)  # test is never used
    return split.by_time(train, test_fraction=VALIDATION_FRACTION)


def validation_splits(
    names: list[str], skip_unavailable: bool = False
) -> dict[str, tuple[Dataset, Dataset]]:
    """:func:`validation_split` of each dataset, by name, in the order given.

    Args:
        names: Dataset names.
        skip_unavailable: Leave out (and say so) a dataset that is neither on
            disk nor downloadable, instead of failing.
    """
    splits = {}
    for name in names:
        try:
            splits[name] = validation_split(name)
        except DatasetUnavailableError as error:
            if not skip_unavailable:
                raise
            reason = str(error).splitlines()[0]
            print(f"{name} not available ({reason}); tuning without it.")
    return splits


def validation_ndcg(model: Recommender, fit: Dataset, valid: Dataset) -> float:
    """Fit ``model`` on ``fit``; its mean nDCG@10 over the users of ``valid``."""
    model.fit(fit)
    frame, _ = evaluation.per_user_metrics(model, fit, valid, k=K)
    return float(frame["ndcg"].mean())


def print_table(title: str | None, table: pd.DataFrame, digits: int = 4) -> None:
    """Print a blank line and ``title`` (if any), then ``table`` rounded."""
    if title is not None:
        print(f"\n{title}")
    print(table.round(digits).to_string())


def time_one_fit(model: Recommender, name: str = "movielens-latest-small") -> None:
    """Fit ``model`` on the course's train split of ``name``: seconds, peak memory.

    Peak memory is the process's maximum resident set size (data, split and
    model included), as ``/usr/bin/time -v`` reports it.
    """
    train, _ = split.by_time(load_dataset(name), test_fraction=0.2)
    start = time.perf_counter()
    model.fit(train)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{model!r} on {name} ({train.n_users} users, {train.n_items} items, "
        f"{train.to_csr().nnz} pairs): fit {seconds:.1f} s, "
        f"peak RSS {peak_mb:.0f} MB, {os.cpu_count()} cores"
    )


def made_by(script: str, details: str) -> str:
    """A committed table's first line: the command that ran, the date, the cores."""
    arguments = " ".join(sys.argv[1:])
    return (
        f"python benchmarks/{script} {arguments}; {time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} cores; {details}"
    )


def write_committed_table(
    table: pd.DataFrame, target: Path, header: str, index: bool, digits: int
) -> None:
    """Write ``table`` as CSV under a ``# header`` line, never half-written.

    The package reads it back with
    :func:`recsys_helpers.datasets.read_committed_table`.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(f"# {header}\n")
        table.round(digits).to_csv(handle, index=index)
    temporary.replace(target)
