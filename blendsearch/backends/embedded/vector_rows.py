"""The stored vectors of one dimension, read from the ``docs`` table into the matrices search runs on."""

from __future__ import annotations

import sqlite3

import numpy as np

from blendsearch.backends.embedded.vectors import FieldVectors

__all__ = ["load_field_vectors"]

#: Rows read from SQLite at a time while filling a matrix.
_BATCH = 4096


def _load_field(conn: sqlite3.Connection, column: str, generation: int, dim: int) -> FieldVectors:
    """One field's vectors streamed into a preallocated float32 matrix (peak memory ~ the result).

    The count comes first, outside the scan; a write committed in between (another process) changes the
    generation, so the result is thrown away on the next search anyway: the arrays just grow or shrink.
    """
    size = 4 * dim
    where = f"FROM docs WHERE length({column}) = ?"
    count = int(conn.execute(f"SELECT count(*) {where}", (size,)).fetchone()[0])
    keys = np.empty(count, dtype=np.int64)
    matrix = np.empty((count, dim), dtype=np.float32)
    ids: list[str] = []
    filled = 0
    cursor = conn.execute(f"SELECT doc_key, id, {column} {where} ORDER BY doc_key", (size,))
    while rows := cursor.fetchmany(_BATCH):
        end = filled + len(rows)
        if end > keys.size:
            keys = np.resize(keys, max(end, 2 * keys.size))
            matrix = np.resize(matrix, (max(end, 2 * matrix.shape[0]), dim))
        keys[filled:end] = [r[0] for r in rows]
        ids.extend(r[1] for r in rows)
        matrix[filled:end] = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(-1, dim)
        filled = end
    if filled != keys.size:
        keys, matrix = keys[:filled].copy(), matrix[:filled].copy()
    return FieldVectors(generation=generation, keys=keys, ids=ids, matrix=matrix)


def load_field_vectors(conn: sqlite3.Connection, generation: int, dim: int) -> dict[str, FieldVectors]:
    """``image`` and ``text`` vectors of dimension ``dim``, by ``doc_key``, as of store ``generation``.

    Vectors of another dimension (e.g. mid-way through re-encoding with a new model) are not comparable
    with a query of ``dim`` and are left out. One field at a time, each streamed into its final array, so
    peak memory stays near the matrices' own size (1M x 256-d: 1 GB each), not the rows' several copies;
    two fields with the same documents share one list of ids.
    """
    loaded: dict[str, FieldVectors] = {}
    for name in ("image", "text"):
        vectors = _load_field(conn, f"{name}_vector", generation, dim)
        for other in loaded.values():
            if np.array_equal(other.keys, vectors.keys):
                vectors.ids = other.ids
                break
        loaded[name] = vectors
    return loaded
