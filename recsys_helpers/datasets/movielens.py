"""MovieLens loaders: ``movielens-latest-small`` and ``movielens-100k``.

:func:`load_movielens` returns the ratings, the movies and (for 100k) the users
as DataFrames with the course's column names, fetching the official GroupLens
archive on first use and checking every file it reads against a SHA-256 hash.

Where the files live is, in this order: the ``data_dir`` argument, the
environment variable ``RECSYS_DATA_DIR``, or the user cache folder
``pooch.os_cache("recsys-from-scratch")``. Inside it the archives keep their own
folder names: ``ml-latest-small/ratings.csv``, ``ml-100k/u.data`` and so on. A
folder that already holds the right files is only read, never written to and
no network is used, so a read-only shared copy works as is.

Licence: the MovieLens data sets belong to GroupLens Research (University of
Minnesota). The 100k files may not be redistributed at all, and the
latest-small files only under the same terms as GroupLens' own licence (see
the README.txt inside each archive). The course therefore never commits them:
every learner downloads them from GroupLens, or points ``RECSYS_DATA_DIR`` at a
copy they already have. Without network access and without a copy, use the
course's offline default data set, ``data.load("shop")``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pooch

from recsys_helpers.columns import ITEM, RATING, TIMESTAMP, USER

__all__ = [
    "ARCHIVES",
    "DATA_DIR_ENV",
    "PROGRESS_ENV",
    "Archive",
    "DatasetChecksumError",
    "DatasetUnavailableError",
    "load_movielens",
]

#: Environment variable naming the folder that holds (or receives) the data.
DATA_DIR_ENV = "RECSYS_DATA_DIR"
#: Environment variable: ``"0"`` hides the download progress bar.
PROGRESS_ENV = "RECSYS_PROGRESS"
#: Name of the per-user cache folder, passed to :func:`pooch.os_cache`.
CACHE_NAME = "recsys-from-scratch"


class DatasetUnavailableError(RuntimeError):
    """The data set is neither on disk nor downloadable (offline, no copy)."""


class DatasetChecksumError(RuntimeError):
    """A downloaded archive or an extracted file has an unexpected SHA-256."""


@dataclass(frozen=True)
class Archive:
    """Where one MovieLens archive comes from and what it must contain.

    Attributes:
        url: Address of the official zip file.
        sha256: SHA-256 hex digest of that zip file.
        folder: Name of the folder the zip's members live in (``ml-100k``).
        files: SHA-256 hex digest of each file the loader reads, by file name
            inside ``folder``.
    """

    url: str
    sha256: str
    folder: str
    files: Mapping[str, str]


_BASE_URL = "https://files.grouplens.org/datasets/movielens/"

#: The supported data sets. Tests swap entries (``monkeypatch.setitem``) to
#: serve small fake archives from a local server; learners never need to.
ARCHIVES: dict[str, Archive] = {
    "movielens-latest-small": Archive(
        url=_BASE_URL + "ml-latest-small.zip",
        sha256="696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        folder="ml-latest-small",
        files=MappingProxyType(
            {
                "ratings.csv": (
                    "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646"
                ),
                "movies.csv": (
                    "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07"
                ),
                "tags.csv": (
                    "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d"
                ),
            }
        ),
    ),
    "movielens-100k": Archive(
        url=_BASE_URL + "ml-100k.zip",
        sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        folder="ml-100k",
        files=MappingProxyType(
            {
                "u.data": (
                    "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"
                ),
                "u.item": (
                    "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701"
                ),
                "u.user": (
                    "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c"
                ),
            }
        ),
    ),
}

# The 19 binary genre columns of ml-100k's u.item, in file order (u.genre).
_GENRES_100K = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
# Genre markers that mean "no genre": they become an empty string.
_NO_GENRE_LATEST = "(no genres listed)"
_NO_GENRE_100K = "unknown"
# "Toy Story (1995)", "Death Note: Desu nôto (2006–2007)" (first year is kept).
_TITLE_YEAR = r"\((\d{4})(?:[-–]\d{4})?\)$"
_SEP = ", "


def load_movielens(
    name: str, data_dir: str | os.PathLike[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Return (interactions, items, users) for a MovieLens data set.

    The first call downloads the official archive from GroupLens (a few MB),
    checks its SHA-256, extracts it and checks every file read; later calls
    only read (and check) the extracted files and need no network.

    Args:
        name: ``"movielens-latest-small"`` (100,836 ratings of 9,724 movies by
            610 users, with free-text tags) or ``"movielens-100k"`` (100,000
            ratings of 1,682 movies by 943 users, with user demographics).
        data_dir: Folder holding ``ml-latest-small/`` or ``ml-100k/``. Defaults
            to ``$RECSYS_DATA_DIR``, else ``pooch.os_cache("recsys-from-scratch")``.

    Returns:
        ``interactions`` with ``user_id``, ``item_id`` (int64), ``rating``
        (float64) and ``timestamp`` (int64, Unix seconds); ``items`` with
        ``item_id``, ``title``, ``genres`` (``"Adventure, Animation"``, empty
        when the movie has none), ``year`` (Int64, ``<NA>`` when unknown),
        ``tags`` (the item text content models read: the genres, then for
        latest-small the users' distinct tags, joined with ``", "``) and, for
        latest-small, ``user_tags`` (the users' tags alone, empty when none);
        ``users`` is None for latest-small and, for 100k, has ``user_id``,
        ``age``, ``gender``, ``occupation``,
        ``zip_code``.

    Raises:
        ValueError: ``name`` is not one of the supported data sets.
        DatasetUnavailableError: No verified copy on disk and the download
            failed (offline) or the folder cannot be written to.
        DatasetChecksumError: The downloaded archive or an extracted file does
            not have the expected SHA-256; nothing is left behind.

    Example:
        >>> ratings, _, _ = load_movielens("movielens-latest-small")  # doctest: +SKIP
        >>> ratings.shape  # doctest: +SKIP
        (100836, 4)
    """
    if name not in ARCHIVES:
        valid = ", ".join(repr(n) for n in sorted(ARCHIVES))
        msg = f"Unknown MovieLens data set {name!r}; valid names: {valid}."
        raise ValueError(msg)
    archive = ARCHIVES[name]
    root = _data_root(data_dir)
    folder = root / archive.folder
    problems = _check_files(folder, archive.files)
    if problems:
        _download(name, archive, root, problems)
    if name == "movielens-100k":
        return _read_100k(folder)
    interactions, items = _read_latest_small(folder)
    return interactions, items, None


