"""JSON Lines (and one-array ``.json``) rows: each line parsed on its own, so a bad line rejects only its
row, with the byte offset of the fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from blendsearch.exceptions import CatalogError
from blendsearch.ingest.readers.rows import (
    BOM,
    MAX_NESTING,
    MAX_ROW_BYTES,
    Row,
    kept,
    not_utf8,
    open_binary,
    physical_lines,
    too_deep,
    type_name,
)

__all__ = ["count_jsonl", "jsonl_rows"]


class _DuplicateKey(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a key given twice would silently lose one of its values."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def _nesting_fault(text: str, limit: int = MAX_NESTING) -> int:
    """Character index of the bracket that opens level ``limit + 1`` (strings skipped); 0 if none."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return match.start()
        elif token in "]}":
            depth -= 1
    return 0


def _jsonl_line(number: int, start: int, content: bytes, too_large: bool) -> Row:
    """One line of JSON Lines parsed into a row, or the one reason it cannot be (with the fault's offset)."""

    def fault(error: str, offset: int) -> Row:
        return Row(number, {"line": kept(content)}, error, number, offset, parsed=False)

    if too_large:
        return fault(f"line longer than {MAX_ROW_BYTES} bytes", start)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return fault(not_utf8(content, exc.start, start), start + exc.start)

    def at(index: int) -> int:
        return start + len(text[:index].encode("utf-8"))

    try:
        row = json.loads(text, object_pairs_hook=_unique_object)
    except json.JSONDecodeError as exc:
        return fault(f"invalid JSON: {exc.msg} (column {exc.colno})", at(exc.pos))
    except RecursionError:
        return fault(f"nested more than {MAX_NESTING} levels deep", at(_nesting_fault(text)))
    except _DuplicateKey as exc:
        return fault(f"invalid JSON: key {str(exc)!r} appears twice in one object", start)
    except ValueError as exc:  # e.g. an integer of more than sys.get_int_max_str_digits() digits
        return fault(f"invalid JSON: {exc}", start)
    if not isinstance(row, dict):
        return fault(f"line is {type_name(row)}, not a JSON object", start)
    if text.count("[") + text.count("{") > MAX_NESTING and too_deep(row):  # counting is cheap
        return fault(f"nested more than {MAX_NESTING} levels deep", at(_nesting_fault(text)))
    return Row(number, row, None, number)


def jsonl_rows(path: Path) -> Iterator[Row]:
    with open_binary(path) as handle:
        head = handle.read(4096)
        handle.seek(0)
        if head.removeprefix(BOM).lstrip().startswith(b"["):
            yield from _json_array_rows(path, handle.read())
            return
        for number, start, content, _, too_large in physical_lines(handle):
            if content.strip():
                yield _jsonl_line(number, start, content, too_large)


def _json_array_rows(path: Path, data: bytes) -> Iterator[Row]:
    """A ``.json`` file holding one array (not streamed: such files are small in practice)."""
    base = len(BOM) if data.startswith(BOM) else 0
    try:
        rows = json.loads(data[base:].decode("utf-8"))
    except UnicodeDecodeError as exc:
        reason = not_utf8(data[base:], exc.start, base)
        raise CatalogError(f"cannot read {path}: {reason}") from exc
    except json.JSONDecodeError as exc:
        raise CatalogError(f"cannot read {path}: invalid JSON array: {exc}") from exc
    except RecursionError as exc:
        raise CatalogError(f"cannot read {path}: nested more than {MAX_NESTING} levels deep") from exc
    except ValueError as exc:
        raise CatalogError(f"cannot read {path}: invalid JSON array: {exc}") from exc
    if not isinstance(rows, list):
        raise CatalogError(f"cannot read {path}: expected a JSON array, got {type_name(rows)}")
    for position, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            yield Row(position, {"value": row}, f"element is {type_name(row)}, not a JSON object")
        elif too_deep(row):
            yield Row(position, {}, f"nested more than {MAX_NESTING} levels deep", parsed=False)
        else:
            yield Row(position, row)


def count_jsonl(file: Path) -> int | None:
    with open_binary(file) as handle:
        if handle.read(4096).removeprefix(BOM).lstrip().startswith(b"["):
            return None
        handle.seek(0)
        return sum(1 for _, _, content, _, _ in physical_lines(handle) if content.strip())
