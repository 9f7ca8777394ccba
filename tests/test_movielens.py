"""Tests of recsys_helpers.datasets.movielens.

Two groups:

* the real MovieLens files, read from the read-only shared copy next to the
  repository (``../shared/data``) or from ``$RECSYS_DATA_DIR``; skipped when
  absent, since the course never commits them (licence);
* the download path, fully offline: small fake archives are served from a local
  ``ThreadingHTTPServer`` on 127.0.0.1 and the module's archive table is
  monkeypatched to point at them. Every test starts with all archive URLs
  pointing at a closed local port, so nothing can reach the internet.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import os
import socket
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pooch
import pytest

from recsys_helpers.columns import ITEM, RATING, TIMESTAMP, USER
from recsys_helpers.datasets import movielens
from recsys_helpers.datasets.movielens import (
    DatasetChecksumError,
    DatasetUnavailableError,
    load_movielens,
)

LATEST = "movielens-latest-small"
ML100K = "movielens-100k"
SHARED_DATA = Path(
    os.environ.get("RECSYS_DATA_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


def _closed_port_url(fname: str = "archive.zip") -> str:
    """A URL on 127.0.0.1 where nothing listens: connection refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{fname}"


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    """No test may touch the internet, the learner's cache or their env vars."""
    for name, archive in list(movielens.ARCHIVES.items()):
        monkeypatch.setitem(
            movielens.ARCHIVES,
            name,
            dataclasses.replace(archive, url=_closed_port_url()),
        )
    monkeypatch.delenv("RECSYS_DATA_DIR", raising=False)
    monkeypatch.setenv("RECSYS_PROGRESS", "0")
    monkeypatch.setattr(pooch, "os_cache", lambda project: tmp_path / "os-cache")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root (root included) with its mtime and size."""
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in [root, *root.rglob("*")]
    }


# ----------------------------------------------------------- real MovieLens


def _real_copy(name: str) -> Path:
    archive = movielens.ARCHIVES[name]
    folder = SHARED_DATA / archive.folder
    missing = [f for f in archive.files if not (folder / f).is_file()]
    if missing:
        pytest.skip(
            f"no MovieLens copy at {folder} (missing {', '.join(missing)}); "
            "set RECSYS_DATA_DIR to a folder holding it to run this test"
        )
    for fname, expected in archive.files.items():
        got = _sha256((folder / fname).read_bytes())
        assert got == expected, f"{folder / fname} is not the official file"
    return SHARED_DATA


def test_real_latest_small_is_read_in_place():
    root = _real_copy(LATEST)
    before = _snapshot(root)

    interactions, items, users = load_movielens(LATEST, data_dir=root)

    assert _snapshot(root) == before, "the shared copy was written to"
    assert users is None
    assert len(interactions) == 100_836
    assert interactions[USER].nunique() == 610
    assert interactions[ITEM].nunique() == 9_724
    assert len(items) == 9_742
    assert items[ITEM].is_unique
    assert set(interactions[ITEM]) <= set(items[ITEM])
    assert interactions.dtypes.to_dict() == {
        USER: "int64",
        ITEM: "int64",
        RATING: "float64",
        TIMESTAMP: "int64",
    }
    assert list(items.columns) == [ITEM, "title", "genres", "user_tags", "tags", "year"]
    assert items[ITEM].dtype == "int64"
    assert items["year"].dtype == "Int64"
    for column in ("title", "genres", "user_tags", "tags"):
        assert items[column].dtype == "str"
        assert items[column].notna().all()
    assert interactions[RATING].between(0.5, 5.0).all()

    toy = items.set_index(ITEM).loc[1]
    assert toy["title"] == "Toy Story (1995)"
    assert toy["genres"] == "Adventure, Animation, Children, Comedy, Fantasy"
    assert toy["year"] == 1995
    assert "pixar" in toy["tags"].split(", ")
    assert not items["genres"].str.contains("|", regex=False).any()
    assert (items["genres"] == "").sum() == 34  # "(no genres listed)"
    assert (items["user_tags"] != "").sum() == 1_572  # movies with at least one tag
    assert items["year"].isna().sum() == 12  # titles without a year


def test_real_100k_is_read_in_place():
    root = _real_copy(ML100K)
    before = _snapshot(root)

    interactions, items, users = load_movielens(ML100K, data_dir=root)

    assert _snapshot(root) == before, "the shared copy was written to"
    assert len(interactions) == 100_000
    assert interactions[USER].nunique() == 943
    assert interactions[ITEM].nunique() == 1_682
    assert len(items) == 1_682
    assert len(users) == 943
    assert interactions[RATING].dtype == "float64"
    assert items["genres"].dtype == "str"
    assert users["zip_code"].dtype == "str"


# ------------------------------------------------------------ fake archives

LATEST_FILES = {
    "ratings.csv": (
        "userId,movieId,rating,timestamp\n"
        "1,1,4.0,964982703\n"
        "1,2,3.5,964981247\n"
        "2,1,5.0,1445714994\n"
        "3,3,0.5,1445715000\n"
    ),
    "movies.csv": (
        "movieId,title,genres\n"
        "1,Toy Story (1995),Adventure|Animation|Children\n"
        '2,"American President, The (1995)",Comedy|Drama|Romance\n'
        "3,NA,(no genres listed)\n"
        "4,Death Note: Desu nôto (2006–2007),Mystery\n"
        "5,Runaway Brain (1995) ,Animation\n"
    ),
    "tags.csv": (
        "userId,movieId,tag,timestamp\n"
        "2,1,pixar,1445714994\n"
        "3,1,fun,1445714995\n"
        "4,1,pixar,1445714996\n"
        "2,2,NA,1445714997\n"
    ),
    "links.csv": "movieId,imdbId,tmdbId\n1,0114709,862\n",
    "README.txt": "A tiny fake of ml-latest-small for tests.\n",
}


def _u_item_line(item: int, title: str, date: str, genres: set[str]) -> str:
    flags = "|".join("1" if g in genres else "0" for g in movielens._GENRES_100K)
    return f"{item}|{title}|{date}||http://example.invalid/{item}|{flags}\n"


ML100K_FILES = {
    "u.data": "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n",
    "u.item": (
        _u_item_line(1, "Toy Story (1995)", "01-Jan-1995", {"Animation", "Comedy"})
        + _u_item_line(2, "Café au lait (1993)", "01-Jan-1993", {"Children's"})
        + _u_item_line(3, "unknown", "", {"unknown"})
    ),
    "u.user": "1|24|M|technician|85711\n2|53|F|other|01002\n3|23|M|writer|T8H1N\n",
    "u.genre": "unknown|0\nAction|1\n",
    "README": "A tiny fake of ml-100k for tests.\n",
}
ENCODINGS = {LATEST: "utf-8", ML100K: "latin-1"}


@dataclasses.dataclass
class FakeArchive:
    name: str
    path: Path
    archive: movielens.Archive


def _make_fake(name: str, files: dict[str, str], out_dir: Path) -> FakeArchive:
    """Zip ``files`` under the archive's folder, like GroupLens does."""
    folder = movielens.ARCHIVES[name].folder
    encoded = {f: text.encode(ENCODINGS[name]) for f, text in files.items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{folder}/", b"")
        for fname, data in encoded.items():
            zf.writestr(f"{folder}/{fname}", data)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{folder}.zip"
    path.write_bytes(buffer.getvalue())
    read = movielens.ARCHIVES[name].files
    archive = movielens.Archive(
        url="",  # set once the server runs
        sha256=_sha256(buffer.getvalue()),
        folder=folder,
        files={f: _sha256(encoded[f]) for f in read},
    )
    return FakeArchive(name, path, archive)


class _QuietHandler(SimpleHTTPRequestHandler):
    def do_GET(self):
        self.server.hits += 1
        super().do_GET()

    def log_message(self, format, *args):  # noqa: A002 (stdlib's signature)
        pass


class LocalServer:
    """Serve a folder on 127.0.0.1 from a thread; stop() is idempotent."""

    def __init__(self, directory: Path):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.hits = 0
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}
        )
        self._thread.daemon = True
        self._thread.start()
        self.running = True

    @property
    def hits(self) -> int:
        return self._server.hits

    def url(self, fname: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{fname}"

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)


