"""The vocabulary has one cache, the backend's, with one rule: it lasts while the backend's write
generation stays the same (issue 10). The engine's expander is rebuilt on the same rule, so a write
through another Engine (another process, a CLI ingest beside ``blendsearch serve``) reaches typo correction
without any refresh, and a write through the same engine rebuilds it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import blendsearch.backends.embedded.backend as embedded_module
import blendsearch.expansion as expansion_module
from blendsearch.backends.memory import MemoryBackend
from blendsearch.config import EngineConfig
from blendsearch.documents import Document
from blendsearch.engine import Engine

CONFIG = EngineConfig()  # the default lexical engine (tantivy), which follows another backend's writes too


def test_a_write_through_another_engine_reaches_typo_correction(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "idx", CONFIG) as writer:
        writer.ingest([Document(id="1", title="Navy trousers")])
        with Engine.open(tmp_path / "idx") as reader:
            assert reader.search("zebraa").expanded == [("zebraa", 1.0)]  # nothing to correct to yet
            writer.ingest([Document(id="2", title="Zebra print dress")])
            assert reader.vocabulary()["zebra"] == 1
            result = reader.search("zebraa")
            assert result.expanded == [("zebra", 1.0)]
            assert [h.id for h in result.hits] == ["2"]
            reader.refresh()  # what ``blendsearch serve`` calls on a change: harmless, nothing stale
            assert reader.search("zebraa").expanded == [("zebra", 1.0)]


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts vocabulary reads from SQLite and Expander constructions."""
    counts = {"read": 0, "expander": 0}
    read, expander = embedded_module.inventory.vocabulary, expansion_module.Expander

    def counting_read(*args: Any) -> Any:
        counts["read"] += 1
        return read(*args)

    def counting_expander(*args: Any) -> Any:
        counts["expander"] += 1
        return expander(*args)

    monkeypatch.setattr(embedded_module.inventory, "vocabulary", counting_read)
    monkeypatch.setattr(expansion_module, "Expander", counting_expander)
    return counts


def test_a_write_through_the_same_engine_invalidates_once(tmp_path: Path, builds: dict[str, int]) -> None:
    with Engine.open(tmp_path / "idx", CONFIG) as engine:
        engine.ingest([Document(id="1", title="Navy trousers")])
        for _ in range(3):
            engine.search("navvy")
        assert engine.vocabulary() == {"navy": 1, "trousers": 1}
        assert builds == {"read": 1, "expander": 1}
        engine.ingest([Document(id="2", title="Zebra print dress")])
        assert [engine.search("zebraa").expanded for _ in range(3)] == [[("zebra", 1.0)]] * 3
        assert len(engine.vocabulary()) == 5
        assert builds == {"read": 2, "expander": 2}
        engine.delete(["2"])
        assert engine.search("zebraa").expanded == [("zebraa", 1.0)]
        assert builds == {"read": 3, "expander": 3}


def test_memory_backend_follows_the_same_rule(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "idx", backend=MemoryBackend()) as engine:
        engine.ingest([Document(id="1", title="Navy trousers")])
        assert engine.search("zebraa").expanded == [("zebraa", 1.0)]
        before = engine.backend.write_generation()
        engine.ingest([Document(id="2", title="Zebra print dress")])
        assert engine.backend.write_generation() != before
        assert engine.search("zebraa").expanded == [("zebra", 1.0)]
