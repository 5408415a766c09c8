"""Writes through one backend reach the tantivy searches of every other one on the same index (issues 9,
11), with the default lexical engine: after an ingest/delete/flush returns at once, during an ingest as a
prefix lagging by at most ``COMMIT_INTERVAL``, and after a writer killed with uncommitted tantivy writes
at the reader's next search or open (rebuilt from SQLite, the durable record).

Writers run in forked processes (no interpreter start-up); results come back through queues.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

import blendsearch.backends.embedded.backend as backend_module
import blendsearch.backends.embedded.lexical as lexical_module
from blendsearch.backends.base import LexicalRequest, QueryClause
from blendsearch.backends.embedded import EmbeddedBackend
from blendsearch.config import EngineConfig
from blendsearch.documents import Document, StoredDocument
from blendsearch.engine import Engine

pytest.importorskip("tantivy", reason="the tantivy lexical index is what these tests are about")

CTX = mp.get_context("fork")
TIMEOUT_S = 60.0


def _found(backend: Any, word: str) -> list[str]:
    """The ids the lexical channel finds for ``word`` (titles only), sorted."""
    request = LexicalRequest(channel="bm25", clauses=[QueryClause(text=word)], fields={"title": 1.0}, k=1000)
    return sorted(backend.search_lexical(request).ids)


def _run(queue: Any, fn: Any, *args: Any) -> None:
    try:
        queue.put(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        queue.put(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def test_a_write_through_one_engine_is_found_by_another(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "idx") as writer, Engine.open(tmp_path / "idx") as reader:
        assert reader.config.search.lexical == "auto"
        writer.ingest([Document(id="1", title="Navy trousers")])
        assert [h.id for h in reader.search("navy").hits] == ["1"]
        writer.ingest([Document(id="2", title="Zebra print dress")])
        assert reader.backend.count() == 2
        assert [h.id for h in reader.search("zebra").hits] == ["2"]
        assert writer.delete(["2"]) == 1
        assert reader.search("zebra").hits == []


def test_flush_and_the_commit_timer_publish_a_bare_upsert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lexical_module, "COMMIT_INTERVAL", 3600.0)  # writes stay pending...
    monkeypatch.setattr(backend_module, "COMMIT_INTERVAL", 3600.0)  # ...and the timer out of the way
    with EmbeddedBackend(tmp_path) as writer, EmbeddedBackend(tmp_path) as reader:
        writer.upsert([StoredDocument(id="a", title="zebra one")])  # the first write commits at once
        assert _found(reader, "zebra") == ["a"]
        writer.upsert([StoredDocument(id="b", title="zebra two")])  # within the interval: pending
        assert _found(reader, "zebra") == ["a"]  # the prefix committed: the writer holds the rest
        writer.flush()
        assert _found(reader, "zebra") == ["a", "b"]
        monkeypatch.setattr(backend_module, "COMMIT_INTERVAL", 0.01)
        writer.upsert([StoredDocument(id="c", title="zebra three")])
        timer = writer._commit_timer
        assert timer is not None
        timer.join(TIMEOUT_S)  # nobody flushes: the timer commits
        assert _found(reader, "zebra") == ["a", "b", "c"]


def _catalog(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(json.dumps({"id": f"p{i:04d}", "title": f"zebra dress {i}"}) + "\n")
    return path


def _paused_ingest(index: Path, catalog: Path, paused: Any, resume: Any) -> int:
    """Ingest in batches of 20, stopping after the second batch until the parent says go on."""
    config = EngineConfig()
    config.ingest.batch_size = 20
    config.enrichment.tags = False

    def hold(progress: Any) -> None:
        if progress.indexed == 40:
            paused.set()
            assert resume.wait(TIMEOUT_S)

    with Engine.open(index, config) as engine:
        return engine.ingest(catalog, progress=hold).written


def test_a_reader_sees_a_growing_prefix_during_an_ingest_and_everything_after(tmp_path: Path) -> None:
    index, catalog = tmp_path / "idx", _catalog(tmp_path / "c.jsonl", 100)
    with Engine.open(index) as engine:
        engine.ingest([Document(id="seed", title="navy")])  # the index exists before the reader opens
    ids = [f"p{i:04d}" for i in range(100)]
    queue, paused, resume = CTX.Queue(), CTX.Event(), CTX.Event()
    child = CTX.Process(target=_run, args=(queue, _paused_ingest, index, catalog, paused, resume))
    child.start()
    try:
        with EmbeddedBackend(index) as reader:
            assert paused.wait(TIMEOUT_S)
            seen = _found(reader, "zebra")
            assert seen == ids[: len(seen)]  # a prefix, in catalogue order
            deadline = time.monotonic() + TIMEOUT_S  # the writer's timer commits within COMMIT_INTERVAL
            while seen != ids[:40] and time.monotonic() < deadline:
                time.sleep(0.05)
                seen = _found(reader, "zebra")
                assert seen == ids[: len(seen)]
            assert seen == ids[:40]
            resume.set()
            assert queue.get(timeout=TIMEOUT_S) == ("ok", 100)
            child.join(TIMEOUT_S)
            assert _found(reader, "zebra") == ids  # the ingest returned: all of it, no waiting
    finally:
        resume.set()
        child.join(TIMEOUT_S)
    assert child.exitcode == 0


def _killed_writer(index: Path, written: Any) -> None:
    """Commit "a" everywhere, then "b" to SQLite only (tantivy writer left open), then die."""
    lexical_module.COMMIT_INTERVAL = 3600.0
    backend_module.COMMIT_INTERVAL = 3600.0
    backend = EmbeddedBackend(index)
    backend.upsert([StoredDocument(id="a", title="zebra one")])
    backend.upsert([StoredDocument(id="b", title="zebra two")])
    assert backend._tantivy and backend._tantivy.pending
    written.set()
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_writer_leaves_nothing_unfindable(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    EmbeddedBackend(index).close()
    with EmbeddedBackend(index) as reader:
        written = CTX.Event()
        child = CTX.Process(target=_killed_writer, args=(index, written))
        child.start()
        assert written.wait(TIMEOUT_S)
        child.join(TIMEOUT_S)
        assert child.exitcode == -signal.SIGKILL
        assert reader.count() == 2
        assert _found(reader, "zebra") == ["a", "b"]  # its next search rebuilds from SQLite
    with EmbeddedBackend(index) as reopened:
        assert _found(reopened, "zebra") == ["a", "b"]


def test_a_reader_opened_after_a_killed_writer_finds_everything(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    written = CTX.Event()
    child = CTX.Process(target=_killed_writer, args=(index, written))
    child.start()
    assert written.wait(TIMEOUT_S)
    child.join(TIMEOUT_S)
    with EmbeddedBackend(index) as reader:
        assert _found(reader, "zebra") == ["a", "b"]
