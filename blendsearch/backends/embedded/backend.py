"""The default backend: one directory, SQLite (FTS5 BM25 + the durable record) and derived vector indexes.

SQLite is the only durable state: documents, vectors (float32 blobs), the attribute table filters run
on and the FTS5 index. Vector search runs on a float32 matrix loaded lazily from SQLite (exact) or on a
faiss HNSW graph built from it (approximate, cached as ``vectors-<field>.faiss``); both are rebuilt
whenever the store's ``generation`` (bumped by every write) differs from the one they were built at.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from blendsearch._types import PathInput
from blendsearch.backends.base import Backend, ChannelResult, LexicalRequest, UpsertResult, VectorRequest
from blendsearch.backends.embedded import store
from blendsearch.backends.embedded.vectors import EXACT_SUBSET_MAX, FieldVectors, HnswIndex, exact_search
from blendsearch.backends.fields import LEXICAL_FIELDS, VECTOR_FIELDS, document_fields
from blendsearch.documents import Enrichment, StoredDocument
from blendsearch.exceptions import BackendError, BlendsearchError, ConfigError, IndexError_, map_exceptions
from blendsearch.filters import Filter
from blendsearch.text import stem, words

__all__ = ["EmbeddedBackend", "VectorSearchMode"]

VectorSearchMode = Literal["auto", "exact", "hnsw"]
_MODES = ("auto", "exact", "hnsw")

#: SQLite allows 999 bound parameters in older builds; IN lists are chunked below that.
_CHUNK = 900
#: With several clauses each SQL query returns this many times k, so the Python merge rarely misses
#: a document that is strong in the sum but not in any single clause's top k.
_CLAUSE_OVERFETCH = 4
#: How many filter combinations keep their allowed-key set (per store generation).
_ALLOWED_CACHE = 32

_ErrorMap = Mapping[type[BaseException], type[BlendsearchError]]
_STORAGE_ERRORS: _ErrorMap = {sqlite3.Error: IndexError_}
_SEARCH_ERRORS: _ErrorMap = {sqlite3.Error: BackendError}

_DOC_COLUMNS = "id, title, description, attributes, image, enrichment, content_hash"


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _blob(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.ascontiguousarray(vector, dtype="<f4").tobytes()


def _checked_vector(vector: np.ndarray | None, name: str) -> np.ndarray | None:
    if vector is None:
        return None
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d vector, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} has NaN or infinite values")
    return array


def _field_texts(doc: StoredDocument) -> list[str]:
    texts = document_fields(doc)
    return [texts[name] for name in LEXICAL_FIELDS]


def _match_expression(text: str, columns: list[str]) -> str | None:
    """FTS5 MATCH text: the clause's words OR-ed, each quoted, restricted to ``columns``.

    Words are passed unstemmed (FTS5's porter stems them as it stemmed the indexed text); words with
    the same stem are sent once so a clause never counts one term twice.
    """
    by_stem: dict[str, str] = {}
    for word in words(text):
        by_stem.setdefault(stem(word), word)
    if not by_stem:
        return None
    terms = " OR ".join('"' + w.replace('"', '""') + '"' for w in by_stem.values())
    return "{" + " ".join(columns) + "} : (" + terms + ")"


@dataclass
class _AllowedSet:
    """The documents one filter combination allows, at one store generation."""

    generation: int
    table: str
    _keys: np.ndarray | None = None

    def keys(self, conn: sqlite3.Connection) -> np.ndarray:
        if self._keys is None:
            rows = conn.execute(f"SELECT doc_key FROM temp.{self.table} ORDER BY doc_key")
            self._keys = np.fromiter((r[0] for r in rows), dtype=np.int64)
        return self._keys


class EmbeddedBackend(Backend):
    """SQLite + FTS5 + faiss in one index directory; see docs/embedded-backend.md.

    ``vector_search``: ``exact`` scans every vector (fast below a few hundred thousand), ``hnsw`` uses a
    faiss HNSW graph (``hnsw_m`` links per node, ``ef_search`` candidates per query), ``auto`` uses
    HNSW once a field has ``ann_threshold`` vectors.
    """

    def __init__(
        self,
        path: PathInput,
        *,
        vector_search: VectorSearchMode = "auto",
        ann_threshold: int = 200_000,
        hnsw_m: int = 32,
        ef_search: int = 128,
    ) -> None:
        if vector_search not in _MODES:
            raise ConfigError(f"unknown vector_search {vector_search!r}; valid: {', '.join(_MODES)}")
        if ann_threshold < 1 or hnsw_m < 2 or ef_search < 1:
            raise ConfigError("ann_threshold and ef_search must be >= 1, hnsw_m >= 2")
        self.path = Path(path)
        self.vector_search: VectorSearchMode = vector_search
        self.ann_threshold = ann_threshold
        self.hnsw_m = hnsw_m
        self.ef_search = ef_search
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexError_(f"cannot create index directory {self.path}: {exc}") from exc
        self._conn = store.connect(self.path / store.STORE_FILE)
        try:
            store.migrate(self._conn)
            self._store_id = self._meta("store_id")
        except BaseException:
            self._conn.close()
            raise
        self._lock = threading.RLock()
        self._closed = False
        self._vectors: dict[tuple[str, int], FieldVectors] = {}
        self._vocabulary: tuple[int, dict[str, int]] | None = None
        self._allowed_sets: dict[str, _AllowedSet] = {}
        self._allowed_serial = 0

    # -- plumbing ------------------------------------------------------------------------------
    def _meta(self, key: str) -> str:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else ""

    def _generation(self) -> int:
        return int(self._meta("generation") or 0)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock; it bumps the generation so derived data is rebuilt."""
        with self._lock, map_exceptions(_STORAGE_ERRORS):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
                )
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _reading(self, errors: _ErrorMap) -> Iterator[sqlite3.Connection]:
        with self._lock, map_exceptions(errors):
            yield self._conn

    def _keys(self, conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            found.update(conn.execute(f"SELECT id, doc_key FROM docs WHERE id IN ({marks})", chunk))
        return found

    def _ids_of(self, conn: sqlite3.Connection, keys: Sequence[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            found.update(conn.execute(f"SELECT doc_key, id FROM docs WHERE doc_key IN ({marks})", chunk))
        return found

    # -- writing -------------------------------------------------------------------------------
    def upsert(self, documents: Sequence[StoredDocument]) -> list[UpsertResult]:
        """Insert or replace in one transaction; a document with a malformed vector is rejected alone."""
        results: list[UpsertResult] = []
        prepared: dict[str, tuple[StoredDocument, bytes | None, bytes | None, int | None]] = {}
        for doc in documents:
            try:
                image = _checked_vector(doc.image_vector, "image_vector")
                text = _checked_vector(doc.text_vector, "text_vector")
                if image is not None and text is not None and image.size != text.size:
                    raise ValueError(f"image_vector has {image.size} dimensions but text_vector {text.size}")
            except ValueError as exc:
                results.append(UpsertResult(id=doc.id, ok=False, error=str(exc)))
                continue
            dim = image.size if image is not None else (text.size if text is not None else None)
            prepared[doc.id] = (doc, _blob(image), _blob(text), dim)
            results.append(UpsertResult(id=doc.id, ok=True))
        if not prepared:
            return results
        now = time.time()
        with self._transaction() as conn:
            ids = list(prepared)
            existing = self._keys(conn, ids)
            old = [(key,) for key in existing.values()]
            conn.executemany("DELETE FROM fts WHERE rowid = ?", old)
            conn.executemany("DELETE FROM attrs WHERE doc_key = ?", old)
            next_key = conn.execute("SELECT coalesce(max(doc_key), 0) + 1 FROM docs").fetchone()[0]
            keys: dict[str, int] = {}
            for id_ in ids:
                if id_ in existing:
                    keys[id_] = existing[id_]
                else:
                    keys[id_] = next_key
                    next_key += 1
            conn.executemany(
                "INSERT OR REPLACE INTO docs (doc_key, id, title, description, attributes, image, enrichment,"
                " content_hash, image_vector, text_vector, dim, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        keys[doc.id],
                        doc.id,
                        doc.title,
                        doc.description,
                        json.dumps(doc.attributes, ensure_ascii=False),
                        doc.image,
                        doc.enrichment.model_dump_json(),
                        doc.content_hash,
                        image,
                        text,
                        dim,
                        now,
                    )
                    for doc, image, text, dim in prepared.values()
                ],
            )
            conn.executemany(
                f"INSERT INTO fts (rowid, {', '.join(LEXICAL_FIELDS)})"
                f" VALUES (?{', ?' * len(LEXICAL_FIELDS)})",
                [(keys[doc.id], *_field_texts(doc)) for doc, *_ in prepared.values()],
            )
            conn.executemany(
                "INSERT INTO attrs (doc_key, key, value_text, value_num, is_text) VALUES (?, ?, ?, ?, ?)",
                [row for doc, *_ in prepared.values() for row in store.attribute_rows(keys[doc.id], doc)],
            )
        return results

    def delete(self, ids: Iterable[str]) -> int:
        unique = list(dict.fromkeys(ids))
        if not unique:
            return 0
        with self._transaction() as conn:
            keys = [(key,) for key in self._keys(conn, unique).values()]
            conn.executemany("DELETE FROM fts WHERE rowid = ?", keys)
            conn.executemany("DELETE FROM attrs WHERE doc_key = ?", keys)
            conn.executemany("DELETE FROM docs WHERE doc_key = ?", keys)
        return len(keys)

    def flush(self) -> None:
        """Every upsert/delete already commits; this moves the WAL into the main file."""
        with self._reading(_STORAGE_ERRORS) as conn:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    # -- reading -------------------------------------------------------------------------------
    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self._reading(_STORAGE_ERRORS) as conn:
            for chunk in _chunks(list(ids)):
                marks = ", ".join("?" * len(chunk))
                found.update(
                    conn.execute(f"SELECT id, content_hash FROM docs WHERE id IN ({marks})", chunk).fetchall()
                )
        return found

    def get(self, ids: Sequence[str], with_vectors: bool = False) -> list[StoredDocument]:
        columns = _DOC_COLUMNS + (", image_vector, text_vector" if with_vectors else "")
        rows: dict[str, tuple] = {}
        with self._reading(_STORAGE_ERRORS) as conn:
            for chunk in _chunks(list(dict.fromkeys(ids))):
                marks = ", ".join("?" * len(chunk))
                for row in conn.execute(f"SELECT {columns} FROM docs WHERE id IN ({marks})", chunk):
                    rows[row[0]] = row
        return [self._document(rows[i]) for i in ids if i in rows]

    @staticmethod
    def _document(row: tuple) -> StoredDocument:
        id_, title, description, attributes, image, enrichment, content_hash = row[:7]
        vectors = [None if b is None else np.frombuffer(b, dtype="<f4").astype(np.float32) for b in row[7:9]]
        return StoredDocument(
            id=id_,
            title=title,
            description=description,
            attributes=json.loads(attributes),
            image=image,
            enrichment=Enrichment.model_validate_json(enrichment),
            content_hash=content_hash,
            image_vector=vectors[0] if vectors else None,
            text_vector=vectors[1] if vectors else None,
        )

    def present_fields(self, ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """Flags read from the FTS row (the indexed text) and the vector columns' NULLs, not documents."""
        names = (*LEXICAL_FIELDS, *VECTOR_FIELDS)
        flags = ", ".join(
            [
                *(f"trim(f.{name}) != ''" for name in LEXICAL_FIELDS),
                *(f"d.{n} IS NOT NULL" for n in VECTOR_FIELDS),
            ]
        )
        found: dict[str, frozenset[str]] = {}
        with self._reading(_STORAGE_ERRORS) as conn:
            for chunk in _chunks(list(dict.fromkeys(ids))):
                marks = ", ".join("?" * len(chunk))
                sql = (
                    f"SELECT d.id, {flags} FROM docs d JOIN fts f ON f.rowid = d.doc_key"
                    f" WHERE d.id IN ({marks})"
                )
                for id_, *present in conn.execute(sql, chunk):
                    found[id_] = frozenset(n for n, p in zip(names, present, strict=True) if p)
        return found

    def count(self) -> int:
        with self._reading(_STORAGE_ERRORS) as conn:
            return int(conn.execute("SELECT count(*) FROM docs").fetchone()[0])

    def iter_ids(self) -> Iterable[str]:
        with self._reading(_STORAGE_ERRORS) as conn:
            # The covering id index is a fraction of the table (whose rows hold the vectors).
            rows = conn.execute("SELECT doc_key, id FROM docs INDEXED BY sqlite_autoindex_docs_1").fetchall()
        rows.sort()
        return [id_ for _, id_ in rows]

    def vocabulary(self) -> dict[str, int]:
        """Folded unstemmed words -> document frequency, from the stored text; cached per generation."""
        with self._reading(_STORAGE_ERRORS) as conn:
            generation = self._generation()
            if self._vocabulary is None or self._vocabulary[0] != generation:
                df: Counter[str] = Counter()
                for row in conn.execute(f"SELECT {', '.join(LEXICAL_FIELDS)} FROM fts"):
                    df.update(set(words(" ".join(row))))
                self._vocabulary = (generation, dict(df))
            return dict(self._vocabulary[1])

    # -- searching -----------------------------------------------------------------------------
    def search_lexical(self, request: LexicalRequest) -> ChannelResult:
        """BM25 (FTS5 ``bm25()`` with the field boosts as column weights), one SQL query per clause."""
        weights = [max(float(request.fields.get(name, 0.0)), 0.0) for name in LEXICAL_FIELDS]
        columns = [name for name, weight in zip(LEXICAL_FIELDS, weights, strict=True) if weight > 0]
        queries = [
            (expression, clause.weight)
            for clause in request.clauses
            if clause.weight > 0 and (expression := _match_expression(clause.text, columns)) is not None
        ]
        if not columns or not queries:
            return ChannelResult(channel=request.channel)
        limit = request.k if len(queries) == 1 else request.k * _CLAUSE_OVERFETCH
        by_key: dict[int, float] = {}
        with self._reading(_SEARCH_ERRORS) as conn:
            allowed = self._allowed(conn, request.filters).table if request.filters else None
            # No join with docs here: FTS5 sorts rowids, ids are looked up for the winners only. The unary
            # ``+`` keeps SQLite from pushing the rowid list into FTS5 (one full-text query per allowed id).
            marks = ", ".join("?" * len(weights))
            sql = (
                f"SELECT rowid, -bm25(fts, {marks}) AS score FROM fts WHERE fts MATCH ?"
                + (f" AND +rowid IN (SELECT doc_key FROM temp.{allowed})" if allowed else "")
                + " ORDER BY score DESC, rowid LIMIT ?"
            )
            for expression, clause_weight in queries:
                params = [*weights, expression, limit]
                for key, score in conn.execute(sql, params):
                    by_key[key] = by_key.get(key, 0.0) + clause_weight * score
            ranked = sorted(by_key.items(), key=lambda kv: -kv[1])
            if len(ranked) > request.k:  # keep the ties at the cut, so ids break them as MemoryBackend does
                cut = ranked[request.k - 1][1]
                ranked = [kv for kv in ranked if kv[1] >= cut]
            ids = self._ids_of(conn, [key for key, _ in ranked])
        best = sorted(((ids[key], score) for key, score in ranked), key=lambda kv: (-kv[1], kv[0]))
        best = best[: request.k]
        return ChannelResult(channel=request.channel, ids=[i for i, _ in best], scores=[s for _, s in best])

    def search_vector(self, request: VectorRequest) -> ChannelResult:
        """Cosine (dot product of unit vectors) top k: exact, or HNSW per ``vector_search``."""
        query = np.ascontiguousarray(request.vector, dtype=np.float32).ravel()
        with self._reading(_SEARCH_ERRORS) as conn:
            vectors = self._field_vectors(conn, request.field, query.size)
            if vectors.size == 0:
                return ChannelResult(channel=request.channel)
            rows: np.ndarray | None = None
            if request.filters:
                rows = vectors.rows_of(self._allowed(conn, request.filters).keys(conn))
                if rows.size == 0:
                    return ChannelResult(channel=request.channel)
            use_hnsw = self.vector_search == "hnsw" or (
                self.vector_search == "auto" and vectors.size >= self.ann_threshold
            )
            if use_hnsw and (rows is None or rows.size > EXACT_SUBSET_MAX):
                positions, scores = self._hnsw(vectors, request.field).search(
                    query, request.k, self.ef_search, rows
                )
            else:
                positions, scores = exact_search(vectors.matrix, query, request.k, rows)
        return ChannelResult(
            channel=request.channel,
            ids=[vectors.ids[p] for p in positions.tolist()],
            scores=[float(s) for s in scores],
        )

    def _allowed(self, conn: sqlite3.Connection, filters: list[Filter]) -> _AllowedSet:
        """The documents passing the filters, as a temp table (for FTS5) and sorted keys (for vectors).

        Kept per filter combination until the store changes, so the channels of one query (two lexical,
        two vector) compute it once.
        """
        generation = self._generation()
        signature = json.dumps([f.model_dump() for f in filters], sort_keys=True)
        cached = self._allowed_sets.pop(signature, None)
        if cached is not None and cached.generation != generation:
            conn.execute(f"DROP TABLE IF EXISTS temp.{cached.table}")
            cached = None
        if cached is None:
            while len(self._allowed_sets) >= _ALLOWED_CACHE:
                evicted = self._allowed_sets.pop(next(iter(self._allowed_sets)))
                conn.execute(f"DROP TABLE IF EXISTS temp.{evicted.table}")
            self._allowed_serial += 1
            cached = _AllowedSet(generation=generation, table=f"allowed_{self._allowed_serial}")
            sql, params = store.filter_sql(filters) or ("SELECT doc_key FROM docs", [])
            conn.execute(f"CREATE TEMP TABLE {cached.table} (doc_key INTEGER PRIMARY KEY)")
            conn.execute(f"INSERT OR IGNORE INTO temp.{cached.table} (doc_key) {sql}", params)
        self._allowed_sets[signature] = cached  # most recently used last
        return cached

    def _field_vectors(self, conn: sqlite3.Connection, field: str, dim: int) -> FieldVectors:
        """The field's vectors of dimension ``dim``, reloaded when the store changed.

        Vectors of another dimension (e.g. mid-way through re-encoding with a new model) are not
        comparable with the query and are left out. One table scan loads both fields, since each row
        holds both blobs.
        """
        generation = self._generation()
        cached = self._vectors.get((field, dim))
        if cached is not None and cached.generation == generation:
            return cached
        self._vectors = {k: v for k, v in self._vectors.items() if v.generation == generation}
        size = 4 * dim
        rows = conn.execute(
            "SELECT doc_key, id, image_vector, text_vector FROM docs"
            " WHERE length(image_vector) = ? OR length(text_vector) = ? ORDER BY doc_key",
            (size, size),
        ).fetchall()
        for name, column in (("image", 2), ("text", 3)):
            kept = [r for r in rows if r[column] is not None and len(r[column]) == size]
            self._vectors[(name, dim)] = FieldVectors(
                generation=generation,
                keys=np.fromiter((r[0] for r in kept), dtype=np.int64, count=len(kept)),
                ids=[r[1] for r in kept],
                matrix=np.frombuffer(b"".join(r[column] for r in kept), dtype="<f4")
                .astype(np.float32)
                .reshape(-1, dim),
            )
        return self._vectors[(field, dim)]

    def _hnsw(self, vectors: FieldVectors, field: str) -> HnswIndex:
        """The HNSW graph of these vectors: in memory, else the cache file if it matches, else built."""
        if vectors.hnsw is not None:
            return vectors.hnsw
        header = {
            "store_id": self._store_id,
            "generation": vectors.generation,
            "field": field,
            "dim": int(vectors.matrix.shape[1]),
            "count": vectors.size,
            "hnsw_m": self.hnsw_m,
        }
        path = self.path / f"vectors-{field}.faiss"
        index = HnswIndex.load(path, header)
        if index is None or index.size != vectors.size:
            index = HnswIndex.build(vectors.matrix, m=self.hnsw_m)
            try:
                index.save(path, header)
            except OSError:
                pass  # a cache: a read-only index directory only costs a rebuild next time
        vectors.hnsw = index
        return index

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._vectors.clear()
            self._allowed_sets.clear()
            self._vocabulary = None
            try:
                self._conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
            self._conn.close()

    def __repr__(self) -> str:
        return f"EmbeddedBackend({str(self.path)!r}, vector_search={self.vector_search!r})"
