"""Index files written safely and checked on open: no write on search, read-only indexes, clear errors for a
missing, empty, replaced or garbled store and for an empty or damaged ``blendsearch.json``."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pinned_settings import FOUR_CHANNEL_WEIGHTS

from blendsearch.cli import main
from blendsearch.config import EngineConfig, FieldMapping
from blendsearch.engine import INDEX_FILE, Engine
from blendsearch.exceptions import IndexCorruptError, IndexError_, IndexFormatError
from blendsearch.index_state import LOCK_FILE
from blendsearch.query.models import HybridQuery

N_DOCS = 120
REBUILD = "--index NEW_DIR"


def _config() -> EngineConfig:
    config = EngineConfig(fields=FieldMapping(numeric=["price"]))
    config.encoder.model = "hash:64"
    config.ingest.batch_size = 40
    return config


def _catalog(path: Path, n: int = N_DOCS) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            colour = ("red", "blue", "green")[i % 3]
            row = {"id": f"p{i:04d}", "title": f"{colour} cotton dress {i}", "price": i % 50}
            out.write(json.dumps(row) + "\n")
    return path


def _build(root: Path) -> Path:
    index = root / "idx"
    with Engine.open(index, _config()) as engine:
        summary = engine.ingest(_catalog(root / "catalog.jsonl"))
    assert (summary.read, summary.written) == (N_DOCS, N_DOCS)
    return index


def _snapshot(index: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, size, mtime_ns) of every file of the index, to prove nothing was written."""
    return {p.name: (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns) for p in index.iterdir()}


@pytest.fixture()
def index(tmp_path: Path) -> Path:
    return _build(tmp_path)


def test_opening_and_searching_write_nothing(index: Path) -> None:
    before = _snapshot(index)
    for _ in range(3):
        with Engine.open(index) as engine:
            assert len(engine.search("red dress").hits) == 10
            assert engine.stats().documents == N_DOCS
    assert _snapshot(index) == before


def test_index_file_is_replaced_atomically_and_only_when_the_config_changes(index: Path) -> None:
    file = index / INDEX_FILE
    inode = file.stat().st_ino
    with Engine.open(index, Engine.stored_config(index)):  # same config: no write
        pass
    assert file.stat().st_ino == inode
    changed = _config()
    changed.search.candidates = 77
    with Engine.open(index, changed):
        pass
    assert file.stat().st_ino != inode  # a new file renamed over the old one, never rewritten in place
    assert json.loads(file.read_text())["config"]["search"]["candidates"] == 77
    assert stat.S_IMODE(file.stat().st_mode) == 0o644
    assert sorted(p.name for p in index.iterdir() if p.name.startswith(".")) == []  # no temp file left


def test_model_fingerprint_is_read_back_from_the_store(index: Path) -> None:
    """The store's meta table is the record; blendsearch.json only mirrors it."""
    data = json.loads((index / INDEX_FILE).read_text())
    assert (data["model_fingerprint"], data["dim"]) == ("hash:64", 64)
    data["model_fingerprint"], data["dim"] = None, None
    (index / INDEX_FILE).write_text(json.dumps(data))
    with Engine.open(index) as engine:
        stats = engine.stats()
        assert (stats.model_fingerprint, stats.dim) == ("hash:64", 64)
        # vector_text weighted explicitly (the defaults weight it 0): the text vector is searched
        query = HybridQuery(text="red dress", weights=FOUR_CHANNEL_WEIGHTS)
        assert "vector_text" in engine.search(query).channels


@pytest.fixture()
def readonly_copy(index: Path) -> Iterator[Path]:
    """A copy of the index in a world-readable folder (root cannot be refused a write, so the check runs as
    ``nobody`` there), then ``chmod -R a-w``."""
    root = Path(tempfile.mkdtemp(prefix="bs-ro-"))
    os.chmod(root, 0o755)
    target = root / "idx"
    shutil.copytree(index, target)
    for path in [target, *target.iterdir()]:
        path.chmod(path.stat().st_mode & ~0o222 | 0o444 | (0o111 if path.is_dir() else 0))
    yield target
    for path in [target, *target.iterdir()]:
        path.chmod(path.stat().st_mode | 0o200)
    shutil.rmtree(root)


def _search_read_only(index: Path) -> tuple[bool, int, int, str | None, int]:
    with Engine.open(index) as engine:
        read_only = engine.backend.read_only  # type: ignore[attr-defined]
        hits = len(engine.search("red dress").hits)
        stats = engine.stats()
    cli = CliRunner().invoke(main, ["stats", "--index", str(index), "--json"])
    return read_only, hits, stats.documents, stats.model_fingerprint, cli.exit_code


