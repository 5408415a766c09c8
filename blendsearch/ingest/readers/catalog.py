"""A catalogue file as :class:`~blendsearch.ingest.readers.rows.RawItem` s: the format's reader chosen by
suffix, each row mapped (or rejected with its reason); and the row count for progress totals.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from blendsearch._types import PathInput
from blendsearch.config import FieldMapping
from blendsearch.exceptions import CatalogError, ItemError
from blendsearch.ingest.readers.delimited import count_csv, csv_rows
from blendsearch.ingest.readers.jsonl import count_jsonl, jsonl_rows
from blendsearch.ingest.readers.parquet import count_parquet, parquet_rows
from blendsearch.ingest.readers.record import map_record
from blendsearch.ingest.readers.rows import RawItem, Row, catalog_format, check_readable

__all__ = ["count_rows", "default_image_template", "read_catalog"]

_READERS = {"jsonl": jsonl_rows, "csv": csv_rows, "parquet": parquet_rows}


def default_image_template(path: PathInput, mapping: FieldMapping) -> str | None:
    """The image reference of a row without one, by the files beside the catalogue (module docstring)."""
    if mapping.image_root:
        return "{id}.jpg"
    folder = Path(path).parent
    if (folder / "images.zip").is_file():
        return "{id}.jpg"
    if (folder / "images").is_dir():
        return "images/{id}.jpg"
    return None


def read_catalog(path: PathInput, mapping: FieldMapping) -> Iterator[RawItem]:
    """Stream a catalogue file as :class:`RawItem` s, one per row, bad rows included (with ``error``).

    The file is opened (and a bad path or format raises :class:`CatalogError`) when this is called,
    not at the first ``next``.
    """
    file = Path(path)
    kind = catalog_format(file)
    check_readable(file)
    template = default_image_template(file, mapping)
    rows = _READERS[kind](file)
    return _items(file, rows, mapping, template)


def _items(file: Path, rows: Iterator[Row], mapping: FieldMapping, template: str | None) -> Iterator[RawItem]:
    position = 0
    try:
        for row in rows:
            position = row.position
            where = {"line": row.line, "offset": row.offset, "parsed": row.parsed}
            if row.error is not None:
                yield RawItem(position=row.position, raw=row.raw, error=row.error, **where)
                continue
            try:
                document = map_record(row.raw, mapping, template)
            except ItemError as exc:
                yield RawItem(position=row.position, raw=row.raw, error=str(exc), **where)
            else:
                yield RawItem(position=row.position, raw=row.raw, document=document, **where)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        # A truncated or damaged .gz: what was read stands, and the unreadable rest is one reject.
        reason = f"the rest of the compressed file cannot be read: {exc}"
        yield RawItem(position=position + 1, raw={}, error=reason, parsed=False)
    except OSError as exc:
        raise CatalogError(f"cannot read {file}: {exc}") from exc


def count_rows(path: PathInput) -> int | None:
    """The number of rows, for progress totals: exact for Parquet (metadata) and CSV, non-blank lines for
    JSON Lines; None where it cannot be told cheaply (unreadable file, JSON array, unknown format)."""
    file = Path(path)
    try:
        kind = catalog_format(file)
        if kind == "parquet":
            return count_parquet(file)
        if kind == "csv":
            return count_csv(file)
        return count_jsonl(file)
    except Exception:  # noqa: BLE001 - unreadable, bad format, pyarrow errors: a progress total is optional
        return None
