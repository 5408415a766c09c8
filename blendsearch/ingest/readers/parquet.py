"""Parquet rows, read in record batches by row group (pyarrow, imported on use)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from blendsearch.exceptions import CatalogError
from blendsearch.ingest.readers.rows import MAX_NESTING, Row, too_deep

__all__ = ["count_parquet", "parquet_rows"]

_PARQUET_BATCH_ROWS = 1024


def parquet_rows(path: Path) -> Iterator[Row]:
    """Parquet rows by row group: a group that cannot be read rejects its own rows and no others."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from exc
    position = 0
    try:
        for group in range(parquet.num_row_groups):
            expected = parquet.metadata.row_group(group).num_rows
            done = 0
            try:
                for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS, row_groups=[group]):
                    for row, error in _batch_rows(batch):
                        position += 1
                        done += 1
                        if error is None and too_deep(row):
                            yield Row(
                                position, {}, f"nested more than {MAX_NESTING} levels deep", parsed=False
                            )
                        else:
                            yield Row(position, row, error)
            except (pa.ArrowException, OSError) as exc:
                for _ in range(expected - done):
                    position += 1
                    reason = (
                        f"Parquet row group {group + 1} of {parquet.num_row_groups} cannot be read: {exc}"
                    )
                    yield Row(position, {}, reason, parsed=False)
    finally:
        parquet.close()


def _batch_rows(batch: Any) -> Iterator[tuple[dict[str, Any], str | None]]:
    """A record batch's rows as dicts; where converting fails, row by row, naming the column."""
    try:
        rows = batch.to_pylist()
    except Exception:  # noqa: BLE001 - pyarrow raises several kinds for values Python cannot hold
        rows = None
    if rows is not None:
        yield from ((row, None) for row in rows)
        return
    names = batch.schema.names
    for index in range(batch.num_rows):
        row: dict[str, Any] = {}
        error: str | None = None
        for name, column in zip(names, batch.columns, strict=True):
            try:
                row[name] = column[index].as_py()
            except Exception as exc:  # noqa: BLE001
                row[name] = None
                error = error or f"{name}: value cannot be read: {type(exc).__name__}: {exc}"
        yield row, error


def count_parquet(file: Path) -> int:
    """Rows by the file's metadata, for progress totals."""
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(file).metadata.num_rows)
