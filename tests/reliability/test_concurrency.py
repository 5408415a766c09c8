"""Many processes on one index: searches during an ingest, two creators of a fresh index, two ingests.

Each process is forked (``multiprocessing`` "fork"), so the tests cost no interpreter start-up; counts
come back through queues and every failure is kept with its message.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

from blendsearch.config import EngineConfig, FieldMapping
from blendsearch.engine import Engine
from blendsearch.exceptions import IndexBusyError

CTX = mp.get_context("fork")
SEARCHERS = 8
CREATOR_TRIALS = 10
TIMEOUT_S = 60.0


def _config(batch_size: int = 20) -> EngineConfig:
    config = EngineConfig(fields=FieldMapping(numeric=["price"]))
    config.encoder.model = "hash:64"
    config.ingest.batch_size = batch_size
    config.enrichment.tags = False
    return config


def _catalog(path: Path, n: int, start: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(start, start + n):
            colour = ("red", "blue", "green")[i % 3]
            row = {"id": f"p{i:05d}", "title": f"{colour} cotton dress {i}", "price": i % 50}
            out.write(json.dumps(row) + "\n")
    return path


def _run(queue: Any, fn: Any, *args: Any) -> None:
    """Child entry: put ("ok", result) or ("error", message) on the queue, whatever happens."""
    try:
        queue.put(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001
        queue.put(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def _collect(queue: Any, count: int) -> list[tuple[str, Any]]:
    return [queue.get(timeout=TIMEOUT_S) for _ in range(count)]


def _join(processes: list[Any]) -> None:
    for process in processes:
        process.join(TIMEOUT_S)
        assert process.exitcode == 0, f"{process.name} exit code {process.exitcode}"


# -- searches while an ingest commits ---------------------------------------------------------------------


def _ingest(index: Path, catalog: Path, config: EngineConfig, progress: Any = None) -> dict[str, int]:
    with Engine.open(index, config) as engine:
        summary = engine.ingest(catalog, progress=progress)
    return {"read": summary.read, "written": summary.written, "unchanged": summary.unchanged}


def _ingest_among_searches(index: Path, catalog: Path, started: Any, searched: Any) -> dict[str, int]:
    """Ingest; after the first commit let the searchers go, and half-way hold until each searched twice
    (so searches provably overlap the ingest, whatever the machine's speed)."""
    batches = [0]

    def report(_: Any) -> None:
        batches[0] += 1
        started.set()
        if batches[0] == 20:
            deadline = time.monotonic() + TIMEOUT_S
            while searched.value < 2 * SEARCHERS and time.monotonic() < deadline:
                time.sleep(0.01)

    return _ingest(index, catalog, _config(batch_size=20), report)


def _search_until(index: Path, started: Any, done: Any, searched: Any, min_rounds: int) -> dict[str, Any]:
    """Once the ingest has started: open, search, close, again and again until it is done."""
    started.wait(TIMEOUT_S)
    ok, failures, during, zero_hits, rounds = 0, [], 0, 0, 0
    while rounds < min_rounds or not done.is_set():
        try:
            with Engine.open(index) as engine:
                hits = engine.search("red dress").hits
            ok += 1
            zero_hits += not hits
        except Exception as exc:  # noqa: BLE001 - counted and reported, never raised
            failures.append(f"{type(exc).__name__}: {exc}")
        if not done.is_set():
            during += 1
            with searched.get_lock():
                searched.value += 1
        rounds += 1
    return {"ok": ok, "failures": failures, "during_ingest": during, "zero_hits": zero_hits}


def test_eight_searching_processes_during_an_ingest_never_fail(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    assert _ingest(index, _catalog(tmp_path / "first.jsonl", 60), _config())["written"] == 60
    more = _catalog(tmp_path / "more.jsonl", 800, start=60)
    queue, started, done, searched = CTX.Queue(), CTX.Event(), CTX.Event(), CTX.Value("i", 0)
    searchers = [
        CTX.Process(target=_run, args=(queue, _search_until, index, started, done, searched, 5))
        for _ in range(SEARCHERS)
    ]
    for process in searchers:
        process.start()
    ingest_queue = CTX.Queue()
    ingester = CTX.Process(
        target=_run, args=(ingest_queue, _ingest_among_searches, index, more, started, searched)
    )
    ingester.start()
    status, ingest_result = ingest_queue.get(timeout=TIMEOUT_S)
    done.set()
    results = _collect(queue, SEARCHERS)
    _join([ingester, *searchers])

    assert status == "ok", ingest_result
    assert ingest_result == {"read": 800, "written": 800, "unchanged": 0}
    assert [s for s, _ in results] == ["ok"] * SEARCHERS, results
    failures = [f for _, r in results for f in r["failures"]]
    searches = sum(r["ok"] for _, r in results) + len(failures)
    during = sum(r["during_ingest"] for _, r in results)
    print(f"concurrent searches: {len(failures)} failures of {searches} ({during} while the ingest ran)")
    assert failures == []
    assert searches >= SEARCHERS * 5 and during >= 2 * SEARCHERS
    assert sum(r["zero_hits"] for _, r in results) == 0  # every search saw the committed documents
    with Engine.open(index) as engine:
        assert engine.stats().documents == 860


# -- two creators of one fresh index ----------------------------------------------------------------------


def _create_and_ingest(index: Path, catalog: Path, barrier: Any) -> dict[str, int]:
    barrier.wait(TIMEOUT_S)
    return _ingest(index, catalog, _config(batch_size=10))


def test_two_concurrent_creators_of_a_fresh_index(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path / "catalog.jsonl", 30)
    failures: list[str] = []
    for trial in range(CREATOR_TRIALS):
        index = tmp_path / f"idx-{trial}"
        queue, barrier = CTX.Queue(), CTX.Barrier(2)
        args = (queue, _create_and_ingest, index, catalog, barrier)
        processes = [CTX.Process(target=_run, args=args) for _ in range(2)]
        for process in processes:
            process.start()
        results = _collect(queue, 2)
        _join(processes)
        failures.extend(str(r) for s, r in results if s != "ok")
        if all(s == "ok" for s, _ in results):
            # The second waited for the first, then found every item unchanged: nothing done twice.
            assert sorted(r["written"] for _, r in results) == [0, 30], results
        with Engine.open(index) as engine:
            stats = engine.stats()
            assert (stats.documents, stats.model_fingerprint) == (30, "hash:64")
    print(f"creator race: {len(failures)} failures in {CREATOR_TRIALS} trials")
    assert failures == []


# -- two ingests into one index ---------------------------------------------------------------------------


class _SetOnMessage(logging.Handler):
    def __init__(self, needle: str, event: Any) -> None:
        super().__init__()
        self.needle, self.event = needle, event

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.event.set()


def _first_ingest(index: Path, catalog: Path, paused: Any, resume: Any) -> dict[str, int]:
    """Ingest, holding still after the first batch until told to go on (the second one is then waiting)."""

    def hold(progress: Any) -> None:
        if not paused.is_set():
            paused.set()
            resume.wait(TIMEOUT_S)

    with Engine.open(index, _config(batch_size=10)) as engine:
        summary = engine.ingest(catalog, progress=hold)
    return {"written": summary.written, "unchanged": summary.unchanged, "pid": os.getpid()}


def _second_ingest(index: Path, catalog: Path, waiting: Any, wait: bool) -> dict[str, Any]:
    logging.getLogger("blendsearch").addHandler(_SetOnMessage("another ingest", waiting))
    with Engine.open(index, _config(batch_size=10)) as engine:
        summary = engine.ingest(catalog, wait=wait)
    return {"written": summary.written, "unchanged": summary.unchanged, "notices": summary.notices}


def test_a_second_ingest_waits_for_the_first_and_does_no_work_twice(tmp_path: Path) -> None:
    index, catalog = tmp_path / "idx", _catalog(tmp_path / "catalog.jsonl", 40)
    first_q, second_q = CTX.Queue(), CTX.Queue()
    paused, resume, waiting = CTX.Event(), CTX.Event(), CTX.Event()
    first = CTX.Process(target=_run, args=(first_q, _first_ingest, index, catalog, paused, resume))
    first.start()
    assert paused.wait(TIMEOUT_S)  # the first holds the lock, one batch committed
    second = CTX.Process(target=_run, args=(second_q, _second_ingest, index, catalog, waiting, True))
    second.start()
    assert waiting.wait(TIMEOUT_S)  # the second said it waits
    resume.set()
    (s1, r1), (s2, r2) = first_q.get(timeout=TIMEOUT_S), second_q.get(timeout=TIMEOUT_S)
    _join([first, second])
    assert (s1, s2) == ("ok", "ok"), (r1, r2)
    assert (r1["written"], r1["unchanged"]) == (40, 0)
    assert (r2["written"], r2["unchanged"]) == (0, 40)
    assert any(f"another ingest (pid {r1['pid']}) is running" in n for n in r2["notices"])
    with Engine.open(index) as engine:
        assert engine.stats().documents == 40


def test_a_second_ingest_told_not_to_wait_fails_fast_saying_why(tmp_path: Path) -> None:
    index, catalog = tmp_path / "idx", _catalog(tmp_path / "catalog.jsonl", 30)
    first_q = CTX.Queue()
    paused, resume = CTX.Event(), CTX.Event()
    first = CTX.Process(target=_run, args=(first_q, _first_ingest, index, catalog, paused, resume))
    first.start()
    try:
        assert paused.wait(TIMEOUT_S)
        with Engine.open(index) as engine, pytest.raises(IndexBusyError) as info:
            engine.ingest(catalog, wait=False)
        assert f"another ingest (pid {first.pid}) is running into {index}" in str(info.value)
    finally:
        resume.set()
    status, result = first_q.get(timeout=TIMEOUT_S)
    _join([first])
    assert status == "ok" and result["written"] == 30, result
