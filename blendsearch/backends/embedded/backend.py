"""The default backend: one directory, SQLite (FTS5 BM25 + the durable record) and derived vector indexes.

SQLite is the only durable state: documents, vectors (float32 blobs), the attribute table filters run
on and the FTS5 index. Vector search runs on a float32 matrix loaded lazily from SQLite (exact) or on a
faiss HNSW graph built from it (approximate, cached as ``vectors-<field>.faiss``); both are rebuilt
whenever the store's ``generation`` (bumped by every write) differs from the one they were built at.
BM25 runs on a tantivy index derived the same way (Lucene's formula, BM25F; see :mod:`.lexical`), or on
the FTS5 table with ``lexical="fts5"`` (or when tantivy is not installed).

Many processes may open one index at once: SQLite's WAL lets searches read while an ingest commits, and an
index directory the user cannot write is opened read-only (searches work, writes say why they cannot).
The model fingerprint of the vectors is kept in ``meta`` and written in the same transaction as them.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import numpy as np

from blendsearch._types import PathInput
from blendsearch.backends.base import Backend, ChannelResult, LexicalRequest, UpsertResult, VectorRequest
from blendsearch.backends.embedded import inventory, store
from blendsearch.backends.embedded.allowed import AllowedSet, AllowedSets
from blendsearch.backends.embedded.fts5 import fts5_ranked
from blendsearch.backends.embedded.lexical import (
    COMMIT_INTERVAL,
    LEXICAL_MODES,
    LexicalMode,
    Row,
    TantivyLexicalIndex,
    load_tantivy,
    profile_of,
)
from blendsearch.backends.embedded.lexical_rows import StoreRows, ids_of, indexed_rows
from blendsearch.backends.embedded.records import (
    DOC_COLUMNS,
    document_from_row,
    insert_documents,
    prepare_documents,
)
from blendsearch.backends.embedded.sql import select_in
from blendsearch.backends.embedded.vector_rows import (
    cache_file,
    cache_header,
    count_field,
    graph_of,
    load_field,
    load_field_hnsw,
    share_ids,
)
from blendsearch.backends.embedded.vectors import (
    EF_SEARCH,
    EXACT_SUBSET_MAX,
    FieldVectors,
    HnswIndex,
    exact_search,
)
from blendsearch.documents import StoredDocument
from blendsearch.exceptions import BackendError, BlendsearchError, ConfigError, IndexError_, map_exceptions
from blendsearch.filters import Filter

__all__ = ["EmbeddedBackend", "VectorSearchMode"]

VectorSearchMode = Literal["auto", "exact", "hnsw"]
_MODES = ("auto", "exact", "hnsw")

_ErrorMap = Mapping[type[BaseException], type[BlendsearchError]]
_STORAGE_ERRORS: _ErrorMap = {sqlite3.Error: IndexError_}
_SEARCH_ERRORS: _ErrorMap = {sqlite3.Error: BackendError}


class EmbeddedBackend(Backend):
    """SQLite + FTS5 + faiss in one index directory; see docs/embedded-backend.md.

    ``vector_search``: ``exact`` scans every vector (fast below a few hundred thousand), ``hnsw`` uses a
    faiss HNSW graph (``hnsw_m`` links per node, ``ef_search`` candidates per query), ``auto`` uses
    HNSW once a field has ``ann_threshold`` vectors.

    ``read_only``: None opens read-only exactly when the directory (or the store file) is not writable.
    ``verify`` runs ``PRAGMA quick_check`` on open (callers pass it after a crash, or when asked);
    ``require_store`` makes a missing or zero-byte store an error instead of a new empty index.
    ``lexical_fields``: the field boosts of the lexical channels to index for from the first write.
    """

    def __init__(
        self,
        path: PathInput,
        *,
        vector_search: VectorSearchMode = "auto",
        ann_threshold: int = 200_000,
        hnsw_m: int = 32,
        ef_search: int = EF_SEARCH,
        lexical: LexicalMode = "auto",
        lexical_fields: Sequence[Mapping[str, float]] = (),
        read_only: bool | None = None,
        verify: bool = False,
        require_store: bool = False,
    ) -> None:
        if vector_search not in _MODES:
            raise ConfigError(f"unknown vector_search {vector_search!r}; valid: {', '.join(_MODES)}")
        if ann_threshold < 1 or hnsw_m < 2 or ef_search < 1:
            raise ConfigError("ann_threshold and ef_search must be >= 1, hnsw_m >= 2")
        if lexical not in LEXICAL_MODES:
            raise ConfigError(f"unknown lexical {lexical!r}; valid: {', '.join(LEXICAL_MODES)}")
        #: ``tantivy``: Lucene BM25 (:mod:`.lexical`); ``fts5``: SQLite's ``bm25()``; ``auto``: tantivy when
        #: importable, else FTS5.
        self.lexical: LexicalMode = lexical
        #: The field boosts of the lexical channels searched: tantivy indexes their combined fields from the
        #: first write (other boosts get theirs on first search, by a rebuild).
        self.lexical_fields = [dict(fields) for fields in lexical_fields]
        if lexical == "tantivy":
            load_tantivy(required=True)
        self.path = Path(path)
        self.vector_search: VectorSearchMode = vector_search
        self.ann_threshold = ann_threshold
        self.hnsw_m = hnsw_m
        self.ef_search = ef_search
        opened = store.open_store(self.path, read_only=read_only, verify=verify, require_store=require_store)
        self._conn, self.read_only, self._store_id = opened.conn, opened.read_only, opened.store_id
        #: Whether this open ran ``PRAGMA quick_check`` (and it passed).
        self.integrity_checked = opened.integrity_checked
        self._model: tuple[str, int] | None = None
        self._wrote = False
        self._lock = threading.RLock()
        self._closed = False
        self._vectors: dict[tuple[str, int], FieldVectors] = {}
        self._vocabulary: tuple[int, dict[str, int]] | None = None
        self._field_kinds: tuple[int, dict[str, bool]] | None = None
        self._allowed_sets = AllowedSets()
        self._tantivy: TantivyLexicalIndex | None | Literal[False] = None  # False: FTS5 only
        #: Commits tantivy writes left pending ``COMMIT_INTERVAL`` after the last one (see :meth:`flush`).
        self._commit_timer: threading.Timer | None = None

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def store_id(self) -> str:
        """The random id the store got when it was created (a re-created store has another)."""
        return self._store_id

    def record_model(self, fingerprint: str, dim: int) -> None:
        """The model of the vectors upserted from now on, recorded in the same transaction as them."""
        self._model = (fingerprint, int(dim))

    def vector_model(self) -> tuple[str | None, int | None]:
        """(fingerprint, dim) of the model the stored vectors come from; (None, None) if not recorded."""
        with self._reading(_STORAGE_ERRORS) as conn:
            fingerprint = store.get_meta(conn, "model_fingerprint")
            dim = store.get_meta(conn, "model_dim")
        return fingerprint, int(dim) if dim else None

    def _meta(self, key: str) -> str:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else ""

    def _generation(self) -> int:
        return int(self._meta("generation") or 0)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock; it bumps the generation so derived data is rebuilt."""
        if self.read_only:
            raise IndexError_(f"{self.path} is opened read-only (the folder is not writable); cannot write")
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
            self._wrote = True

    @contextmanager
    def _reading(self, errors: _ErrorMap) -> Iterator[sqlite3.Connection]:
        with self._lock, map_exceptions(errors):
            yield self._conn

    def _keys(self, conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, int]:
        return dict(select_in(conn, "SELECT id, doc_key FROM docs WHERE id IN", ids))

    def _ids_of(self, conn: sqlite3.Connection, keys: Sequence[int]) -> dict[int, str]:
        return ids_of(conn, keys)

    # -- writing -------------------------------------------------------------------------------
    def upsert(self, documents: Sequence[StoredDocument]) -> list[UpsertResult]:
        """Insert or replace in one transaction; a document with a malformed vector is rejected alone."""
        prepared, results = prepare_documents(documents)
        if not prepared:
            return results
        now = time.time()
        with self._transaction() as conn:
            before = self._generation()
            self._lexical_hold(before)
            ids = list(prepared)
            existing = self._keys(conn, ids)
            old = [(key,) for key in existing.values()]
            indexed = self._indexed_texts(conn, [key for (key,) in old])
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
            lexical_rows = insert_documents(conn, prepared, keys, now)
            if self._model is not None and any(dim is not None for *_, dim in prepared.values()):
                conn.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [("model_fingerprint", self._model[0]), ("model_dim", str(self._model[1]))],
                )
        # A document whose indexed text and filter values did not change is left alone in tantivy, whose
        # statistics count a replaced document until segments merge (as Lucene's do): re-ingesting scores
        # like before.
        changed = [
            r for r in lexical_rows if r[0] not in indexed or indexed[r[0]] != (tuple(r[1]), frozenset(r[2]))
        ]
        self._lexical_written(changed, [], before)
        return results

    def delete(self, ids: Iterable[str]) -> int:
        unique = list(dict.fromkeys(ids))
        if not unique:
            return 0
        with self._transaction() as conn:
            before = self._generation()
            self._lexical_hold(before)
            keys = [(key,) for key in self._keys(conn, unique).values()]
            conn.executemany("DELETE FROM fts WHERE rowid = ?", keys)
            conn.executemany("DELETE FROM attrs WHERE doc_key = ?", keys)
            conn.executemany("DELETE FROM docs WHERE doc_key = ?", keys)
        self._lexical_written([], [key for (key,) in keys], before)
        return len(keys)

    def flush(self) -> None:
        """Every upsert/delete already commits to SQLite; this commits the tantivy writes still pending,
        so every other process searches them once it returns, and moves the WAL into the main file."""
        if self.read_only:
            return
        with self._reading(_STORAGE_ERRORS) as conn:
            self._stop_commit_timer()
            if self._tantivy:
                self._tantivy.commit()
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    # -- reading -------------------------------------------------------------------------------
    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        with self._reading(_STORAGE_ERRORS) as conn:
            return dict(select_in(conn, "SELECT id, content_hash FROM docs WHERE id IN", list(ids)))

    def get(self, ids: Sequence[str], with_vectors: bool = False) -> list[StoredDocument]:
        columns = DOC_COLUMNS + (", image_vector, text_vector" if with_vectors else "")
        with self._reading(_STORAGE_ERRORS) as conn:
            sql = f"SELECT {columns} FROM docs WHERE id IN"
            rows = {row[0]: row for row in select_in(conn, sql, list(dict.fromkeys(ids)))}
        return [document_from_row(rows[i]) for i in ids if i in rows]

    def present_fields(self, ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """Flags read from the FTS row (the indexed text) and the vector columns' NULLs, not documents."""
        with self._reading(_STORAGE_ERRORS) as conn:
            return inventory.present_fields(conn, ids)

    def count(self) -> int:
        with self._reading(_STORAGE_ERRORS) as conn:
            return int(conn.execute("SELECT count(*) FROM docs").fetchone()[0])

    def count_with_user_text(self) -> int:
        with self._reading(_STORAGE_ERRORS) as conn:
            return inventory.count_with_user_text(conn)

    def iter_ids(self) -> Iterable[str]:
        with self._reading(_STORAGE_ERRORS) as conn:
            # The covering id index is a fraction of the table (whose rows hold the vectors).
            rows = conn.execute("SELECT doc_key, id FROM docs INDEXED BY sqlite_autoindex_docs_1").fetchall()
        rows.sort()
        return [id_ for _, id_ in rows]

    def write_generation(self) -> int:
        """The store's ``generation``: every write transaction bumps it, in any process."""
        with self._reading(_STORAGE_ERRORS):
            return self._generation()

    def vocabulary(self) -> dict[str, int]:
        """Folded unstemmed words -> document frequency, from the stored text; cached per generation."""
        with self._reading(_STORAGE_ERRORS) as conn:
            generation = self._generation()
            if self._vocabulary is None or self._vocabulary[0] != generation:
                self._vocabulary = (generation, inventory.vocabulary(conn))
            return dict(self._vocabulary[1])

    def filter_field_kinds(self) -> dict[str, bool]:
        """The ``attrs`` keys and whether each has a number (see :func:`.inventory.filter_field_kinds`);
        cached per generation, as the vocabulary is."""
        with self._reading(_STORAGE_ERRORS) as conn:
            generation = self._generation()
            if self._field_kinds is None or self._field_kinds[0] != generation:
                self._field_kinds = (generation, inventory.filter_field_kinds(conn))
            return dict(self._field_kinds[1])

    # -- searching -----------------------------------------------------------------------------
    def _lexical_index(self) -> TantivyLexicalIndex | None:
        """The tantivy index when this backend uses one (``lexical``), created on first use."""
        if self._tantivy is None:
            module = load_tantivy(required=self.lexical == "tantivy") if self.lexical != "fts5" else None
            self._tantivy = (
                False
                if module is None
                else TantivyLexicalIndex(
                    self.path / "lexical-tantivy",
                    self._store_id,
                    module,
                    [profile_of(fields) for fields in self.lexical_fields],
                )
            )
        return self._tantivy or None

    def _lexical_hold(self, generation: int) -> None:
        """Take tantivy's writer before a store write (see :meth:`TantivyLexicalIndex.hold`)."""
        index = self._lexical_index()
        if index is not None and index.hold(generation):
            self._arm_commit_timer()  # releases the lock even when the SQLite write fails

    def _lexical_written(self, rows: Sequence[Row], deleted: Sequence[int], before: int) -> None:
        """Apply a committed write to the tantivy index; one that was not current is rebuilt from SQLite."""
        index = self._lexical_index()
        if index is not None:
            with self._lock:
                if not index.apply(rows, deleted, before, before + 1):
                    with self._reading(_STORAGE_ERRORS) as conn:
                        index.ready(self._generation(), StoreRows(conn))
                if index.pending:
                    self._arm_commit_timer()

    def _arm_commit_timer(self) -> None:
        if self._commit_timer is None:
            self._commit_timer = threading.Timer(COMMIT_INTERVAL, self._commit_pending)
            self._commit_timer.daemon = True
            self._commit_timer.start()

    def _stop_commit_timer(self) -> None:
        """Cancel the timer (under the lock): the caller commits now."""
        if self._commit_timer is not None:
            self._commit_timer.cancel()
            self._commit_timer = None

    def _commit_pending(self) -> None:
        """The timer's commit: writes that stopped coming reach other processes within the interval even
        when nobody calls :meth:`flush` (a caller of :meth:`upsert` alone)."""
        with self._lock:
            self._commit_timer = None
            if self._closed or not self._tantivy:
                return
            self._tantivy.commit()

    def _indexed_texts(
        self, conn: sqlite3.Connection, keys: Sequence[int]
    ) -> dict[int, tuple[tuple[str, ...], frozenset[tuple[str, str, int | float | None, int]]]]:
        """The texts and filter values of documents about to be replaced (only needed to keep tantivy in
        step)."""
        if not keys or self._lexical_index() is None:
            return {}
        return indexed_rows(conn, keys)

    def search_lexical(self, request: LexicalRequest) -> ChannelResult:
        """Lucene's BM25 scoring the fields as one (BM25F) on the tantivy index (see :mod:`.lexical`), else
        FTS5's ``bm25()`` (``lexical="fts5"``)."""
        index = self._lexical_index()
        if index is None:
            return self._search_fts5(request)
        profile = profile_of(request.fields)
        if not profile:
            return ChannelResult(channel=request.channel)
        with self._reading(_SEARCH_ERRORS) as conn:
            generation = self._generation()
            source = None if self.read_only else StoreRows(conn)
            if not index.ready(generation, source, profile):
                if self.lexical == "tantivy":
                    raise BackendError(f"the tantivy index in {self.path} is stale and cannot be rebuilt")
                return self._search_fts5(request)
            allowed = None
            if request.filters:  # indexed terms; the allowed key set only when the index cannot say
                allowed = index.filter_query(request.filters)
                if allowed is None:  # built per search: a rebuild (a new profile) changes the schema
                    allowed = index.keys_query(self._allowed(conn, request.filters).keys(conn))
            clauses = [(clause.text, clause.weight) for clause in request.clauses]
            ranked = index.search(profile, clauses, request.k, allowed)
            ids = self._ids_of(conn, [key for key, _ in ranked])
        found = [(ids[key], score) for key, score in ranked if key in ids]
        best = sorted(found, key=lambda kv: (-kv[1], kv[0]))[: request.k]
        return ChannelResult(channel=request.channel, ids=[i for i, _ in best], scores=[s for _, s in best])

    def _search_fts5(self, request: LexicalRequest) -> ChannelResult:
        """BM25 (FTS5 ``bm25()`` with the field boosts as column weights), one SQL query per clause."""
        with self._reading(_SEARCH_ERRORS) as conn:
            allowed = self._allowed(conn, request.filters).table if request.filters else None
            ranked = fts5_ranked(conn, request, allowed)
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

    def _allowed(self, conn: sqlite3.Connection, filters: list[Filter]) -> AllowedSet:
        """The documents passing the filters (see :meth:`.allowed.AllowedSets.get`)."""
        return self._allowed_sets.get(conn, filters, self._generation())

    def _field_vectors(self, conn: sqlite3.Connection, field: str, dim: int) -> FieldVectors:
        """The field's vectors of dimension ``dim``, reloaded when the store changed: one field at a time,
        and one that HNSW will search held once, in its graph (:func:`.vector_rows.load_field_hnsw`)."""
        generation = self._generation()
        cached = self._vectors.get((field, dim))
        if cached is not None and cached.generation == generation:
            return cached
        self._vectors = {k: v for k, v in self._vectors.items() if v.generation == generation}
        count = count_field(conn, field, dim)
        auto = self.vector_search == "auto" and count >= self.ann_threshold
        if count and (self.vector_search == "hnsw" or auto):  # as :meth:`search_vector` decides
            header = cache_header(self._store_id, generation, field, dim, count, self.hnsw_m)
            cache = cache_file(self.path, field)
            vectors = load_field_hnsw(
                conn, field, generation, dim, count, cache=cache, header=header, hnsw_m=self.hnsw_m
            )
        else:
            vectors = load_field(conn, field, generation, dim, count)
        share_ids(vectors, self._vectors.values())
        self._vectors[(field, dim)] = vectors
        return vectors

    def _hnsw(self, vectors: FieldVectors, field: str) -> HnswIndex:
        """The HNSW graph of these vectors: attached when they were loaded; else (the search mode changed
        since) :func:`.vector_rows.graph_of` their matrix."""
        if vectors.hnsw is None:
            dim = int(vectors.matrix.shape[1])
            header = cache_header(self._store_id, vectors.generation, field, dim, vectors.size, self.hnsw_m)
            cache = cache_file(self.path, field)
            vectors.hnsw = graph_of(vectors.matrix, cache=cache, header=header, hnsw_m=self.hnsw_m)
        return vectors.hnsw

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._vectors.clear()
            self._allowed_sets.clear()
            self._vocabulary = None
            self._stop_commit_timer()
            if self._tantivy:
                self._tantivy.close()
            if self._wrote:  # a search-only connection leaves the file as it found it
                try:
                    self._conn.execute("PRAGMA optimize")
                except sqlite3.Error:
                    pass
            self._conn.close()

    def __repr__(self) -> str:
        return f"EmbeddedBackend({str(self.path)!r}, vector_search={self.vector_search!r})"
