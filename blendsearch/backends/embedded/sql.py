"""SQL the embedded store's reads share: ``IN`` lists chunked under SQLite's parameter limit."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

__all__ = ["CHUNK", "select_in"]

#: SQLite allows 999 bound parameters in older builds; IN lists are chunked below that.
CHUNK = 900


def select_in(conn: sqlite3.Connection, sql: str, values: Sequence[object]) -> Iterator[tuple]:
    """The rows of ``sql`` (which ends in ``... IN``) over ``values``, one query per chunk of them.

    The caller consumes the rows while it holds the connection (a generator: no list of every row).
    """
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        yield from conn.execute(f"{sql} ({', '.join('?' * len(chunk))})", chunk)
