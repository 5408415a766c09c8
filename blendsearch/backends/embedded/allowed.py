"""The documents a filter combination allows, kept as temp tables so a query's channels compute it once."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

import numpy as np

from blendsearch.backends.embedded import store
from blendsearch.filters import Filter

__all__ = ["AllowedSet", "AllowedSets"]

#: How many filter combinations keep their allowed-key set (per store generation).
ALLOWED_CACHE = 32


@dataclass
class AllowedSet:
    """The documents one filter combination allows, at one store generation."""

    generation: int
    table: str
    _keys: np.ndarray | None = None

    def keys(self, conn: sqlite3.Connection) -> np.ndarray:
        if self._keys is None:
            rows = conn.execute(f"SELECT doc_key FROM temp.{self.table} ORDER BY doc_key")
            self._keys = np.fromiter((r[0] for r in rows), dtype=np.int64)
        return self._keys


@dataclass
class AllowedSets:
    """Allowed sets by filter combination, least recently used first; callers hold the connection's lock."""

    _sets: dict[str, AllowedSet] = field(default_factory=dict)
    _serial: int = 0

    def get(self, conn: sqlite3.Connection, filters: list[Filter], generation: int) -> AllowedSet:
        """The documents passing the filters, as a temp table (for FTS5) and sorted keys (for vectors).

        Kept per filter combination until the store changes, so the channels of one query (two lexical,
        two vector) compute it once.
        """
        signature = json.dumps([f.model_dump() for f in filters], sort_keys=True)
        cached = self._sets.pop(signature, None)
        if cached is not None and cached.generation != generation:
            conn.execute(f"DROP TABLE IF EXISTS temp.{cached.table}")
            cached = None
        if cached is None:
            while len(self._sets) >= ALLOWED_CACHE:
                evicted = self._sets.pop(next(iter(self._sets)))
                conn.execute(f"DROP TABLE IF EXISTS temp.{evicted.table}")
            self._serial += 1
            cached = AllowedSet(generation=generation, table=f"allowed_{self._serial}")
            sql, params = store.filter_sql(filters) or ("SELECT doc_key FROM docs", [])
            conn.execute(f"CREATE TEMP TABLE {cached.table} (doc_key INTEGER PRIMARY KEY)")
            conn.execute(f"INSERT OR IGNORE INTO temp.{cached.table} (doc_key) {sql}", params)
        self._sets[signature] = cached  # most recently used last
        return cached

    def clear(self) -> None:
        self._sets.clear()
