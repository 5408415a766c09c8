"""An ingest reads the catalogue at most twice, and counts its rows only when progress is shown (issue 10).

The second read happens only when zero-shot tags build their vocabulary from the catalogue's own values
(``tag_fields``, no ``tag_vocabulary``): the first batch is enriched with it, so it must come first. That
read also counts the rows for the progress total, so ``count_rows`` runs only without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import blendsearch.engine as engine_module
import blendsearch.ingest.source as source_module
from blendsearch.backends.memory import MemoryBackend
from blendsearch.config import EngineConfig, EnrichmentSettings
from blendsearch.engine import Engine
from blendsearch.ingest.pipeline import IngestProgress

ROWS = 24  # examples/shop/catalog.jsonl
Progress = Callable[[IngestProgress], None] | None


@dataclass
class Passes:
    """Full catalogue reads, row counts, and what the pipeline was given."""

    read: int = 0
    count: int = 0
    given: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> Passes:
    seen = Passes()
    read, count = source_module.read_catalog, source_module.count_rows
    ingest_items = engine_module.ingest_items

    def counting_read(*args: Any, **kwargs: Any) -> Any:
        seen.read += 1
        return read(*args, **kwargs)

    def counting_count(*args: Any, **kwargs: Any) -> Any:
        seen.count += 1
        return count(*args, **kwargs)

    def recording_ingest(*args: Any, **kwargs: Any) -> Any:
        seen.given.update(tags=kwargs["tag_vocabulary"], total=kwargs["total"])
        return ingest_items(*args, **kwargs)

    monkeypatch.setattr(source_module, "read_catalog", counting_read)
    monkeypatch.setattr(source_module, "count_rows", counting_count)
    monkeypatch.setattr(engine_module, "ingest_items", recording_ingest)
    return seen


def _ingest(index: Path, catalog: Path, enrichment: EnrichmentSettings, progress: Progress) -> int:
    config = EngineConfig(enrichment=enrichment)
    with Engine.open(index, config, backend=MemoryBackend()) as engine:
        return engine.ingest(catalog, progress=progress).indexed


def test_tags_off_without_progress_reads_once_and_counts_nothing(
    tmp_path: Path, shop: Path, passes: Passes
) -> None:
    assert _ingest(tmp_path / "idx", shop / "catalog.jsonl", EnrichmentSettings(tags=False), None) == ROWS
    assert (passes.read, passes.count) == (1, 0)
    assert passes.given == {"tags": [], "total": None}


def test_progress_counts_the_rows_once_for_the_total(tmp_path: Path, shop: Path, passes: Passes) -> None:
    reports: list[IngestProgress] = []
    enrichment = EnrichmentSettings(tags=False)
    assert _ingest(tmp_path / "idx", shop / "catalog.jsonl", enrichment, reports.append) == ROWS
    assert (passes.read, passes.count) == (1, 1)
    assert reports and {r.total for r in reports} == {ROWS}
    assert passes.given["total"] == ROWS


def test_given_tag_vocabulary_needs_no_extra_read(tmp_path: Path, shop: Path, passes: Passes) -> None:
    enrichment = EnrichmentSettings(tag_vocabulary=["Shoes", "Tops"], tag_fields=["articleType"])
    assert _ingest(tmp_path / "idx", shop / "catalog.jsonl", enrichment, None) == ROWS
    assert (passes.read, passes.count) == (1, 0)
    assert passes.given["tags"] == ["Shoes", "Tops"]


def test_tag_fields_read_twice_and_that_pass_gives_the_total(
    tmp_path: Path, shop: Path, passes: Passes
) -> None:
    reports: list[IngestProgress] = []
    enrichment = EnrichmentSettings(tag_fields=["articleType"])
    assert _ingest(tmp_path / "idx", shop / "catalog.jsonl", enrichment, reports.append) == ROWS
    assert (passes.read, passes.count) == (2, 0)  # the tag pass counted the rows: no third pass
    assert {r.total for r in reports} == {ROWS}
    tags = passes.given["tags"]
    assert "Tshirts" in tags and len(tags) == len(set(tags))
