"""What the tantivy index is built from, read from the SQLite store: FTS5 texts and ``attrs`` rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence

from blendsearch.backends.embedded.lexical import Row
from blendsearch.backends.embedded.lexical_filters import AttrRow
from blendsearch.backends.embedded.sql import select_in
from blendsearch.search_fields import LEXICAL_FIELDS

__all__ = ["StoreRows", "ids_of", "indexed_rows"]

_ATTRS = "SELECT doc_key, key, value_text, value_num, is_text FROM attrs"


def _attr_row(key: str, text: str, number: int | float | None, is_text: int) -> AttrRow:
    return (key, text, number, int(is_text))


class StoreRows:
    """Every document's row (:data:`.lexical.Row`), read lazily on the caller's connection (under its
    lock)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def numeric_keys(self) -> list[str]:
        """The attribute keys some value of which is a number (they get a float field each)."""
        rows = self._conn.execute("SELECT DISTINCT key FROM attrs WHERE value_num IS NOT NULL")
        return sorted(key for (key,) in rows)

    def rows(self) -> Iterator[Row]:
        """FTS5 rows by rowid, merged with the ``attrs`` rows by doc_key (two cursors, no list of all)."""
        texts = self._conn.execute(f"SELECT rowid, {', '.join(LEXICAL_FIELDS)} FROM fts ORDER BY rowid")
        attrs = self._conn.execute(f"{_ATTRS} ORDER BY doc_key")
        pending = next(attrs, None)
        for key, *fields in texts:
            while pending is not None and pending[0] < key:
                pending = next(attrs, None)
            own: list[AttrRow] = []
            while pending is not None and pending[0] == key:
                own.append(_attr_row(*pending[1:]))
                pending = next(attrs, None)
            yield key, fields, own


def indexed_rows(
    conn: sqlite3.Connection, keys: Sequence[int]
) -> dict[int, tuple[tuple[str, ...], frozenset[AttrRow]]]:
    """The texts and attribute rows documents are indexed with (to skip re-indexing unchanged ones)."""
    if not keys:
        return {}
    sql = f"SELECT rowid, {', '.join(LEXICAL_FIELDS)} FROM fts WHERE rowid IN"
    texts = {key: tuple(fields) for key, *fields in select_in(conn, sql, keys)}
    attrs: dict[int, list[AttrRow]] = {}
    for doc_key, *row in select_in(conn, f"{_ATTRS} WHERE doc_key IN", keys):
        attrs.setdefault(doc_key, []).append(_attr_row(*row))
    return {key: (fields, frozenset(attrs.get(key, ()))) for key, fields in texts.items()}


def ids_of(conn: sqlite3.Connection, keys: Sequence[int]) -> dict[int, str]:
    """doc_key -> id in one query, whatever the number of keys (a JSON array bound once)."""
    if not keys:
        return {}
    rows = conn.execute(
        "SELECT doc_key, id FROM docs WHERE doc_key IN (SELECT value FROM json_each(?))",
        (json.dumps([int(key) for key in keys]),),
    )
    return dict(rows)