# --------------------------------------------------------------------- files


def _data_root(data_dir: str | os.PathLike[str] | None) -> Path:
    """The folder holding the archives' folders (argument, env var, cache)."""
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or pooch.os_cache(CACHE_NAME)
    return Path(data_dir).expanduser()


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _check_files(folder: Path, files: Mapping[str, str]) -> list[str]:
    """Describe every expected file that is missing or has another hash."""
    problems = []
    for fname, expected in files.items():
        path = folder / fname
        if not path.is_file():
            problems.append(f"{fname} is missing")
        elif _sha256(path) != expected.lower():
            problems.append(f"{fname} has an unexpected sha256")
    return problems


def _progressbar() -> bool:
    """Show tqdm's bar unless RECSYS_PROGRESS=0 (or tqdm is not installed)."""
    wanted = os.environ.get(PROGRESS_ENV, "1").strip() != "0"
    return wanted and importlib.util.find_spec("tqdm") is not None


@contextlib.contextmanager
def _quiet_pooch() -> Iterator[None]:
    """Hide pooch's "Downloading data from ..." lines, then restore its level."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(level)


def _download(name: str, archive: Archive, root: Path, problems: list[str]) -> None:
    """Fetch, extract and verify ``archive``, then move its folder into ``root``.

    Everything happens in a hidden staging folder inside ``root`` that is
    removed at the end, so a failure leaves ``root`` as it was.
    """
    created = [d for d in (root, *root.parents) if not d.exists()]  # deepest 1st
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{archive.folder}-", dir=root))
    except OSError as exc:
        msg = _unavailable_message(
            name, archive, root, problems, f"the folder cannot be written to ({exc})"
        )
        raise DatasetUnavailableError(msg) from exc
    try:
        zip_path = _fetch_zip(name, archive, root, staging, problems)
        extracted = _extract(zip_path, archive.folder, staging / "extracted")
        bad = _check_files(extracted, archive.files)
        if bad:
            msg = (
                f"The files extracted from {archive.url} do not match the expected "
                f"sha256 ({'; '.join(bad)}); nothing was kept in {root}. The archive "
                "on the server may have changed: please report this to the course."
            )
            raise DatasetChecksumError(msg)
        _move_into_place(extracted, root / archive.folder, staging, archive.files)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds if the download left it empty


def _fetch_zip(
    name: str, archive: Archive, root: Path, staging: Path, problems: list[str]
) -> Path:
    """Download the zip into ``staging`` with pooch, which checks its sha256."""
    import requests  # pooch's own dependency; imported here like pooch does

    try:
        with _quiet_pooch():
            fname = pooch.retrieve(
                url=archive.url,
                known_hash=f"sha256:{archive.sha256}",
                fname=f"{archive.folder}.zip",
                path=staging,
                progressbar=_progressbar(),
            )
    except requests.exceptions.RequestException as exc:
        reason = f"the download from {archive.url} failed ({type(exc).__name__})"
        msg = _unavailable_message(name, archive, root, problems, reason)
        raise DatasetUnavailableError(msg) from exc
    except ValueError as exc:
        if "does not match" not in str(exc):
            raise
        msg = (
            f"The archive downloaded from {archive.url} does not have the expected "
            f"sha256 {archive.sha256}; it was deleted and nothing was kept in "
            f"{root}. Try again later (the download may have been corrupted). "
            f"Details: {exc}"
        )
        raise DatasetChecksumError(msg) from exc
    return Path(fname)


def _extract(zip_path: Path, folder: str, dest: Path) -> Path:
    """Extract the members under ``folder/`` of the zip into ``dest``."""
    with zipfile.ZipFile(zip_path) as zf:
        members = [m for m in zf.namelist() if m.startswith(f"{folder}/")]
        zf.extractall(dest, members=members)  # zipfile drops "..", "/" parts
    return dest / folder


def _move_into_place(
    new: Path, target: Path, staging: Path, files: Mapping[str, str]
) -> None:
    """Rename the verified folder to ``target``; an old, bad copy is dropped."""
    if target.exists() or target.is_symlink():
        os.replace(target, staging / "previous")  # removed with the staging dir
    try:
        os.replace(new, target)
    except OSError:
        # Another process may have put a verified copy there in the meantime.
        if target.is_dir() and not _check_files(target, files):
            return
        raise


def _unavailable_message(
    name: str, archive: Archive, root: Path, problems: list[str], reason: str
) -> str:
    return (
        f"MovieLens {name!r} is not available: no verified copy in "
        f"{root / archive.folder} ({'; '.join(problems)}) and {reason}.\n"
        f"If you have the files, put the extracted {archive.folder}/ folder in a "
        f"directory and set the environment variable {DATA_DIR_ENV} to that "
        "directory (or pass data_dir=...).\n"
        "Working offline? The course's default data set needs no download: "
        'data.load("shop").'
    )


# ------------------------------------------------------------------- parsing


def _year(text: pd.Series, pattern: str) -> pd.Series:
    """The four-digit year captured by ``pattern``'s group, as Int64 (or NA)."""
    return text.str.extract(pattern, expand=False).astype("Int64")


