"""Dataset builders and loaders behind :func:`recsys_helpers.data.load`."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

import pandas as pd


def read_committed_table(name: str, index_col: str | None = None) -> pd.DataFrame:
    """A benchmark's table committed with the package, read offline.

    ``benchmarks/`` scripts write these CSV files here, the command and date
    that made them on a first ``#`` line: ``attrs["made_by"]`` holds it.

    Args:
        name: The file's name in this folder, e.g. ``"scaling.csv"``.
        index_col: Column to index by, if any.

    Returns:
        The table.

    Raises:
        FileNotFoundError: No such file was committed.
    """
    source = files(__name__).joinpath(name)
    if not source.is_file():
        raise FileNotFoundError(f"no committed table {name!r} in {__name__}")
    return read_table_file(source, index_col)


def read_table_file(source: Traversable, index_col: str | None = None) -> pd.DataFrame:
    """A CSV file under a ``# made by`` line (``benchmarks/protocol.py`` writes them).

    Args:
        source: The file (a ``pathlib.Path`` or a package resource).
        index_col: Column to index by, if any.

    Returns:
        The table, the first line's text in ``attrs["made_by"]``.
    """
    with source.open("r", encoding="utf-8") as handle:
        made_by = handle.readline().lstrip("# ").strip()
        table = pd.read_csv(handle, index_col=index_col)
    table.attrs["made_by"] = made_by
    return table
