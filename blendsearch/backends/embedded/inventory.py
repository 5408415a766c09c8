"""What the embedded store holds, read straight from SQLite: per-document fields, the vocabulary, the
filterable attribute keys (the backend caches and locks around these)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence

from blendsearch.backends.embedded.sql import select_in
from blendsearch.search_fields import LEXICAL_FIELDS, USER_TEXT_FIELDS, VECTOR_FIELDS
from blendsearch.text import words

__all__ = ["count_with_user_text", "filter_field_kinds", "present_fields", "vocabulary"]


def present_fields(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, frozenset[str]]:
    """Flags read from the FTS row (the indexed text) and the vector columns' NULLs, not documents."""
    names = (*LEXICAL_FIELDS, *VECTOR_FIELDS)
    flags = ", ".join(
        [
            *(f"trim(f.{name}) != ''" for name in LEXICAL_FIELDS),
            *(f"d.{n} IS NOT NULL" for n in VECTOR_FIELDS),
        ]
    )
    sql = f"SELECT d.id, {flags} FROM docs d JOIN fts f ON f.rowid = d.doc_key WHERE d.id IN"
    return {
        id_: frozenset(n for n, p in zip(names, present, strict=True) if p)
        for id_, *present in select_in(conn, sql, list(dict.fromkeys(ids)))
    }


def count_with_user_text(conn: sqlite3.Connection) -> int:
    """Documents whose FTS row has text in a catalogue field: one scan of the stored text in SQLite's C."""
    having = " OR ".join(f"trim({name}) != ''" for name in USER_TEXT_FIELDS)
    return int(conn.execute(f"SELECT count(*) FROM fts WHERE {having}").fetchone()[0])


def vocabulary(conn: sqlite3.Connection) -> dict[str, int]:
    """Folded unstemmed words -> document frequency, from the stored (FTS5) text."""
    df: Counter[str] = Counter()
    for row in conn.execute(f"SELECT {', '.join(LEXICAL_FIELDS)} FROM fts"):
        df.update(set(words(" ".join(row))))
    return dict(df)


def filter_field_kinds(conn: sqlite3.Connection) -> dict[str, bool]:
    """The ``attrs`` keys and whether each has a number: a skip-scan of the (key, value_num) index,
    two index probes per key however many rows there are."""
    keys = conn.execute(
        "WITH RECURSIVE k(key) AS (SELECT min(key) FROM attrs UNION ALL "
        "SELECT (SELECT min(key) FROM attrs WHERE key > k.key) FROM k WHERE k.key IS NOT NULL) "
        "SELECT key FROM k WHERE key IS NOT NULL"
    ).fetchall()
    return {
        key: conn.execute("SELECT max(value_num) FROM attrs WHERE key = ?", (key,)).fetchone()[0] is not None
        for (key,) in keys
    }