def _read_latest_small(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = {"userId": "int64", "movieId": "int64"}
    interactions = pd.read_csv(
        folder / "ratings.csv",
        dtype={**ids, "rating": "float64", "timestamp": "int64"},
        encoding="utf-8",
    ).rename(columns={"userId": USER, "movieId": ITEM})[[USER, ITEM, RATING, TIMESTAMP]]

    # keep_default_na=False: a title or a tag such as "NA" stays a string.
    movies = pd.read_csv(
        folder / "movies.csv",
        dtype={"movieId": "int64", "title": "str", "genres": "str"},
        keep_default_na=False,
        encoding="utf-8",
    )
    tags = pd.read_csv(
        folder / "tags.csv",
        usecols=["movieId", "tag"],
        dtype={"movieId": "int64", "tag": "str"},
        keep_default_na=False,
        encoding="utf-8",
    )
    tags = tags.assign(tag=tags["tag"].str.strip())
    tags = tags[tags["tag"] != ""].drop_duplicates(["movieId", "tag"])
    tags_by_movie = tags.groupby("movieId", sort=False)["tag"].agg(_SEP.join)

    title = movies["title"].str.strip()
    user_tags = movies["movieId"].map(tags_by_movie).fillna("").astype("str")
    genres = (
        movies["genres"]
        .replace(_NO_GENRE_LATEST, "")
        .str.replace("|", _SEP, regex=False)
    )
    items = pd.DataFrame(
        {
            ITEM: movies["movieId"],
            "title": title,
            "genres": genres,
            "user_tags": user_tags,
            "tags": _join_text(genres, user_tags),
            "year": _year(title, _TITLE_YEAR),
        }
    )
    return interactions.reset_index(drop=True), items


def _join_text(first: pd.Series, second: pd.Series) -> pd.Series:
    """Join two text columns with ", ", skipping empty parts."""
    both = (first != "") & (second != "")
    joined = first + second
    joined[both] = first[both] + _SEP + second[both]
    return joined.astype("str")


def _read_100k(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    interactions = pd.read_csv(
        folder / "u.data",
        sep="\t",
        header=None,
        names=[USER, ITEM, RATING, TIMESTAMP],
        dtype={USER: "int64", ITEM: "int64", RATING: "float64", TIMESTAMP: "int64"},
    )

    item_columns = [ITEM, "title", "release_date", "video_release_date", "imdb_url"]
    movies = pd.read_csv(
        folder / "u.item",
        sep="|",
        header=None,
        names=[*item_columns, *_GENRES_100K],
        usecols=[ITEM, "title", "release_date", *_GENRES_100K],
        dtype={
            ITEM: "int64",
            "title": "str",
            "release_date": "str",
            **dict.fromkeys(_GENRES_100K, "int8"),
        },
        keep_default_na=False,
        encoding="latin-1",
    )
    named = [g for g in _GENRES_100K if g != _NO_GENRE_100K]
    rows, cols = np.nonzero(movies[named].to_numpy(dtype=bool))  # row-major
    genres = (
        pd.Series(np.asarray(named)[cols], index=rows, dtype="str")
        .groupby(level=0)
        .agg(_SEP.join)
        .reindex(np.arange(len(movies)), fill_value="")
        .astype("str")
    )
    items = pd.DataFrame(
        {
            ITEM: movies[ITEM],
            "title": movies["title"].str.strip(),
            "genres": genres,
            "tags": genres,
            # "01-Jan-1995" -> 1995; the date is empty for a few movies.
            "year": _year(movies["release_date"], r"(\d{4})$"),
        }
    )

    users = pd.read_csv(
        folder / "u.user",
        sep="|",
        header=None,
        names=[USER, "age", "gender", "occupation", "zip_code"],
        dtype={
            USER: "int64",
            "age": "int64",
            "gender": "str",
            "occupation": "str",
            "zip_code": "str",  # some are not numeric ("T8H1N"), keep zeros
        },
        keep_default_na=False,
        encoding="latin-1",
    )
    return interactions, items, users
