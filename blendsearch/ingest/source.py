"""What an ingest reads, read as few times as it can be (issue 10).

A catalogue file is read once for the ingest itself. It is read once more, before that, only when zero-shot
tags need the catalogue's own values to build their vocabulary (the first batch is enriched with it), and
that pass also counts the rows for the progress total. Otherwise the total is counted (``count_rows``)
only when someone shows progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blendsearch._types import PathInput
from blendsearch.config import EngineConfig
from blendsearch.documents import Document
from blendsearch.ingest.images import ImageSource
from blendsearch.ingest.readers import RawItem, count_rows, read_catalog

__all__ = ["IngestSource", "items_from_documents", "open_source"]


@dataclass
class IngestSource:
    """The items to ingest and what goes with them."""

    items: Iterator[Any]
    image_source: ImageSource
    tag_vocabulary: list[str]
    #: Rows in the catalogue, for progress reports; None when not wanted or not known.
    total: int | None


def open_source(
    source: PathInput | Iterable[Document], config: EngineConfig, *, want_total: bool
) -> IngestSource:
    """Open a catalogue file (JSONL, CSV, Parquet) or adapt Documents for :func:`.pipeline.ingest_items`.

    ``want_total``: count the rows for progress reports (a pass of its own unless the tag pass counts them).
    """
    if not isinstance(source, (str, Path)):
        image_source = ImageSource(config.fields.image_root, config.ingest)
        return IngestSource(items_from_documents(source), image_source, _configured_tags(config) or [], None)
    catalog = Path(source)
    items = read_catalog(catalog, config.fields)  # opens the file: a bad path or format raises here
    image_source = ImageSource.for_catalog(catalog, config.fields, config.ingest)
    tags = _configured_tags(config)
    total: int | None = None
    if tags is None:
        tags, total = _tags_from_catalog(catalog, config)
    elif want_total:
        total = count_rows(catalog)
    return IngestSource(items, image_source, tags, total if want_total else None)


def items_from_documents(documents: Iterable[Document]) -> Iterator[Any]:
    """Adapt already-mapped Documents to the reader's item shape (position, raw, document, error)."""
    for position, doc in enumerate(documents, start=1):
        yield RawItem(position=position, raw=doc.model_dump(mode="json"), document=doc, error=None)


def _configured_tags(config: EngineConfig) -> list[str] | None:
    """The tag vocabulary when the config decides it alone; None when the catalogue's values are needed."""
    settings = config.enrichment
    if not settings.tags:
        return []
    if settings.tag_vocabulary is not None:
        return list(settings.tag_vocabulary)
    return None if settings.tag_fields else []


def _tags_from_catalog(catalog: Path, config: EngineConfig) -> tuple[list[str], int]:
    """The tag vocabulary built from the catalogue's ``tag_fields`` values, and the rows read (the total)."""
    from blendsearch.enrichment.tags import default_tag_vocabulary

    fields = config.enrichment.tag_fields or []
    values: dict[str, list[str]] = {f: [] for f in fields}
    rows = 0
    for item in read_catalog(catalog, config.fields):
        rows += 1
        if item.document is not None:
            for field in fields:
                value = item.document.attributes.get(field)
                if isinstance(value, str):
                    values[field].append(value)
    return default_tag_vocabulary(values), rows
