"""What every catalogue reader shares: the formats, the limits, the row types and the byte-level line
reader that keeps offsets for the rejects file.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from pydantic import BaseModel, Field, model_validator

from blendsearch._types import PathInput
from blendsearch.documents import Document
from blendsearch.exceptions import CatalogError

__all__ = [
    "BOM",
    "FORMATS",
    "MAX_ID_CHARS",
    "MAX_NESTING",
    "MAX_ROW_BYTES",
    "RawItem",
    "Row",
    "catalog_format",
    "check_readable",
    "kept",
    "not_utf8",
    "open_binary",
    "open_text",
    "physical_lines",
    "suffixes",
    "too_deep",
    "type_name",
]

#: Suffix (lower case, without ``.gz``) -> reader kind.
FORMATS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
}


#: A JSON line (or a CSV field) longer than this many bytes is rejected as too large, unread.
MAX_ROW_BYTES = 8 * 1024 * 1024


#: Objects and lists nested deeper than this are rejected: no catalogue needs it, and deeper values
#: would exhaust the recursion of JSON parsing and serialising.
MAX_NESTING = 64


#: An id longer than this many characters is rejected (ids are keys, not texts).
MAX_ID_CHARS = 1000


#: How much of an unparsable line the rejects file keeps.
_LINE_KEPT_CHARS = 10_000


BOM = b"\xef\xbb\xbf"


class RawItem(BaseModel):
    """One catalogue row as read: either mapped to a document, or with the reason it cannot be."""

    #: 1-based position: the line number in JSON Lines, the data row number (header not counted) in CSV
    #: and Parquet.
    position: int = Field(ge=1)
    #: The row as read, kept for the rejects file; ``{"line": text}`` where the line did not parse.
    raw: dict[str, Any]
    document: Document | None = None
    error: str | None = None
    #: 1-based line of the file where the row starts (JSON Lines, CSV); None for Parquet and JSON arrays.
    line: int | None = None
    #: Byte offset in the (uncompressed) file of a fault in the bytes themselves: the first byte that is
    #: not UTF-8, where the JSON stops parsing, the bracket beyond :data:`MAX_NESTING`, or the start of
    #: a line that is too large or not a JSON object. None for rows that were read.
    offset: int | None = None
    #: False where ``raw`` is not the row's fields (the line could not be parsed into any).
    parsed: bool = True

    @model_validator(mode="after")
    def _exactly_one(self) -> RawItem:
        if (self.document is None) == (self.error is None):
            raise ValueError("a RawItem has exactly one of document and error")
        return self


class Row(NamedTuple):
    """One row as a reader yields it, before mapping; ``error`` set where it cannot be mapped at all."""

    position: int
    raw: dict[str, Any]
    error: str | None = None
    line: int | None = None
    offset: int | None = None
    parsed: bool = True


def suffixes(path: Path) -> tuple[str, bool]:
    """(format suffix, gzipped) of a path such as ``items.jsonl.gz``."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), gzipped


def catalog_format(path: PathInput) -> str:
    """The reader kind (``jsonl``, ``csv`` or ``parquet``) of a catalogue path, from its suffix."""
    suffix, gzipped = suffixes(Path(path))
    kind = FORMATS.get(suffix)
    if kind is None or (gzipped and kind == "parquet"):
        valid = ", ".join(sorted(FORMATS))
        shown = suffix or "(none)"
        raise CatalogError(f"cannot read {path}: unknown catalogue format {shown!r}; valid: {valid}")
    return kind


def open_binary(path: Path) -> BinaryIO:
    _, gzipped = suffixes(path)
    return gzip.open(path, "rb") if gzipped else open(path, "rb")  # noqa: SIM115 - the caller closes it


def open_text(path: Path) -> io.TextIOBase:
    """Text for counting rows only: undecodable bytes are the readers' business, not the count's."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", errors="replace", newline="")


def check_readable(path: Path) -> None:
    if not path.exists():
        raise CatalogError(f"catalogue file {path} does not exist")
    if not path.is_file():
        raise CatalogError(f"catalogue path {path} is not a file")


def physical_lines(handle: BinaryIO) -> Iterator[tuple[int, int, bytes, bytes, bool]]:
    """(line number, byte offset where its content starts, content, line end, too large) per line.

    Lines end at ``\\n``; the content has no line end (``\\n`` or ``\\r\\n``, given apart) and no leading
    byte order mark. A line longer than :data:`MAX_ROW_BYTES` is skipped through without holding it:
    its content is its first bytes.
    """
    offset = 0
    number = 0
    while True:
        chunk = handle.readline(MAX_ROW_BYTES + 1)
        if not chunk:
            return
        number += 1
        start = offset
        offset += len(chunk)
        too_large = len(chunk) > MAX_ROW_BYTES and not chunk.endswith(b"\n")
        end = b""
        if too_large:
            tail = chunk
            while tail and not tail.endswith(b"\n"):
                tail = handle.readline(1 << 20)
                offset += len(tail)
            chunk = chunk[:_LINE_KEPT_CHARS]
            end = b"\n"
        elif chunk.endswith(b"\n"):
            end = b"\r\n" if chunk.endswith(b"\r\n") else b"\n"
            chunk = chunk[: -len(end)]
        if chunk.startswith(BOM):
            chunk, start = chunk[3:], start + 3
        yield number, start, chunk, end, too_large


def not_utf8(data: bytes, index: int, base: int) -> str:
    return f"not UTF-8 text: byte 0x{data[index]:02x} at byte offset {base + index}"


def kept(data: bytes) -> str:
    return data[: _LINE_KEPT_CHARS * 4].decode("utf-8", "replace")[:_LINE_KEPT_CHARS]


def type_name(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    return {list: "a list", tuple: "a list", bool: "a boolean"}.get(type(value), type(value).__name__)


def too_deep(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether objects/lists nest more than ``limit`` levels (the top object is level 1); iterative."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        children = current.values() if isinstance(current, dict) else current
        for child in children:
            if isinstance(child, dict | list | tuple):  # what readers produce; concrete types are fast
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False
