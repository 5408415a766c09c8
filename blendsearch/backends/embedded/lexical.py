"""Lucene's BM25 for the embedded backend: a tantivy index derived from the SQLite store.

FTS5's ``bm25()`` gives a word found in more than half the documents an IDF of about 0
(``log((N - n + 0.5) / (n + 0.5))`` clamped to 1e-6), so on a fashion catalogue "men" and "women" score
nothing, and it scores every matching row before sorting. tantivy scores like Lucene (OpenSearch,
Elasticsearch) and finds the top k with block-max WAND instead of scoring every match.

A lexical channel's fields are scored as one combined field, BM25F (:mod:`blendsearch.backends.bm25f`,
what :class:`~blendsearch.backends.memory.MemoryBackend` computes and the cluster backends send as
``combined_fields``): tantivy holds, per set of integer field weights a search has used (a *profile*),
one field where each document's tokens of field ``f`` are repeated ``w_f`` times. tantivy's BM25 on it,

    idf = ln(1 + (N - n + 0.5) / (n + 0.5))
    score(term) = clause weight * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))

with k1 = 1.2, b = 0.75, is then exactly BM25F: tf and dl are the weighted sums over the fields, n counts
the documents with the term in any of them, N every document. (Lucene >= 8 drops the constant ``k1 + 1``
factor; ranks are the same, raw scores 2.2x smaller.) A profile not yet indexed is added by a rebuild on
its first search (once per configuration: the marker records the profiles, and writes keep them all).

Text is analysed by :func:`blendsearch.text.analyze` (fold, split, Porter stem) and indexed with
tantivy's whitespace tokenizer, so terms are exactly FTS5's and the cluster analyzers'.

SQLite stays the durable record (the FTS5 table holds the indexed texts): the tantivy folder is a cache,
written in the same ingest batches (:meth:`TantivyLexicalIndex.apply`) and rebuilt from SQLite whenever
the store generation it records differs from the store's and no live process holds its writer (a crash
between the two commits, an index built before this module), like the faiss vector cache. Other
processes see the writes once committed: at most ``COMMIT_INTERVAL`` after they reach SQLite, at once
after a flush (``docs/embedded-backend.md``, "Other processes see writes"); each search reloads the
searcher when the recorded generation moved.

Filters are indexed too (:mod:`.lexical_filters`): a filtered search is a term/range query, not a set
of allowed keys. Top k returns the k best and at most ``TIE_MARGIN`` more, so documents tied with the
k-th score are ordered by id only among those fetched: ties beyond the margin stay in tantivy's order
(index order, about insertion order), and cost does not grow with the number of tied documents
(catalogues repeat titles).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from blendsearch.backends.bm25f import field_weights
from blendsearch.backends.embedded.lexical_filters import (
    FILTER_FIELD,
    AttrRow,
    add_filter_terms,
    filter_query,
    numeric_field,
)
from blendsearch.exceptions import MissingDependencyError
from blendsearch.filters import RangeFilter, TermFilter, TermsFilter
from blendsearch.search_fields import LEXICAL_FIELDS
from blendsearch.text import analyze

__all__ = [
    "COMMIT_INTERVAL",
    "LEXICAL_MODES",
    "TIE_MARGIN",
    "LexicalMode",
    "LexicalSource",
    "Profile",
    "Row",
    "TantivyLexicalIndex",
    "load_tantivy",
    "profile_of",
]

LexicalMode = Literal["auto", "tantivy", "fts5"]
LEXICAL_MODES = ("auto", "tantivy", "fts5")

FOLDER = "lexical-tantivy"
MARKER = "blendsearch-lexical.json"
#: Bumped when the schema or the analysis changes: an index of another version is rebuilt.
FORMAT_VERSION = 3
#: How many documents past the k-th a search fetches, so ties at the cut are ordered by id.
TIE_MARGIN = 64
_KEY = "doc_key"
#: Writer memory: tantivy needs >= 15 MB per thread; one thread, ingest batches are small.
_HEAP = 64_000_000
#: A tantivy commit costs ~90 ms (fsyncs), so ingest batches are committed together: at most once per
#: ``COMMIT_INTERVAL`` seconds while writes keep coming (what other processes lag by during an ingest),
#: the backend's timer commits the rest that long after the last write, and a search, ``flush()`` and
#: close commit at once; also once this many documents are pending (what a crash makes a rebuild redo).
COMMIT_INTERVAL = 1.0
_COMMIT_EVERY = 50_000
#: How long a search waits for another process's lock when it cannot search without a rebuild (no index,
#: a missing profile): a writer holds it about ``COMMIT_INTERVAL``, a rebuild a few seconds.
_LOCK_WAIT = 60.0

#: (doc_key, the texts of LEXICAL_FIELDS in order as stored in the FTS5 table, its ``attrs`` rows).
Row = tuple[int, Sequence[str], Sequence[AttrRow]]
#: Integer BM25F weights of a channel's fields (:func:`~blendsearch.backends.bm25f.field_weights`), sorted.
Profile = tuple[tuple[str, int], ...]


class LexicalSource(Protocol):
    """What a rebuild reads from the store: the rows, and the attribute keys holding numbers."""

    def rows(self) -> Iterable[Row]: ...

    def numeric_keys(self) -> list[str]: ...


def profile_of(fields: Mapping[str, float]) -> Profile:
    """The profile a request's field boosts are scored with (lexical fields only)."""
    weights = field_weights({name: boost for name, boost in fields.items() if name in LEXICAL_FIELDS})
    return tuple(sorted(weights.items()))


