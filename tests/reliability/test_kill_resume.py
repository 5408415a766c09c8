"""kill -9 an ingest at several points, then run it again: the fingerprint is there, the counts are right.

The ingest runs in a forked child that sends itself SIGKILL at the chosen point (no timing involved):
after the first batch committed, in the middle of a batch's transaction, and after the last commit but
before ``blendsearch.json`` is brought up to date.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from pinned_settings import FOUR_CHANNEL_WEIGHTS

from blendsearch.config import EngineConfig, FieldMapping
from blendsearch.engine import INDEX_FILE, Engine
from blendsearch.index_state import LOCK_FILE
from blendsearch.query.models import HybridQuery

CTX = mp.get_context("fork")
N_DOCS = 50
BATCH = 10


def _config() -> EngineConfig:
    config = EngineConfig(fields=FieldMapping(numeric=["price"]))
    config.encoder.model = "hash:64"
    config.ingest.batch_size = BATCH
    config.enrichment.tags = False
    return config


def _catalog(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(N_DOCS):
            colour = ("red", "blue", "green")[i % 3]
            row = {"id": f"p{i:03d}", "title": f"{colour} cotton dress {i}", "price": i}
            out.write(json.dumps(row) + "\n")
    return path


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _killed_ingest(index: Path, catalog: Path, point: str) -> None:
    """Child: ingest and SIGKILL itself at ``point``."""
    import blendsearch.engine as engine_module
    from blendsearch.backends.embedded import store

    progress = None
    if point == "after-first-commit":
        progress = lambda _: _die()  # noqa: E731 - the first progress report follows the first commit
    elif point == "mid-batch":
        real_rows, calls = store.attribute_rows, [0]

        def rows(*args: Any) -> Any:  # called inside the upsert transaction, once per document
            calls[0] += 1
            if calls[0] == BATCH + 5:  # half-way through the second batch
                _die()
            return real_rows(*args)

        store.attribute_rows = rows
    elif point == "after-last-commit":
        real_ingest = engine_module.ingest_items

        def ingest_then_die(*args: Any, **kwargs: Any) -> Any:
            real_ingest(*args, **kwargs)
            _die()

        engine_module.ingest_items = ingest_then_die
    with Engine.open(index, _config()) as engine:
        engine.ingest(catalog, progress=progress)
    os._exit(3)  # not killed: the point was never reached


@pytest.mark.parametrize(
    ("point", "committed"),
    [("after-first-commit", BATCH), ("mid-batch", BATCH), ("after-last-commit", N_DOCS)],
)
def test_killed_ingest_resumes_with_fingerprint_and_counts(
    tmp_path: Path, point: str, committed: int
) -> None:
    index, catalog = tmp_path / "idx", _catalog(tmp_path / "catalog.jsonl")
    child = CTX.Process(target=_killed_ingest, args=(index, catalog, point))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL

    assert (index / LOCK_FILE).read_text().strip() != ""  # the crash marker stays behind
    with Engine.open(index) as engine:  # the crash is noticed, the store checked; vectors keep their model
        assert engine.backend.integrity_checked is True  # type: ignore[attr-defined]
        assert any("did not finish" in n for n in engine.notices)
        stats = engine.stats()
        assert (stats.documents, stats.model_fingerprint, stats.dim) == (committed, "hash:64", 64)
        # vector_text weighted explicitly (the defaults weight it 0): the text vectors are searched
        query = HybridQuery(text="red dress", weights=FOUR_CHANNEL_WEIGHTS)
        assert "vector_text" in engine.search(query).channels

    with Engine.open(index, _config()) as engine:
        summary = engine.ingest(catalog)
        stats = engine.stats()
    assert (summary.read, summary.indexed, summary.rejected) == (N_DOCS, N_DOCS, 0)
    assert (summary.written, summary.unchanged) == (N_DOCS - committed, committed)
    assert (stats.documents, stats.model_fingerprint, stats.dim) == (N_DOCS, "hash:64", 64)
    mirror = json.loads((index / INDEX_FILE).read_text())
    assert (mirror["model_fingerprint"], mirror["dim"]) == ("hash:64", 64)
    assert (index / LOCK_FILE).read_text() == ""  # a clean finish clears the marker
    with Engine.open(index) as engine:
        assert engine.backend.integrity_checked is False  # type: ignore[attr-defined]
        assert engine.notices == [] or all("did not finish" not in n for n in engine.notices)