@pytest.fixture
def served(tmp_path):
    """The server, plus a helper that builds a fake archive and patches it in."""
    www = tmp_path / "www"
    www.mkdir()
    server = LocalServer(www)
    try:
        yield server, www
    finally:
        server.stop()


@pytest.fixture
def install(served, monkeypatch):
    server, www = served

    def _install(name: str, files: dict[str, str], **overrides) -> FakeArchive:
        fake = _make_fake(name, files, www)
        archive = dataclasses.replace(
            fake.archive, url=server.url(fake.path.name), **overrides
        )
        monkeypatch.setitem(movielens.ARCHIVES, name, archive)
        return dataclasses.replace(fake, archive=archive)

    return _install


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ----------------------------------------------------------- download path


def test_download_then_offline_reuse(served, install, tmp_path):
    server, _ = served
    install(LATEST, LATEST_FILES)
    data_dir = tmp_path / "data"

    interactions, items, users = load_movielens(LATEST, data_dir=data_dir)

    assert server.hits == 1
    assert users is None
    expected = ["ml-latest-small", *(f"ml-latest-small/{f}" for f in LATEST_FILES)]
    assert _listing(data_dir) == sorted(expected)  # no zip, no staging folder
    assert interactions.dtypes.to_dict() == {
        USER: "int64",
        ITEM: "int64",
        RATING: "float64",
        TIMESTAMP: "int64",
    }
    assert interactions[RATING].tolist() == [4.0, 3.5, 5.0, 0.5]
    assert items[ITEM].tolist() == [1, 2, 3, 4, 5]
    assert items["title"].tolist() == [
        "Toy Story (1995)",
        "American President, The (1995)",
        "NA",
        "Death Note: Desu nôto (2006–2007)",
        "Runaway Brain (1995)",
    ]
    assert items["genres"].tolist() == [
        "Adventure, Animation, Children",
        "Comedy, Drama, Romance",
        "",
        "Mystery",
        "Animation",
    ]
    assert items["user_tags"].tolist() == ["pixar, fun", "NA", "", "", ""]
    # the content text: genres, then the users' tags
    assert items["tags"].tolist() == [
        "Adventure, Animation, Children, pixar, fun",
        "Comedy, Drama, Romance, NA",
        "",
        "Mystery",
        "Animation",
    ]
    assert items["year"].tolist() == [1995, 1995, pd.NA, 2006, 1995]
    assert items["year"].dtype == "Int64"
    for column in ("title", "genres", "user_tags", "tags"):
        assert items[column].dtype == "str"

    server.stop()
    before = _snapshot(data_dir)
    again, items_again, _ = load_movielens(LATEST, data_dir=data_dir)
    pd.testing.assert_frame_equal(again, interactions)
    pd.testing.assert_frame_equal(items_again, items)
    assert _snapshot(data_dir) == before