def _field_name(profile: Profile) -> str:
    return "bm25f_" + "_".join(f"{name}{weight}" for name, weight in profile)


def load_tantivy(required: bool) -> ModuleType | None:
    """The tantivy module; None when missing and not ``required``, else an ImportError with the pip hint."""
    try:
        import tantivy
    except ImportError as exc:
        if required:
            raise MissingDependencyError(
                "tantivy", purpose="lexical='tantivy' (Lucene BM25 in the embedded backend)"
            ) from exc
        return None
    return tantivy


def _analysed(text: str) -> str:
    return " ".join(analyze(text))


class TantivyLexicalIndex:
    """The tantivy index in ``folder`` of one SQLite store (``store_id``), at a recorded generation.

    Not thread-safe by itself: the backend calls it under its lock.
    """

    def __init__(
        self, folder: Path, store_id: str, tantivy: ModuleType, profiles: Sequence[Profile] = ()
    ) -> None:
        self.folder = folder
        #: Profiles indexed from the start (the configured channels'), so the first search rebuilds nothing.
        self.initial = tuple(dict.fromkeys(profile for profile in profiles if profile))
        self.store_id = store_id
        self._tantivy = tantivy
        self._index: Any = None
        self._schema: Any = None
        self._loaded: int | None = None
        #: The profiles and numeric keys of the index searched (its schema).
        self._searched: tuple[tuple[Profile, ...], tuple[str, ...]] = ((), ())
        #: The open writer's uncommitted batches: the generation they bring the index to, the marker's
        #: generation when the writer opened (another process rebuilding changes it), documents pending.
        self._writer: Any = None
        self._pending = 0
        self._base: int | None = None
        self._pending_docs = 0
        #: time.monotonic() of the last commit (0: none yet, so a first write is committed at once).
        self._committed_at = 0.0
        #: The lock file's descriptor while this process holds the lock (see :meth:`_lock`).
        self._lock_fd: int | None = None
        #: The profiles of the index the open writer writes to.
        self._profiles: tuple[Profile, ...] = ()
        #: Attribute key -> position of its float field, in the index searched / written.
        self._numeric: dict[str, int] = {}

    # -- state ----------------------------------------------------------------------------------
    def generation(self) -> int | None:
        """The store generation the folder holds, or None when missing, of another store or version."""
        marker = self._marker()
        return None if marker is None else marker[0]

    def _marker(self) -> tuple[int, tuple[Profile, ...], dict[str, int]] | None:
        """(generation, profiles, numeric keys) the folder records; None when missing, of another store or
        version."""
        try:
            data = json.loads((self.folder / MARKER).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        if data.get("format_version") != FORMAT_VERSION or data.get("store_id") != self.store_id:
            return None
        generation, profiles = data.get("generation"), data.get("profiles")
        numeric = data.get("numeric")
        if not isinstance(generation, int) or not isinstance(profiles, list) or not isinstance(numeric, list):
            return None
        try:
            held = tuple(tuple((str(n), int(w)) for n, w in p) for p in profiles)
        except (TypeError, ValueError):
            return None
        return generation, held, {str(key): position for position, key in enumerate(numeric)}

    def _write_marker(
        self, folder: Path, generation: int, profiles: Sequence[Profile], numeric: Mapping[str, int]
    ) -> None:
        marker = {
            "format_version": FORMAT_VERSION,
            "store_id": self.store_id,
            "generation": generation,
            "profiles": [list(map(list, profile)) for profile in profiles],
            "numeric": sorted(numeric, key=numeric.__getitem__),
        }
        temporary = folder / (MARKER + ".tmp")
        temporary.write_text(json.dumps(marker))
        temporary.replace(folder / MARKER)

    def _new_schema(self, profiles: Sequence[Profile], numeric: Mapping[str, int]) -> Any:
        builder = self._tantivy.SchemaBuilder()
        for profile in profiles:
            builder.add_text_field(_field_name(profile), tokenizer_name="whitespace", index_option="freq")
        builder.add_unsigned_field(_KEY, indexed=True, fast=True)
        builder.add_text_field(FILTER_FIELD, tokenizer_name="raw", index_option="basic")
        for position in numeric.values():
            builder.add_float_field(numeric_field(position), fast=True)
        return builder.build()

    def _document(
        self,
        key: int,
        texts: Sequence[str],
        attrs: Sequence[AttrRow],
        profiles: Sequence[Profile],
        numeric: Mapping[str, int],
    ) -> Any:
        """The document of one row: per profile, each field's analysed text repeated by its weight; its
        filter terms and numbers."""
        doc = self._tantivy.Document()
        doc.add_unsigned(_KEY, int(key))
        add_filter_terms(doc, attrs, numeric)
        analysed = {name: _analysed(text or "") for name, text in zip(LEXICAL_FIELDS, texts, strict=True)}
        for profile in profiles:
            parts = [" ".join([analysed[name]] * weight) for name, weight in profile if analysed[name]]
            if parts:
                doc.add_text(_field_name(profile), " ".join(parts))
        return doc

    def ready(self, generation: int, source: LexicalSource | None, profile: Profile | None = None) -> bool:
        """Whether searches (of ``profile``) can run on the index, rebuilt from ``source`` first when it is
        not current at ``generation`` or lacks the profile; False when it is stale and ``source`` is None
        (a read-only folder) or the rebuild failed: the caller then searches FTS5.

        While another process holds the lock (a writer about to commit, or a rebuild), a stale index is
        searched as it is: that process brings it up to date. With the lock free the index is rebuilt:
        its writer died with uncommitted writes. A missing index or profile waits for the lock."""
        self.commit()
        marker = self._marker()
        held, profiles, numeric = marker if marker is not None else (None, (), {})
        wanted = self._wanted(profiles, profile)
        usable = held == generation and (profile is None or profile in profiles)
        if not usable or (wanted != profiles and source is not None):
            if source is None:  # read-only: searched as it is when current and holding the profile
                return False
            needed = held is None or (profile is not None and profile not in profiles)
            if self._lock(wait=needed):
                try:  # under the lock: another process may just have brought it up to date
                    marker = self._marker()
                    held, profiles, numeric = marker if marker is not None else (None, (), {})
                    wanted = self._wanted(profiles, profile)
                    if held is None or held < generation or wanted != profiles:
                        numeric = self.rebuild(source, generation, wanted)
                        held, profiles = generation, wanted
                except (OSError, ValueError):
                    return False
                finally:
                    self._unlock()
            elif needed:
                return False
        schema = (profiles, tuple(numeric))
        if self._index is not None and self._loaded != held and self._searched != schema:
            self._index = None  # another process rebuilt it with another schema
        if self._index is None:
            try:
                self._index = self._tantivy.Index.open(str(self.folder))
            except (OSError, ValueError):
                return False
            self._schema = self._index.schema
        elif self._loaded != held:  # another process (or our writer) committed: a new searcher
            self._index.reload()
        self._loaded, self._searched = held, schema
        self._numeric = numeric
        return True

    def _wanted(self, profiles: tuple[Profile, ...], profile: Profile | None) -> tuple[Profile, ...]:
        """The profiles the index should hold: those it has, the configured ones, the one searched."""
        extra = [p for p in (*self.initial, profile) if p is not None and p not in profiles]
        return (*profiles, *dict.fromkeys(extra))

    def _lock(self, wait: bool) -> bool:
        """Take the folder's lock (a ``flock`` beside it, released when the process dies): held by the
        writer from before its SQLite write until its tantivy commit, and by a rebuild. False when busy
        (after ``_LOCK_WAIT`` seconds with ``wait``) or the folder cannot be locked."""
        if self._lock_fd is not None:
            return True
        try:
            fd = os.open(self.folder.with_name(FOLDER + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return False
        deadline = time.monotonic() + (_LOCK_WAIT if wait else 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.01)
                continue
            self._lock_fd = fd
            return True

    def _unlock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # releases the flock

    # -- writing --------------------------------------------------------------------------------
    def rebuild(self, source: LexicalSource, generation: int, profiles: Sequence[Profile]) -> dict[str, int]:
        """Index every row into a fresh folder, then swap it in (a crash leaves the old or no folder);
        returns the numeric keys' positions. The caller holds the lock (:meth:`ready`)."""
        building = self.folder.with_name(f"{FOLDER}.building-{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        numeric = {key: position for position, key in enumerate(sorted(source.numeric_keys()))}
        schema = self._new_schema(profiles, numeric)
        index = self._tantivy.Index(schema, path=str(building))
        writer = index.writer(heap_size=_HEAP, num_threads=1)
        for key, texts, attrs in source.rows():
            writer.add_document(self._document(key, texts, attrs, profiles, numeric))
        writer.commit()
        writer.wait_merging_threads()
        self._write_marker(building, generation, profiles, numeric)
        self._committed_at = time.monotonic()
        writer, self._writer = self._writer, None  # (the caller holds the lock: ours is never open here)
        if writer is not None:
            writer.rollback()
        self._index = self._schema = self._loaded = None
        retired = self.folder.with_name(f"{FOLDER}.retired-{os.getpid()}")
        if self.folder.exists():
            self.folder.rename(retired)
        building.rename(self.folder)
        shutil.rmtree(retired, ignore_errors=True)
        return numeric

    def apply(self, upserts: Sequence[Row], deletes: Sequence[int], before: int, after: int) -> bool:
        """Add one committed store write (generation ``before`` -> ``after``) to the open writer; False
        when the index was not current at ``before`` or its writer is busy (the caller rebuilds)."""
        if self._writer is not None and self._pending != before:
            self.discard()  # another process wrote between our batches
        if self._writer is None and not self.hold(before):
            return False
        gone = [int(key) for key in [*deletes, *(key for key, *_ in upserts)]]
        if gone:  # by query: delete_documents_by_term takes a Python int for an i64, missing u64 terms
            stale = self._tantivy.Query.term_set_query(self._schema, _KEY, gone)
            self._writer.delete_documents_by_query(stale)
        for key, texts, attrs in upserts:
            self._writer.add_document(self._document(key, texts, attrs, self._profiles, self._numeric))
        self._pending = after
        self._pending_docs += len(upserts) + len(deletes)
        if self._pending_docs >= _COMMIT_EVERY or time.monotonic() - self._committed_at >= COMMIT_INTERVAL:
            self.commit()
        return True

    def hold(self, generation: int) -> bool:
        """Open the writer (taking tantivy's lock) on an index current at ``generation``, unless open.

        The backend calls it before its SQLite transaction too, so while it writes no other process sees
        SQLite ahead of a folder whose lock is free (which it would take for a crashed writer's and
        rebuild); False when the index is not current or another process holds the lock."""
        if self._writer is not None:
            return self._pending == generation
        marker = self._marker()
        if marker is None or marker[0] != generation or not self._lock(wait=False):
            return False
        marker = self._marker()  # under the lock
        if marker is None or marker[0] != generation:
            self._unlock()
            return False
        self._profiles, self._numeric = marker[1], marker[2]
        schema = (marker[1], tuple(marker[2]))
        try:
            if self._index is None or self._searched != schema:  # none, or of another schema
                self._index = self._tantivy.Index.open(str(self.folder))
                self._schema = self._index.schema
                self._loaded, self._searched = None, schema
            self._writer = self._index.writer(heap_size=_HEAP, num_threads=1)
        except (OSError, ValueError):
            self._unlock()
            return False
        self._base = self._pending = generation
        self._pending_docs = 0
        return True

    @property
    def pending(self) -> bool:
        """Whether the open writer holds batches not yet committed (invisible to other processes)."""
        return self._writer is not None

    def commit(self) -> None:
        """Commit the open writer's batches and release its lock; dropped instead when another process
        rebuilt the folder meanwhile (the marker moved), which leaves it stale and rebuilt on search."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        self._committed_at = time.monotonic()
        try:
            if self.generation() != self._base:
                writer.rollback()
                return
            writer.commit()
            writer.wait_merging_threads()
            self._write_marker(self.folder, self._pending, self._profiles, self._numeric)
        except (OSError, ValueError):  # a cache: left stale, the next search takes the lock and rebuilds
            return
        finally:
            del writer  # tantivy's own lock, then ours
            self._unlock()
        self._index.reload()
        self._loaded = self._pending

    def discard(self) -> None:
        """Drop the open writer's uncommitted batches (the index is then stale and rebuilt)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.rollback()
            del writer
            self._unlock()

    # -- searching ------------------------------------------------------------------------------
    def filter_query(self, filters: Sequence[TermFilter | TermsFilter | RangeFilter]) -> Any | None:
        """The indexed-terms query of ``filters`` (scoring 0); None when the index cannot answer one of them
        (a range on a key without numbers at the last rebuild): then use :meth:`keys_query`."""
        return filter_query(self._tantivy, self._schema, filters, self._numeric)

    def keys_query(self, keys: npt.NDArray[np.int64]) -> Any:
        """A query matching the documents of ``keys`` and scoring 0 (the fallback of :meth:`filter_query`)."""
        tantivy = self._tantivy
        matching = tantivy.Query.term_set_query(self._schema, _KEY, [int(k) for k in keys.tolist()])
        return tantivy.Query.const_score_query(matching, 0.0)

    def search(
        self,
        profile: Profile,
        clauses: Sequence[tuple[str, float]],
        k: int,
        allowed: Any = None,
    ) -> list[tuple[int, float]]:
        """(doc_key, score) best first: the top ``k`` and up to ``TIE_MARGIN`` more (the caller orders
        ties by id and keeps k; see the module docstring).

        ``profile`` must be indexed (:meth:`ready`); ``clauses`` are (text, weight); ``allowed`` a
        :meth:`filter_query` or :meth:`keys_query` the documents must match.
        """
        tantivy = self._tantivy
        should = tantivy.Occur.Should
        field = _field_name(profile)
        parts = []
        for text, weight in clauses:
            if weight <= 0 or not profile:
                continue
            for term in dict.fromkeys(analyze(text)):
                query = tantivy.Query.term_query(self._schema, field, term, index_option="freq")
                if weight != 1.0:
                    query = tantivy.Query.boost_query(query, weight)
                parts.append((should, query))
        if not parts or k < 1:
            return []
        query = tantivy.Query.boolean_query(parts)
        if allowed is not None:
            must = tantivy.Occur.Must
            query = tantivy.Query.boolean_query([(must, query), (must, allowed)])
        searcher = self._index.searcher()
        hits = searcher.search(query, k + TIE_MARGIN, count=False).hits
        if len(hits) > k:  # only the documents tied with the k-th matter past it
            cut = hits[k - 1][0]
            hits = hits[:k] + [hit for hit in hits[k:] if hit[0] >= cut]
        keys = searcher.fast_field_values(_KEY, [address for _, address in hits])
        return [(int(key), float(score)) for key, (score, _) in zip(keys, hits, strict=True)]

    def close(self) -> None:
        self.commit()
        self._index = None
        self._schema = None
        self._loaded = None