def _as_nobody(fn, index: Path, warm_up: Path) -> tuple:  # noqa: ANN001 - a test helper
    """Run ``fn(index)`` in a forked child that dropped root, returning its result through a pipe.

    The child first runs ``fn(warm_up)`` (a writable copy) as root: modules imported lazily (nltk, click's
    helpers) must be loaded before the drop, since the interpreter may live where ``nobody`` cannot read.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        try:
            fn(warm_up)
            os.setgid(65534)
            os.setuid(65534)
            result = {"ok": list(fn(index))}
        except BaseException:  # noqa: BLE001
            result = {"error": traceback.format_exc()}
        os.write(write_end, json.dumps(result).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        payload = json.loads(pipe.read() or '{"error": "no result"}')
    os.waitpid(pid, 0)
    assert "error" not in payload, payload
    return tuple(payload["ok"])


def test_a_read_only_index_searches_and_stats(readonly_copy: Path, index: Path) -> None:
    before = _snapshot(readonly_copy)
    if os.geteuid() == 0:
        got = _as_nobody(_search_read_only, readonly_copy, warm_up=index)
    else:
        got = _search_read_only(readonly_copy)
    assert got == (True, 10, N_DOCS, "hash:64", 0)
    assert _snapshot(readonly_copy) == before


def test_a_read_only_store_refuses_writes_clearly(index: Path) -> None:
    from blendsearch.backends.embedded import EmbeddedBackend

    with EmbeddedBackend(index, read_only=True) as backend:
        assert backend.count() == N_DOCS
        with pytest.raises(IndexError_, match="read-only"):
            backend.delete(["p0001"])


@pytest.mark.parametrize("damage", ["missing", "zero-byte"])
def test_missing_or_empty_store_is_an_error_not_a_new_index(index: Path, damage: str) -> None:
    store = index / "store.sqlite"
    if damage == "missing":
        store.unlink()
    else:
        store.write_bytes(b"")
    with pytest.raises(IndexCorruptError) as info:
        Engine.open(index)
    message = str(info.value)
    assert str(store) in message and REBUILD in message
    assert ("is missing" if damage == "missing" else "is empty (0 bytes)") in message
    assert not store.exists() or store.stat().st_size == 0  # nothing was created in its place
    cli = CliRunner().invoke(main, ["search", "red", "--index", str(index)])
    assert cli.exit_code == 1 and str(store) in cli.output


def test_a_replaced_store_is_an_error(index: Path, tmp_path: Path) -> None:
    other = _build(tmp_path / "other")
    shutil.copy(other / "store.sqlite", index / "store.sqlite")
    with pytest.raises(IndexCorruptError, match="not the store .* was built with"):
        Engine.open(index)


def _garble_a_btree_page(store: Path) -> int:
    """Overwrite the first 64 bytes of a b-tree page in the middle of the file; returns its page number."""
    data = bytearray(store.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    pages = len(data) // page_size
    btree = [n for n in range(2, pages + 1) if data[(n - 1) * page_size] in (2, 5, 10, 13)]
    page = btree[len(btree) // 2]
    start = (page - 1) * page_size
    data[start : start + 64] = b"\xa5" * 64
    store.write_bytes(bytes(data))
    return page


def test_a_garbled_page_is_found_by_a_forced_check(index: Path) -> None:
    assert not (index / "store.sqlite-wal").exists()  # closed cleanly: every page is in the main file
    page = _garble_a_btree_page(index / "store.sqlite")
    assert page > 1
    with pytest.raises(IndexCorruptError) as info:
        Engine.open(index, verify=True)
    message = str(info.value)
    assert "failed its integrity check" in message and str(index / "store.sqlite") in message
    assert REBUILD in message


def test_a_garbled_page_is_found_after_a_crash_without_asking(index: Path) -> None:
    _garble_a_btree_page(index / "store.sqlite")
    (index / LOCK_FILE).write_text("4242\n")  # a killed ingest's marker: pid inside, lock not held
    with pytest.raises(IndexCorruptError, match="failed its integrity check"):
        Engine.open(index)


def test_an_intact_store_passes_the_check(index: Path) -> None:
    with Engine.open(index, verify=True) as engine:
        assert engine.backend.integrity_checked is True  # type: ignore[attr-defined]
    with Engine.open(index) as engine:
        assert engine.backend.integrity_checked is False  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "is empty"), (b'{"format_version": 1, "conf', "is not valid JSON"), (b"[1, 2]", "JSON object")],
)
def test_an_empty_or_damaged_index_file_is_a_clear_error(index: Path, content: bytes, reason: str) -> None:
    file = index / INDEX_FILE
    file.write_bytes(content)
    with pytest.raises(IndexCorruptError) as info:
        Engine.open(index)
    assert str(file) in str(info.value) and reason in str(info.value) and REBUILD in str(info.value)
    for args in (["search", "red", "--index", str(index)], ["stats", "--index", str(index)]):
        cli = CliRunner().invoke(main, args)
        assert cli.exit_code == 1 and reason in cli.output and "Traceback" not in cli.output
    assert file.read_bytes() == content  # left as found, for inspection


def test_cli_ingest_reads_the_index_file_with_the_version_check(index: Path, tmp_path: Path) -> None:
    file = index / INDEX_FILE
    data = json.loads(file.read_text())
    data["format_version"] = 99
    file.write_text(json.dumps(data))
    cli = CliRunner().invoke(main, ["ingest", str(tmp_path / "catalog.jsonl"), "--index", str(index)])
    assert cli.exit_code == 1 and "format version 99" in cli.output
    with pytest.raises(IndexFormatError):
        Engine.stored_config(index)


def test_new_stores_use_wal_and_a_busy_timeout(index: Path) -> None:
    from blendsearch.backends.embedded import store

    conn = store.connect(index / "store.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == int(store.BUSY_TIMEOUT_S * 1000)
    conn.close()
    with sqlite3.connect(index / "store.sqlite") as db:
        meta = dict(db.execute("SELECT key, value FROM meta WHERE key LIKE 'model_%'"))
    assert meta == {"model_fingerprint": "hash:64", "model_dim": "64"}