def test_download_100k(served, install, tmp_path):
    server, _ = served
    install(ML100K, ML100K_FILES)
    data_dir = tmp_path / "data"

    interactions, items, users = load_movielens(ML100K, data_dir=data_dir)

    assert server.hits == 1
    assert (data_dir / "ml-100k" / "u.genre").is_file()  # every member kept
    assert interactions.dtypes.to_dict() == {
        USER: "int64",
        ITEM: "int64",
        RATING: "float64",
        TIMESTAMP: "int64",
    }
    assert interactions[RATING].tolist() == [5.0, 3.0, 4.0]
    assert list(items.columns) == [ITEM, "title", "genres", "tags", "year"]
    assert items["tags"].tolist() == items["genres"].tolist()
    assert items["title"].tolist() == [
        "Toy Story (1995)",
        "Café au lait (1993)",
        "unknown",
    ]
    assert items["genres"].tolist() == ["Animation, Comedy", "Children's", ""]
    assert items["year"].tolist() == [1995, 1993, pd.NA]
    assert items["genres"].dtype == "str"
    assert items["title"].dtype == "str"
    assert items["year"].dtype == "Int64"
    assert list(users.columns) == [USER, "age", "gender", "occupation", "zip_code"]
    assert users["zip_code"].tolist() == ["85711", "01002", "T8H1N"]
    assert users["age"].dtype == "int64"
    assert users["zip_code"].dtype == "str"

    server.stop()
    _, items_again, users_again = load_movielens(ML100K, data_dir=data_dir)
    pd.testing.assert_frame_equal(items_again, items)
    pd.testing.assert_frame_equal(users_again, users)


