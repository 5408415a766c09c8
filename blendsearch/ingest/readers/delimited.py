"""CSV/TSV rows: a header row, then one row per record; each physical line is decoded on its own."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from blendsearch.exceptions import CatalogError
from blendsearch.ingest.readers.rows import (
    MAX_ROW_BYTES,
    Row,
    not_utf8,
    open_binary,
    open_text,
    physical_lines,
    suffixes,
)

__all__ = ["count_csv", "csv_rows"]

#: CSV cell texts that mean "no value" (pandas writes NaN for missing numbers).
_CSV_MISSING = frozenset({"", "nan", "NaN", "NAN", "null", "NULL"})


_SURROGATE = re.compile("[\udc80-\udcff]")


def raise_csv_field_limit() -> None:
    """The csv module's default (128 KiB) would reject long descriptions; raising this process-wide
    limit to :data:`MAX_ROW_BYTES` is benign."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_ROW_BYTES))


def csv_rows(path: Path) -> Iterator[Row]:
    """CSV/TSV rows; each physical line is decoded on its own, so a bad byte rejects only its row."""
    suffix, _ = suffixes(path)
    delimiter = "\t" if suffix == ".tsv" else ","
    raise_csv_field_limit()
    consumed: list[tuple[int, int, str, bool]] = []  # the physical lines of the row being parsed

    def lines(handle: BinaryIO) -> Iterator[str]:
        for number, start, content, end, too_large in physical_lines(handle):
            text = content.decode("utf-8", "surrogateescape")
            consumed.append((number, start, text, too_large))
            yield text + end.decode()  # the csv module keeps a quoted line break as it was written

    with open_binary(path) as handle:
        reader = csv.reader(lines(handle), delimiter=delimiter)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise CatalogError(f"cannot read {path}: {exc}") from exc
        if not header:
            return
        header = [_clean(h).strip() for h in header]
        position = 0
        while True:
            consumed.clear()
            try:
                cells = next(reader)
                error = None
            except StopIteration:
                return
            except csv.Error as exc:
                cells, error = [], f"malformed CSV row: {exc}"
            if not consumed or (not error and (not cells or (len(cells) == 1 and not cells[0].strip()))):
                continue  # a blank line
            position += 1
            yield _csv_row(position, header, cells, error, list(consumed))


def _clean(text: str) -> str:
    """Text decoded with ``surrogateescape``, undecodable bytes shown as U+FFFD (JSON-safe)."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _csv_row(
    position: int,
    header: list[str],
    cells: list[str],
    error: str | None,
    lines: list[tuple[int, int, str, bool]],
) -> Row:
    first_line = lines[0][0]
    for number, start, text, too_large in lines:
        if too_large:
            return Row(
                position, {}, f"line {number} longer than {MAX_ROW_BYTES} bytes", first_line, start, False
            )
        bad = _SURROGATE.search(text)
        if bad is not None:
            data = text.encode("utf-8", "surrogateescape")
            index = len(text[: bad.start()].encode("utf-8", "surrogateescape"))
            raw = {name: _clean(cell) for name, cell in zip(header, cells, strict=False)}
            return Row(position, raw, not_utf8(data, index, start), first_line, start + index)
    if error is not None:
        return Row(position, {}, error, first_line, lines[0][1], parsed=False)
    raw = {
        name: (None if cell.strip() in _CSV_MISSING else cell)
        for name, cell in zip(header, cells, strict=False)
    }
    if len(cells) != len(header):
        raw["_cells"] = cells
        return Row(position, raw, f"row has {len(cells)} fields, the header has {len(header)}", first_line)
    return Row(position, raw, None, first_line)


def count_csv(file: Path) -> int:
    """Data rows (header and blank lines not counted), for progress totals."""
    suffix, _ = suffixes(file)
    raise_csv_field_limit()
    with open_text(file) as handle:
        reader = csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ",")
        rows = sum(1 for cells in reader if cells and (len(cells) > 1 or cells[0].strip()))
    return max(rows - 1, 0)
