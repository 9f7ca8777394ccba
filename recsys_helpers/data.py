"""Datasets: one container for interactions, items and users, and the loaders.

A :class:`Dataset` holds three pandas DataFrames that share one id space:

* ``interactions``: the event log, one row per event (a repeat purchase is
  another row), columns ``user_id``, ``item_id`` and optionally ``rating``
  (1-5) and ``timestamp`` (int seconds);
* ``items``: one row per catalogue item, ``item_id`` first, then its features;
* ``users``: one row per user, ``user_id`` first, then its features.

The order of ``items`` and ``users`` defines the rows and columns of every
matrix in the course (:meth:`Dataset.to_csr`, ``model.score``). A train/test
split keeps ``items`` and ``users`` whole and divides only ``interactions``,
so train and test index the same matrix.

Repeat purchases. The event log keeps every repeat (a consumable bought
again). The user x item *matrix* has one entry per distinct (user, item)
pair, so the collaborative models see "bought it or not";
:meth:`Dataset.distinct` gives the distinct-pairs view as a Dataset (the first
event of each pair) and records in ``info`` how many repeat rows it
collapsed. Whether a test repeat counts as a correct recommendation is the
evaluation's ``exclude_seen`` choice (see :mod:`recsys_helpers.evaluation`).

Example:
    >>> from recsys_helpers import data
    >>> ds = data.load("toy")
    >>> ds.to_csr().shape
    (5, 5)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_helpers.columns import ITEM, RATING, TIMESTAMP, USER
from recsys_helpers.metrics import gini, top_share

__all__ = ["DATASETS", "Dataset", "default_dataset_name", "load", "reference_figures"]

DATASETS = ("toy", "shop", "movielens-latest-small", "movielens-100k")


def _id_kind(values: pd.Series, column: str) -> str:
    """Return "int" or "str" for an id column, or raise on NaN and mixed types."""
    if values.isna().any():
        n_missing = int(values.isna().sum())
        raise ValueError(f"{column} has {n_missing} missing (NaN) value(s).")
    if pd.api.types.is_bool_dtype(values):
        raise TypeError(f"{column} must hold integers or strings, not booleans.")
    if pd.api.types.is_integer_dtype(values):
        return "int"
    if pd.api.types.is_float_dtype(values):
        if not np.all(np.mod(values.to_numpy(), 1) == 0):
            raise TypeError(f"{column} holds non-integer floats; ids must be whole.")
        return "int"
    kinds = {type(v).__name__ for v in values}
    if kinds <= {"str"}:
        return "str"
    if kinds <= {"int", "int64", "int32"}:
        return "int"
    raise TypeError(
        f"{column} mixes value types {sorted(kinds)}: e.g. the integer 1 and the "
        "string '1' are different ids. Convert the column to one type first."
    )


def _clean_ids(values: pd.Series, column: str) -> pd.Series:
    kind = _id_kind(values, column)
    if kind == "int":
        return values.astype("int64")
    return values.astype("str")


def _require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame)}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(
            f"{name} is missing column(s) {missing}; it has {list(frame.columns)}."
        )


def _clean_timestamps(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        if values.isna().any():
            raise ValueError("timestamp has missing values.")
        if getattr(values.dtype, "tz", None) is not None:  # tz-aware: to UTC, naive
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        return (values.astype("datetime64[s]").astype("int64")).rename(TIMESTAMP)
    if not pd.api.types.is_numeric_dtype(values) or values.isna().any():
        raise ValueError("timestamp must be numeric (seconds) or datetime, no NaN.")
    return values.astype("int64")


@dataclass(frozen=True, repr=False, eq=False)
class Dataset:
    """Interactions, items and users sharing one id space.

    Build one with :meth:`from_frames` (which validates and copies its inputs)
    or :func:`load`; never mutate the frames of a Dataset in place.

    Equality is identity (``ds == other`` only for the same object) and a
    Dataset is hashable, so it can key a dict or a cache; compare contents
    with :meth:`equals`.

    Attributes:
        interactions: The event log: ``user_id``, ``item_id`` and optional
            ``rating``, ``timestamp`` columns; repeats of a (user, item)
            pair are kept as separate rows.
        items: The catalogue, ``item_id`` first; defines the item order.
        users: The users, ``user_id`` first; defines the user order.
        name: A short label used in tables and plots.
        truth: The hidden truth of a simulated dataset (the shop's
            :class:`~recsys_helpers.datasets.shop.ShopTruth`: next-purchase
            probabilities for any user, time and history); else None.
        info: Free-form facts recorded by loaders and splits (e.g. how many
            cold-start test rows a split dropped).
    """

    interactions: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    name: str = "custom"
    truth: Any = None
    info: Mapping[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_frames(
        cls,
        interactions: pd.DataFrame,
        items: pd.DataFrame | None = None,
        users: pd.DataFrame | None = None,
        name: str = "custom",
        truth: Any = None,
    ) -> Dataset:
        """Validate and copy frames into a Dataset.

        Args:
            interactions: Must have ``user_id`` and ``item_id``; may have
                ``rating`` (numeric) and ``timestamp`` (seconds or datetime).
                Every row is kept, repeated (user, item) pairs included, in
                the given order.
            items: Catalogue with a unique ``item_id``; default: the items seen
                in ``interactions``, sorted.
            users: Users with a unique ``user_id``; default: the users seen in
                ``interactions``, sorted.
            name: Label for tables.
            truth: Optional hidden truth of a simulated dataset.

        Returns:
            A new Dataset; the arguments are never modified.

        Raises:
            KeyError: A required column is missing.
            ValueError: NaN ids, duplicate catalogue ids, or interactions that
                name users/items absent from ``users``/``items``.
            TypeError: Ids of mixed types (``1`` and ``"1"``) or of different
                types in interactions and catalogue.
        """
        _require_columns(interactions, [USER, ITEM], "interactions")
        inter = interactions.reset_index(drop=True)  # a copy; row order kept
        inter[USER] = _clean_ids(inter[USER], USER)
        inter[ITEM] = _clean_ids(inter[ITEM], ITEM)
        if RATING in inter:
            if not pd.api.types.is_numeric_dtype(inter[RATING]):
                raise TypeError("rating must be numeric.")
            if inter[RATING].isna().any():
                raise ValueError("rating has missing values.")
            inter[RATING] = inter[RATING].astype("float64")
        if TIMESTAMP in inter:
            inter[TIMESTAMP] = _clean_timestamps(inter[TIMESTAMP])

        items = cls._catalogue(items, inter, ITEM, "items")
        users = cls._catalogue(users, inter, USER, "users")
        return cls(inter, items, users, name=name, truth=truth)

    @staticmethod
    def _catalogue(
        frame: pd.DataFrame | None, inter: pd.DataFrame, column: str, name: str
    ) -> pd.DataFrame:
        if frame is None:
            ids = np.sort(inter[column].unique())
            return pd.DataFrame({column: ids})
        _require_columns(frame, [column], name)
        frame = frame.copy()
        frame[column] = _clean_ids(frame[column], f"{name}.{column}")
        if frame[column].dtype != inter[column].dtype:
            raise TypeError(
                f"{column} is {inter[column].dtype} in interactions but "
                f"{frame[column].dtype} in {name}: use one type for the ids."
            )
        if frame[column].duplicated().any():
            raise ValueError(f"{name}.{column} has duplicate ids.")
        unknown = ~inter[column].isin(frame[column])
        if unknown.any():
            examples = inter.loc[unknown, column].unique()[:5].tolist()
            raise ValueError(
                f"{int(unknown.sum())} interaction(s) name {column}s missing from "
                f"{name}, e.g. {examples}."
            )
        cols = [column] + [c for c in frame.columns if c != column]
        return frame[cols].reset_index(drop=True)

    def with_interactions(
        self, interactions: pd.DataFrame, name: str, info: Mapping[str, Any]
    ) -> Dataset:
        """Return a Dataset with the same users and items but other interactions.

        Used by the splits; ``interactions`` must already be clean (a subset of
        this dataset's rows).
        """
        return replace(
            self,
            interactions=interactions.reset_index(drop=True),
            name=name,
            info=dict(info),
        )

    def distinct(self) -> Dataset:
        """The distinct-pairs view: one row per (user, item), its first event.

        Returns ``self`` when there are no repeats. Otherwise a Dataset whose
        ``info["repeats_collapsed"]`` says how many repeat rows were dropped
        (the first purchase of each pair is kept: when the pair appeared).
        """
        n_repeats = self.n_repeats
        if n_repeats == 0:
            return self
        inter = self.interactions
        if TIMESTAMP in inter:
            inter = inter.sort_values(TIMESTAMP, kind="stable")
        first = inter.drop_duplicates([USER, ITEM], keep="first").sort_index()
        info = {**self.info, "repeats_collapsed": n_repeats}
        return self.with_interactions(first, self.name, info)

    @property
    def n_repeats(self) -> int:
        """Rows of the event log that repeat an earlier (user, item) pair."""
        return int(self.interactions.duplicated([USER, ITEM]).sum())

    def equals(self, other: Dataset) -> bool:
        """True if both hold the same frames, name and info (values, not identity)."""
        return (
            isinstance(other, Dataset)
            and self.name == other.name
            and dict(self.info) == dict(other.info)
            and self.interactions.equals(other.interactions)
            and self.items.equals(other.items)
            and self.users.equals(other.users)
        )

    # ---------------------------------------------------------------- id maps
    @property
    def n_users(self) -> int:
        """Number of users (rows of every user x item matrix)."""
        return len(self.users)

    @property
    def n_items(self) -> int:
        """Number of catalogue items (columns of every user x item matrix)."""
        return len(self.items)

    @property
    def user_ids(self) -> np.ndarray:
        """User ids in matrix row order."""
        return self.users[USER].to_numpy()

    @property
    def item_ids(self) -> np.ndarray:
        """Item ids in matrix column order."""
        return self.items[ITEM].to_numpy()

    def user_index(self, user_ids: Any) -> np.ndarray:
        """Map user ids to matrix rows; raise on unknown or wrongly typed ids."""
        return _lookup(self.users[USER], user_ids, "user")

    def item_index(self, item_ids: Any) -> np.ndarray:
        """Map item ids to matrix columns; raise on unknown or wrongly typed ids."""
        return _lookup(self.items[ITEM], item_ids, "item")

    # --------------------------------------------------------------- matrices
    def to_csr(self, values: str | None = None) -> sp.csr_matrix:
        """Return the users x items matrix: one entry per distinct pair.

        Args:
            values: None for 1.0 per distinct (user, item) pair (implicit
                feedback: bought it or not), ``"count"`` for the number of
                events of the pair (repeats included), or a numeric column
                name such as ``"rating"`` (the pair's latest value: by
                timestamp when there is one, else the last row).

        Returns:
            A ``scipy.sparse.csr_matrix`` of shape (n_users, n_items), float64.
        """
        inter = self.interactions
        if values not in (None, "count"):
            _require_columns(inter, [values], "interactions")
            if TIMESTAMP in inter:
                inter = inter.sort_values(TIMESTAMP, kind="stable")
            inter = inter.drop_duplicates([USER, ITEM], keep="last")
        rows = self.user_index(inter[USER].to_numpy())
        cols = self.item_index(inter[ITEM].to_numpy())
        if values in (None, "count"):
            data = np.ones(len(rows))
        else:
            data = inter[values].to_numpy(dtype=np.float64)
        shape = (self.n_users, self.n_items)
        matrix = sp.csr_matrix((data, (rows, cols)), shape=shape)  # sums repeats
        if values is None:
            matrix.data[:] = 1.0
        matrix.sort_indices()
        return matrix

    # ---------------------------------------------------------------- summary
    def summary(self) -> pd.Series:
        """Summary statistics: size, density, activity and popularity skew.

        Computed on distinct (user, item) pairs, except ``events`` and
        ``repeat_events`` (the event log). ``item_gini`` is the Gini
        coefficient of item counts over the catalogue: 0 when every item is
        equally popular, near 1 when a few items take everything (see
        :func:`recsys_helpers.metrics.gini`); ``activity_p90_over_median`` is
        the 90th percentile of pairs per user over the median (a heavy tail of
        active users gives 2.5 or more).
        """
        pairs = self.distinct().interactions
        per_user = pairs.groupby(USER).size()
        per_item = pairs.groupby(ITEM).size().reindex(self.item_ids, fill_value=0)
        n = len(pairs)
        median = float(per_user.median()) if n else 0.0
        return pd.Series(
            {
                "users": self.n_users,
                "items": self.n_items,
                "events": len(self.interactions),
                "repeat_events": self.n_repeats,
                "interactions": n,
                "density": n / max(1, self.n_users * self.n_items),
                "interactions_per_user_median": median,
                "interactions_per_user_max": int(per_user.max()) if n else 0,
                "activity_p90_over_median": (
                    float(per_user.quantile(0.9)) / median if median else 0.0
                ),
                "items_never_interacted": int((per_item == 0).sum()),
                "item_gini": gini(per_item.to_numpy()),
                "top_10pct_items_share": top_share(per_item.to_numpy(), 0.1),
            },
            name=self.name,
        )

    def __repr__(self) -> str:
        cols = ", ".join(self.interactions.columns)
        return (
            f"Dataset({self.name!r}: {self.n_users} users, {self.n_items} items, "
            f"{len(self.interactions)} interactions [{cols}])"
        )


def _lookup(index_ids: pd.Series, ids: Any, what: str) -> np.ndarray:
    """Positions of ``ids`` in ``index_ids`` with a clear error for bad ids."""
    query = np.atleast_1d(np.asarray(ids, dtype=object if _is_str(ids) else None))
    if query.ndim != 1:
        raise ValueError(f"{what} ids must be one-dimensional.")
    known_int = pd.api.types.is_integer_dtype(index_ids)
    if query.size and known_int and query.dtype.kind not in "iu":
        if query.dtype.kind == "f" and np.all(np.mod(query, 1) == 0):
            query = query.astype(np.int64)
        else:
            not_int = [  # name an offending id, not the first one
                v
                for v in query
                if isinstance(v, bool) or not isinstance(v, int | np.integer)
            ]
            example = (not_int or [query[0]])[0]
            raise TypeError(
                f"{what} ids are integers but got {type(example).__name__} "
                f"{example!r}: did you mean {what}_id == {_as_int_hint(example)}?"
            )
    if query.size and not known_int and query.dtype.kind in "iuf":
        raise TypeError(
            f"{what} ids are strings but got number {query[0]!r}: did you mean "
            f"'{query[0]}'?"
        )
    positions = pd.Index(index_ids).get_indexer(query)
    if (positions < 0).any():
        unknown = query[positions < 0][:5].tolist()
        raise KeyError(f"unknown {what} id(s) {unknown}: not in this dataset.")
    return positions.astype(np.int64)


def _is_str(ids: Any) -> bool:
    if isinstance(ids, str):
        return True
    return bool(isinstance(ids, list | tuple) and any(isinstance(v, str) for v in ids))


def _as_int_hint(value: Any) -> str:
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return "<an integer>"


def reference_figures() -> pd.DataFrame:
    """Realism figures of the shop, uniform noise and ml-latest-small, as committed.

    Made by ``python benchmarks/dataset_stats.py --write
    recsys_helpers/datasets/reference_figures.csv`` on a machine with the
    MovieLens files, and shipped with the package, so a lesson can set a
    live dataset beside real data offline. Rows are figures (``density``,
    ``item_gini``, ``activity_p90_over_median``, ``rating_shift_by_time``,
    ...), columns datasets.
    """
    from importlib.resources import files

    source = files("recsys_helpers.datasets").joinpath("reference_figures.csv")
    with source.open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, index_col="figure")


def default_dataset_name() -> str:
    """The dataset lessons run on: env ``RECSYS_DATASET``, default ``"shop"``."""
    name = os.environ.get("RECSYS_DATASET", "").strip() or "shop"
    if name not in DATASETS:
        raise ValueError(f"RECSYS_DATASET={name!r} is not one of {DATASETS}.")
    return name


def load(
    name: str = "shop",
    data_dir: str | os.PathLike[str] | None = None,
    n_users: int = 1000,
    n_items: int = 400,
    seed: int = 7,
) -> Dataset:
    """Load a dataset by name.

    Args:
        name: ``"toy"`` (the seed notebook's 5 products x 5 users), ``"shop"``
            (the embedded simulated shop, offline, the default),
            ``"movielens-latest-small"`` or ``"movielens-100k"`` (downloaded
            once with a pinned sha256, cached in ``data_dir`` or
            ``RECSYS_DATA_DIR``; every rating counts as an interaction).
        data_dir: Where MovieLens files are (or go); ignored otherwise.
        n_users: Shop only: number of users.
        n_items: Shop only: number of catalogue items.
        seed: Shop only: the seed of the simulation.

    Returns:
        The Dataset.

    Raises:
        ValueError: Unknown name, or shop sizes given for another dataset.
    """
    if name != "shop" and (n_users, n_items, seed) != (1000, 400, 7):
        raise ValueError(
            f"n_users, n_items and seed apply to 'shop' only, not {name!r}."
        )
    if name == "toy":
        from recsys_helpers.datasets.toy import toy_frames

        interactions, items, users = toy_frames()
        return Dataset.from_frames(interactions, items, users, name="toy")
    if name == "shop":
        from recsys_helpers.datasets.shop import make_shop

        shop = make_shop(n_users=n_users, n_items=n_items, seed=seed)
        return Dataset.from_frames(
            shop.interactions, shop.items, shop.users, name="shop", truth=shop.truth
        )
    if name in ("movielens-latest-small", "movielens-100k"):
        from recsys_helpers.datasets.movielens import load_movielens

        interactions, items, users = load_movielens(name, data_dir)
        return Dataset.from_frames(interactions, items, users, name=name)
    raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}.")
