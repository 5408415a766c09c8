"""The stored vectors of one dimension, read from the ``docs`` table into what search runs on: a float32
matrix (exact search), or for a field searched by HNSW, faiss's own storage -- one field at a time, so a
large store never holds two copies of a field, nor every field while it builds one graph."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from blendsearch._types import Vectors
from blendsearch.backends.embedded.vectors import FieldVectors, HnswIndex

__all__ = [
    "FIELDS",
    "cache_file",
    "cache_header",
    "count_field",
    "load_field",
    "graph_of",
    "load_field_hnsw",
    "load_field_vectors",
    "share_ids",
]

#: The vector fields of the ``docs`` table (column ``<field>_vector``).
FIELDS = ("image", "text")
#: Rows read from SQLite at a time while filling a matrix or a graph.
_BATCH = 4096


def _where(field: str) -> str:
    if field not in FIELDS:
        raise ValueError(f"unknown vector field {field!r}")
    return f"FROM docs WHERE length({field}_vector) = ?"


def count_field(conn: sqlite3.Connection, field: str, dim: int) -> int:
    """How many documents have a ``field`` vector of dimension ``dim``."""
    return int(conn.execute(f"SELECT count(*) {_where(field)}", (4 * dim,)).fetchone()[0])


def _batches(
    conn: sqlite3.Connection, field: str, dim: int, *, vectors: bool
) -> Iterator[tuple[list[Any], Vectors | None]]:
    """(rows of doc_key and id, their vectors or None) in ``doc_key`` order, ``_BATCH`` rows at a time."""
    columns = f"doc_key, id, {field}_vector" if vectors else "doc_key, id"
    cursor = conn.execute(f"SELECT {columns} {_where(field)} ORDER BY doc_key", (4 * dim,))
    while rows := cursor.fetchmany(_BATCH):
        block = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(-1, dim) if vectors else None
        yield rows, block


def _scan(
    conn: sqlite3.Connection, field: str, dim: int, count: int, sink: Callable[[Vectors], None] | None
) -> tuple[np.ndarray, list[str]]:
    """Keys (ascending) and ids of the field's rows; with ``sink``, their vectors go to it in order, in
    batches, and never exist together in Python.

    ``count`` comes from a query before the scan; a write committed in between (another process) changes
    the generation, so the result is thrown away on the next search anyway: the arrays just grow or shrink.
    """
    keys = np.empty(count, dtype=np.int64)
    ids: list[str] = []
    filled = 0
    for rows, block in _batches(conn, field, dim, vectors=sink is not None):
        end = filled + len(rows)
        if end > keys.size:
            keys = np.resize(keys, max(end, 2 * keys.size))
        keys[filled:end] = [r[0] for r in rows]
        ids.extend(r[1] for r in rows)
        if sink is not None and block is not None:
            sink(block)
        filled = end
    return (keys if filled == keys.size else keys[:filled].copy()), ids


def load_field(
    conn: sqlite3.Connection, field: str, generation: int, dim: int, count: int | None = None
) -> FieldVectors:
    """One field's vectors streamed into a preallocated float32 matrix (peak memory ~ the result)."""
    count = count_field(conn, field, dim) if count is None else count
    matrix = np.empty((count, dim), dtype=np.float32)
    filled = 0

    def fill(block: Vectors) -> None:
        nonlocal matrix, filled
        end = filled + block.shape[0]
        if end > matrix.shape[0]:
            matrix = np.resize(matrix, (max(end, 2 * matrix.shape[0]), dim))
        matrix[filled:end] = block
        filled = end

    keys, ids = _scan(conn, field, dim, count, fill)
    if filled != matrix.shape[0]:
        matrix = matrix[:filled].copy()
    return FieldVectors(generation=generation, keys=keys, ids=ids, matrix=matrix)


def cache_file(folder: Path, field: str) -> Path:
    """Where the HNSW graph of ``field`` is cached (derived data, rebuilt when missing or stale)."""
    return folder / f"vectors-{field}.faiss"


def cache_header(
    store_id: str, generation: int, field: str, dim: int, count: int, hnsw_m: int
) -> dict[str, Any]:
    """What a cached graph must have been built from to be reused: this store as of this generation."""
    return {
        "store_id": store_id,
        "generation": generation,
        "field": field,
        "dim": dim,
        "count": count,
        "hnsw_m": hnsw_m,
    }


def load_field_hnsw(
    conn: sqlite3.Connection,
    field: str,
    generation: int,
    dim: int,
    count: int,
    *,
    cache: Path,
    header: dict[str, Any],
    hnsw_m: int,
) -> FieldVectors:
    """One field's vectors held once, inside its HNSW graph (``matrix`` is a view of faiss's storage).

    The graph comes from ``cache`` when it was built with exactly ``header``; else it is built by
    streaming the rows from SQLite into faiss batch by batch -- no numpy matrix of the field exists
    beside faiss's copy (1M x 256-d: 1 GB each) -- and saved to ``cache``.
    """
    index = HnswIndex.load(cache, header)
    if index is not None:
        keys, ids = _scan(conn, field, dim, count, None)
        if index.size == len(ids) and int(index.index.d) == dim:
            return FieldVectors(generation, keys, ids, index.vectors(), hnsw=index)
        index = None  # rows changed since the count: free this graph before building the next
    index = HnswIndex.create(dim, hnsw_m, reserve=count)
    keys, ids = _scan(conn, field, dim, count, index.add)
    if index.size == header.get("count"):
        _save(index, cache, header)
    return FieldVectors(generation, keys, ids, index.vectors(), hnsw=index)


def graph_of(matrix: Vectors, *, cache: Path, header: dict[str, Any], hnsw_m: int) -> HnswIndex:
    """The HNSW graph of vectors already in memory (a field loaded for exact search, now searched by
    HNSW): from ``cache`` when it was built with exactly ``header``, else built and saved there."""
    index = HnswIndex.load(cache, header)
    if index is None or index.size != matrix.shape[0]:
        index = HnswIndex.build(matrix, m=hnsw_m)
        _save(index, cache, header)
    return index


def _save(index: HnswIndex, cache: Path, header: dict[str, Any]) -> None:
    """Best effort: a cache, so a read-only index directory only costs a rebuild next time."""
    try:
        index.save(cache, header)
    except OSError:
        pass


def share_ids(vectors: FieldVectors, others: Iterable[FieldVectors]) -> None:
    """Let ``vectors`` use the list of ids of another field of the same documents (1M ids ~ 70 MB)."""
    for other in others:
        if other is not vectors and other.generation == vectors.generation:
            if np.array_equal(other.keys, vectors.keys):
                vectors.ids = other.ids
                return


def load_field_vectors(conn: sqlite3.Connection, generation: int, dim: int) -> dict[str, FieldVectors]:
    """``image`` and ``text`` vectors of dimension ``dim``, by ``doc_key``, as of store ``generation``.

    Vectors of another dimension (e.g. mid-way through re-encoding with a new model) are not comparable
    with a query of ``dim`` and are left out. One field at a time, each streamed into its final array, so
    peak memory stays near the matrices' own size (1M x 256-d: 1 GB each), not the rows' several copies;
    two fields with the same documents share one list of ids.
    """
    loaded: dict[str, FieldVectors] = {}
    for name in FIELDS:
        vectors = load_field(conn, name, generation, dim)
        share_ids(vectors, loaded.values())
        loaded[name] = vectors
    return loaded