def test_env_var_and_default_cache(served, install, tmp_path, monkeypatch):
    server, _ = served
    install(LATEST, LATEST_FILES)
    load_movielens(LATEST)  # default: pooch.os_cache (patched into tmp_path)
    assert (tmp_path / "os-cache" / "ml-latest-small" / "ratings.csv").is_file()

    server.stop()
    monkeypatch.setenv("RECSYS_DATA_DIR", str(tmp_path / "os-cache"))
    monkeypatch.setattr(pooch, "os_cache", lambda project: tmp_path / "elsewhere")
    interactions, _, _ = load_movielens(LATEST)
    assert len(interactions) == 4
    assert not (tmp_path / "elsewhere").exists()


def test_wrong_zip_hash_leaves_nothing(install, tmp_path):
    install(LATEST, LATEST_FILES, sha256="0" * 64)
    data_dir = tmp_path / "data"
    data_dir.mkdir()

    with pytest.raises(DatasetChecksumError, match="sha256"):
        load_movielens(LATEST, data_dir=data_dir)

    assert _listing(data_dir) == []


def test_wrong_zip_hash_does_not_create_the_data_dir(install, tmp_path):
    install(ML100K, ML100K_FILES, sha256="0" * 64)
    data_dir = tmp_path / "new" / "data"

    with pytest.raises(DatasetChecksumError):
        load_movielens(ML100K, data_dir=data_dir)

    assert not (tmp_path / "new").exists()


def test_extracted_file_hash_mismatch_leaves_nothing(install, tmp_path, monkeypatch):
    fake = install(LATEST, LATEST_FILES)
    bad = dataclasses.replace(
        fake.archive, files={**fake.archive.files, "tags.csv": "f" * 64}
    )
    monkeypatch.setitem(movielens.ARCHIVES, LATEST, bad)
    data_dir = tmp_path / "data"
    data_dir.mkdir()

    with pytest.raises(DatasetChecksumError, match=r"tags\.csv"):
        load_movielens(LATEST, data_dir=data_dir)

    assert _listing(data_dir) == []


def test_corrupted_copy_is_replaced(served, install, tmp_path):
    server, _ = served
    install(LATEST, LATEST_FILES)
    data_dir = tmp_path / "data"
    load_movielens(LATEST, data_dir=data_dir)
    ratings = data_dir / "ml-latest-small" / "ratings.csv"
    ratings.write_text("userId,movieId,rating,timestamp\n9,9,1.0,1\n")

    interactions, _, _ = load_movielens(LATEST, data_dir=data_dir)

    assert server.hits == 2
    assert len(interactions) == 4
    assert ratings.read_text(encoding="utf-8") == LATEST_FILES["ratings.csv"]
    expected = ["ml-latest-small", *(f"ml-latest-small/{f}" for f in LATEST_FILES)]
    assert _listing(data_dir) == sorted(expected)


def test_offline_without_copy_names_the_fix(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()

    with pytest.raises(DatasetUnavailableError) as info:
        load_movielens(LATEST, data_dir=data_dir)

    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "RECSYS_DATA_DIR" in message
    assert str(data_dir / "ml-latest-small") in message
    assert 'data.load("shop")' in message
    assert _listing(data_dir) == []


def test_offline_default_dir_is_named(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="RECSYS_DATA_DIR") as info:
        load_movielens(ML100K)

    assert str(tmp_path / "os-cache" / "ml-100k") in str(info.value)
    assert not (tmp_path / "os-cache").exists()


def test_unknown_name(tmp_path):
    with pytest.raises(ValueError, match="movielens-100k") as info:
        load_movielens("movielens-1m", data_dir=tmp_path / "data")

    assert "movielens-latest-small" in str(info.value)
    assert not (tmp_path / "data").exists()


def test_progress_bar_and_quiet_logger(install, tmp_path, monkeypatch):
    install(LATEST, LATEST_FILES)
    seen = []
    real_retrieve = pooch.retrieve

    def spy(*args, **kwargs):
        seen.append((kwargs["progressbar"], pooch.get_logger().level))
        return real_retrieve(*args, **kwargs)

    monkeypatch.setattr(pooch, "retrieve", spy)
    level = pooch.get_logger().level

    load_movielens(LATEST, data_dir=tmp_path / "quiet")
    monkeypatch.delenv("RECSYS_PROGRESS")
    with contextlib.redirect_stderr(io.StringIO()):
        load_movielens(LATEST, data_dir=tmp_path / "bar")

    assert [progress for progress, _ in seen] == [False, True]
    assert all(during == 30 for _, during in seen)  # logging.WARNING
    assert pooch.get_logger().level == level  # restored afterwards
