"""The Engine: the library API that the CLI and application code share.

    with Engine.open("shop-index", config) as engine:
        engine.ingest("products.csv", rejects="rejects.jsonl")
        men = TermFilter(field="gender", value="Men")
        result = engine.search(HybridQuery(text="navy slacks", filters=[men]))

An index directory holds ``blendsearch.json`` (format version, the EngineConfig it was built with, the
model fingerprint of its vectors; read, written and turned into a backend by :mod:`blendsearch.index_dir`),
the embedded store, and ``calibration.json`` once fitted. With a cluster backend (``config.backend`` URL)
the directory holds only that local state. The engine is the façade: what an ingest reads is
:mod:`blendsearch.ingest.source`, ranking and paging a run is :mod:`blendsearch.results`.

Many processes may use one index at once. ``blendsearch.json`` is written only when it changes, and
atomically, so opening an index to search writes nothing (a read-only index directory searches). One
ingest runs at a time (``ingest.lock``; a second waits for it). The embedded store records the model
fingerprint in the same transaction as the vectors, so a killed ingest never leaves vectors without it;
an ingest that did not finish is detected on the next open, which then checks the store's integrity.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from blendsearch._types import ImageInput, PathInput
from blendsearch.backends.base import Backend
from blendsearch.calibration.model import Calibration, load_calibration
from blendsearch.config import EngineConfig, SearchSettings
from blendsearch.documents import Document, StoredDocument
from blendsearch.encoders.base import Encoder
from blendsearch.exceptions import ConfigError, EncoderError, MissingDependencyError
from blendsearch.filters import GENERATED_FIELDS, check_filters
from blendsearch.index_dir import INDEX_FILE as INDEX_FILE
from blendsearch.index_dir import IndexInfo, adopt_store_model, open_index, read_info, write_info
from blendsearch.index_state import IngestLock
from blendsearch.ingest.pipeline import IngestProgress, IngestSummary, ingest_items
from blendsearch.query.feedback import retrieve
from blendsearch.query.hybrid import QueryRun, effective_settings, plan_requests, unseen_candidates
from blendsearch.query.limits import check_query_size
from blendsearch.query.models import HybridQuery, SearchResult
from blendsearch.query.profiles import profile_for, resolve_fusion
from blendsearch.query.ranked import RankedCandidates
from blendsearch.results import facet_counts, page_result, rank_run

if TYPE_CHECKING:
    from blendsearch.expansion import Expander, Expansion

__all__ = ["Engine", "IndexStats"]

logger = logging.getLogger("blendsearch")


class IndexStats(BaseModel):
    """What ``blendsearch stats`` shows."""

    index: str
    backend: str
    documents: int
    model: str | None
    model_fingerprint: str | None
    dim: int | None
    calibrated: bool
    vocabulary_size: int
    #: Products with no catalogue text (indexed from their image alone), as a share; None: not counted.
    image_only_share: float | None = None
    #: The blend text queries use: "profile <name>" (``fusion_profile="auto"``), "fixed", or "own settings
    #: (not counted)" when the index is empty or its backend cannot count its image-only share.
    fusion: str = "fixed"


class Engine:
    """Hybrid search over one catalogue index. Use :meth:`open`; close it (or use ``with``) when done."""

    def __init__(
        self,
        index_dir: Path,
        config: EngineConfig,
        backend: Backend,
        encoder: Encoder | None,
        info: IndexInfo,
    ) -> None:
        self.index_dir = index_dir
        self.config = config
        self.backend = backend
        self._encoder = encoder
        self._encoder_loaded = encoder is not None
        self._info = info
        #: The expander and the backend write generation whose vocabulary it was built on.
        self._expander: tuple[int | None, Expander] | None = None
        #: The write generation and the image-only share counted at it (None: unknown or empty).
        self._image_only: tuple[int | None, float | None] | None = None
        self._calibration: Calibration | None = None
        self._calibration_loaded = False
        self._notices: list[str] = []
        #: Whether :meth:`open` made the backend from the config (so its store belongs to this index).
        self._own_backend = False
        #: ``blendsearch.json`` as last read or written, so it is rewritten only when it would change.
        self._saved_info: str | None = None

    # -- opening ---------------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        index_dir: PathInput,
        config: EngineConfig | None = None,
        *,
        encoder: Encoder | None = None,
        backend: Backend | None = None,
        verify: bool = False,
    ) -> Engine:
        """Open (or create) an index. An explicit ``config`` replaces the stored one and is saved.

        Opening an existing index writes nothing unless ``config`` changes it. ``verify`` runs the store's
        integrity check (``PRAGMA quick_check``), which also runs by itself after a killed ingest.
        """
        path = Path(index_dir)
        opened = open_index(path, config, backend, verify=verify)
        engine = cls(path, opened.info.config, opened.backend, encoder, opened.info)
        engine._own_backend = opened.own_backend
        engine._saved_info = opened.saved
        if opened.crashed:
            engine._notice(
                f"the last ingest into {path} did not finish (killed?); the store passed its integrity "
                "check: run that ingest again to complete it (committed items are skipped)"
            )
        if opened.changed:
            engine._write_info()
        return engine

    @staticmethod
    def stored_config(index_dir: PathInput) -> EngineConfig | None:
        """The config an index was built with (None when ``index_dir`` holds no index yet)."""
        info = read_info(Path(index_dir))
        return info.config if info is not None else None

    def _write_info(self) -> None:
        self._info.config = self.config
        self._saved_info = write_info(self.index_dir, self._info)

    def save_config(self) -> None:
        """Persist ``engine.config`` (e.g. after tuning) so later opens search with it."""
        self._write_info()

    # -- the model ---------------------------------------------------------------------------------------
    def _notice(self, message: str) -> None:
        if message not in self._notices:
            self._notices.append(message)
            logger.warning(message)

    @property
    def encoder(self) -> Encoder | None:
        """The model, loaded on first use; None (with one notice) when none is configured or loadable."""
        if not self._encoder_loaded:
            self._encoder_loaded = True
            spec = self.config.encoder.model
            if spec is None:
                self._notice(
                    "no model configured: searching with BM25 + metadata + colours only (no vectors)"
                )
            else:
                from blendsearch.encoders.registry import load_encoder

                try:
                    self._encoder = load_encoder(
                        spec, batch_size=self.config.encoder.batch_size, device=self.config.encoder.device
                    )
                    self._encoder.threads = self.config.encoder.threads
                except (EncoderError, MissingDependencyError) as exc:
                    self._notice(f"model {spec!r} could not be loaded ({exc}): searching without vectors")
        return self._encoder

    @property
    def notices(self) -> list[str]:
        """Engine-wide notices so far (no model, model mismatch, ...), each said once."""
        return list(self._notices)

    def _vectors_usable(self) -> bool:
        encoder = self.encoder
        if encoder is None:
            return False
        if not self.backend.supports_vectors:
            self._notice(f"{type(self.backend).__name__} serves no k-NN here: searching without vectors")
            return False
        stored = self._info.model_fingerprint
        if stored is not None and stored != encoder.fingerprint:
            self._notice(
                f"the index's vectors come from model {stored}, but the model now is {encoder.fingerprint}: "
                "vector channels are off until the catalogue is re-ingested with this model"
            )
            return False
        return stored is not None

    # -- writing -----------------------------------------------------------------------------------------
    def ingest(
        self,
        source: PathInput | Iterable[Document],
        *,
        rejects: PathInput | None = None,
        progress: Callable[[IngestProgress], None] | None = None,
        wait: bool = True,
    ) -> IngestSummary:
        """Ingest a catalogue file (JSONL, CSV, Parquet) or Documents; re-running skips unchanged items.

        One ingest runs into an index at a time: this one waits for a running one (with a notice), or with
        ``wait=False`` raises :class:`~blendsearch.exceptions.IndexBusyError`.
        """
        from blendsearch.backends.embedded import EmbeddedBackend
        from blendsearch.ingest.source import open_source

        config = self.config
        encoder = self.encoder
        opened = open_source(source, config, want_total=progress is not None)
        embedded = isinstance(self.backend, EmbeddedBackend)
        if embedded and encoder is not None:
            self.backend.record_model(encoder.fingerprint, encoder.dim)  # type: ignore[attr-defined]
        lock = IngestLock(self.index_dir, wait=wait, on_wait=self._notice)
        try:
            with lock:
                summary = ingest_items(
                    opened.items,
                    backend=self.backend,
                    encoder=encoder,
                    config=config,
                    image_source=opened.image_source,
                    rejects=rejects,
                    tag_vocabulary=opened.tag_vocabulary,
                    progress=progress,
                    total=opened.total,
                )
        finally:
            opened.image_source.close()
        if embedded:
            adopt_store_model(self.backend, self._info)
            if self._own_backend:
                self._info.store_id = self.backend.store_id  # type: ignore[attr-defined]
        elif encoder is not None and summary.written:
            self._info.model_fingerprint = encoder.fingerprint
            self._info.dim = encoder.dim
        self._info.config = self.config
        if self._info.model_dump_json(indent=2) != self._saved_info:
            self._write_info()
        summary.notices = list(self._notices)
        return summary

    def delete(self, ids: Iterable[str]) -> int:
        """Delete documents by id; returns how many existed."""
        removed = self.backend.delete(list(ids))
        self.backend.flush()
        return removed

    # -- reading -----------------------------------------------------------------------------------------
    def vocabulary(self) -> dict[str, int]:
        """Indexed words (folded, unstemmed) with document frequencies (the backend caches them until the
        index changes, a write by another process included)."""
        return self.backend.vocabulary()

    def image_only_share(self) -> float | None:
        """The share of stored products with no catalogue text (indexed from their image alone), counted
        again when the index changes; None when the backend cannot tell or the index is empty."""
        generation = self.backend.write_generation()
        cached = self._image_only  # one read: another thread may replace the attribute
        if cached is None or generation is None or cached[0] != generation:
            total, with_text = self.backend.count(), self.backend.count_with_user_text()
            share = None if not total or with_text is None else max(0.0, 1.0 - with_text / total)
            cached = self._image_only = (generation, share)
        return cached[1]

    def search_settings(self, query: HybridQuery | None = None) -> SearchSettings:
        """The settings ``query`` (a text query when None) runs with: the config's, whose blend under
        ``fusion_profile="auto"`` is the built-in profile of this index's kind for text queries
        (:mod:`blendsearch.query.profiles`)."""
        settings = self.config.search
        if settings.fusion_profile != "auto" or (query is not None and query.image is not None):
            return settings  # nothing to count: a query with an image keeps the settings' own blend
        return resolve_fusion(settings, self.image_only_share())

    @property
    def calibration(self) -> Calibration | None:
        """The fitted :class:`~blendsearch.calibration.Calibration`, or None."""
        if not self._calibration_loaded:
            self._calibration_loaded = True
            self._calibration = load_calibration(self.index_dir)
            self._drop_stale_fused_calibration()
        return self._calibration

    def _drop_stale_fused_calibration(self) -> None:
        """A fused model fitted on other features than this version computes is set aside with a notice
        (searches go on, with the vector calibration alone) instead of failing every search."""
        fused = getattr(self._calibration, "fused", None)
        if fused is not None and not fused.current:
            self._notice(
                "calibration.json's fused-score model was fitted with other features than this version "
                "computes: hits get no fused probability until `blendsearch calibrate` is run again"
            )
            self._calibration = self._calibration.model_copy(update={"fused": None})

    @calibration.setter
    def calibration(self, value: Calibration | None) -> None:
        self._calibration, self._calibration_loaded = value, True

    def _expand(self, query: HybridQuery, notices: list[str]) -> Expansion | None:
        """Clauses to search, text to embed and wording signals (for the fused calibration); None: no text."""
        text = (query.text or "").strip()
        if not text:
            return None
        enabled = self.config.search.expand if query.expand is None else query.expand is not False
        from blendsearch.expansion import Expander, unexpanded

        generation = self.backend.write_generation()
        built = self._expander  # one read: another thread may replace the attribute
        if built is None or generation is None or built[0] != generation:
            # Built on the backend's vocabulary and kept while the backend's write generation stays.
            built = self._expander = (generation, Expander(self.config.expansion, self.backend.vocabulary()))
        expander = built[1]
        if not enabled:  # the same as ``expand={"enabled": False}``: folded words, nothing added
            return unexpanded(text, expander.vocabulary)  # the vocabulary only counts known words
        overrides = query.expand if isinstance(query.expand, dict) else None
        expansion = expander.expand(text, overrides)
        notices.extend(expansion.notices)
        return expansion

    def _encode_query(
        self, query: HybridQuery, vector_text: str | None
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        encoder = self.encoder
        assert encoder is not None
        text_vector = image_vector = None
        if vector_text and encoder.supports_texts:
            text_vector = encoder.encode_texts([vector_text])[0]
        if query.image is not None and encoder.supports_images:
            from blendsearch.ingest.images import open_image

            image_vector = encoder.encode_images([open_image(query.image)])[0]
        return text_vector, image_vector

    def plan(self, query: HybridQuery | str) -> QueryRun:
        """Expand and encode a query into its channel requests, without sending them (``results`` empty).

        The same plan can be sent to several backends (the backend benchmark does) or run later.
        """
        query = HybridQuery(text=query) if isinstance(query, str) else query
        try:
            settings = effective_settings(self.search_settings(query), query)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        check_query_size(query.text, settings)
        notices: list[str] = self._filter_notices(query) if query.filters else []
        timings: dict[str, float] = {}
        started = time.perf_counter()
        expansion = self._expand(query, notices)
        clauses, vector_text = (list(expansion.clauses), expansion.vector_text) if expansion else ([], None)
        timings["expand"] = (time.perf_counter() - started) * 1000
        vectors = self._vectors_usable()
        if query.image is not None and not vectors:
            notices.append("image query ignored: this index has no usable image vectors")
        text_vector = image_vector = None
        started = time.perf_counter()
        if vectors:
            text_vector, image_vector = self._encode_query(query, vector_text)
        timings["encode"] = (time.perf_counter() - started) * 1000
        try:
            requests = plan_requests(query, settings, clauses, text_vector, image_vector, vectors)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        if not requests and (clauses or (query.image is not None and vectors)):
            weighted = ", ".join(f"{c}={w:g}" for c, w in settings.weights.items() if w > 0)
            notices.append(f"no channel with a weight above 0 applies to this query (weights: {weighted})")
        return QueryRun(
            query=query,
            settings=settings,
            requests=requests,
            clauses=clauses,
            signals=expansion.signals if expansion else None,
            notices=[*self._notices, *notices],
            timings_ms=timings,
        )

    def _filter_notices(self, query: HybridQuery) -> list[str]:
        """Filters checked against the index's fields (see :func:`blendsearch.filters.check_filters`)."""
        if not query.filters:
            return []
        fields = self.config.fields
        kinds = self.backend.filter_field_kinds()
        if kinds is None:  # the backend cannot tell: the config's explicit attribute list, if any
            if fields.attributes is None:
                return []
            kinds = {name: name in fields.numeric for name in [*fields.attributes, *GENERATED_FIELDS, "id"]}
        declared = [*(fields.attributes or ()), *GENERATED_FIELDS]  # may merely have no values yet
        return check_filters(query.filters, kinds, declared, fields.numeric)

    def channel_results(self, query: HybridQuery | str) -> QueryRun:
        """Run a query's channels without fusing (tuning re-fuses the same run many times)."""
        run = self.plan(query)
        started = time.perf_counter()
        run.results, run.requests, run.feedback_ids = retrieve(
            self.backend, run.query, run.requests, run.settings
        )
        run.unseen = unseen_candidates(run.requests, run.results, self.backend)
        run.timings_ms["retrieve"] = (time.perf_counter() - started) * 1000
        return run

    def search(self, query: HybridQuery | str) -> SearchResult:
        """Run a hybrid query: expand, encode, retrieve per channel, fuse, calibrate, paginate."""
        query = HybridQuery(text=query) if isinstance(query, str) else query
        run = self.channel_results(query)
        ranked, no_good_match = self._ranked(run, query)
        return self._result(run, query, ranked, no_good_match)

    def search_image(self, image: ImageInput, **options: Any) -> SearchResult:
        """Image -> image search; ``options`` are HybridQuery fields (filters, k, ...)."""
        return self.search(HybridQuery(image=image, **options))

    def warm(self, queries: Iterable[HybridQuery | str] = ("warm-up",)) -> None:
        """Load what searches load lazily (vocabulary, expander, encoder, vector index, calibration) by
        running ``queries``, then move every object alive now out of the cyclic collector's sight.

        For long-running processes (a server, a benchmark): the loaded engine is a large heap of
        long-lived objects, and without ``gc.freeze()`` each full collection walks all of it inside
        whichever query triggers it (the fashion catalogue's p99 was 8.7x its p50). Objects created
        after this call are collected as usual.
        """
        for query in queries:
            self.search(query)
        gc.collect()
        gc.freeze()

    def stats(self) -> IndexStats:
        calibration = self.calibration
        share = self.image_only_share()
        fusion = "fixed"
        if self.config.search.fusion_profile == "auto":
            fusion = "own settings (not counted)" if share is None else f"profile {profile_for(share).name}"
        return IndexStats(
            index=str(self.index_dir),
            backend=type(self.backend).__name__,
            documents=self.backend.count(),
            model=self.config.encoder.model,
            model_fingerprint=self._info.model_fingerprint,
            dim=self._info.dim,
            calibrated=calibration is not None,
            vocabulary_size=len(self.vocabulary()),
            image_only_share=None if share is None else round(share, 4),
            fusion=fusion,
        )

    # -- lifecycle ----------------------------------------------------------------------------------
    def close(self) -> None:
        try:
            self.backend.close()
        finally:
            if self._encoder is not None:
                self._encoder.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- serving helpers (blendsearch serve) ------------------------------------------------------
    def document(self, doc_id: str) -> StoredDocument | None:
        """One stored document (with its enrichment, without vectors), or None."""
        found = self.backend.get([doc_id])
        return found[0] if found else None

    def refresh(self) -> None:
        """Re-read what another process may have written (a CLI ingest into the same index): the index
        info (model fingerprint) and the calibration. The vocabulary (and the expander built on it) needs no
        refresh: the backend's cache follows the store's write generation, another process's writes too."""
        info = read_info(self.index_dir)
        if info is not None:
            self._info.model_fingerprint, self._info.dim = info.model_fingerprint, info.dim
        self._calibration_loaded = False

    def search_faceted(
        self, query: HybridQuery, fields: Sequence[str]
    ) -> tuple[SearchResult, dict[str, dict[str, int]]]:
        """:meth:`search` plus, per field, value counts over every fused candidate (not just the page).

        Attribute fields and the generated ``colours`` / ``tags`` count each value of a multi-valued
        field once per document.
        """
        run = self.channel_results(query)
        ranked, no_good_match = self._ranked(run, query)
        facets = facet_counts(self.backend, ranked.ids, fields)
        return self._result(run, query, ranked, no_good_match), facets

    def similar(self, doc_id: str, query: HybridQuery | None = None) -> SearchResult:
        """Image -> image neighbours of a stored document from its STORED image vector (no re-encoding).

        ``query`` carries filters, k, offset (its text/image are ignored); the document itself is left out.
        """
        found = self.backend.get([doc_id], with_vectors=True)
        if not found:
            raise ConfigError(f"no document with id {doc_id!r}")
        vector = found[0].image_vector
        if vector is None or not self._vectors_usable():
            raise ConfigError(f"document {doc_id!r} has no usable image vector to search with")
        query = query or HybridQuery(text=doc_id)
        # The stored vector stands in as the query image (never re-encoded): calibration reads "image".
        update = {"text": None, "image": vector, "channels": ["vector_image"], "expand": False}
        query = query.model_copy(update=update)
        try:
            settings = effective_settings(self.search_settings(query), query)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        settings.weights = {**settings.weights, "vector_image": settings.weights.get("vector_image") or 1.0}
        wider = query.model_copy(update={"k": query.k + 1})
        requests = plan_requests(wider, settings, [], None, vector, True)
        run = QueryRun(query=query, settings=settings, requests=requests, notices=list(self._notices))
        started = time.perf_counter()
        run.results = self.backend.search(requests)
        run.unseen = unseen_candidates(requests, run.results, self.backend)
        run.timings_ms["retrieve"] = (time.perf_counter() - started) * 1000
        ranked, no_good_match = self._ranked(run, query)
        ranked = ranked.take(np.array([i != doc_id for i in ranked.ids], dtype=bool))
        return self._result(run, query, ranked, no_good_match)

    def _ranked(self, run: QueryRun, query: HybridQuery) -> tuple[RankedCandidates, bool]:
        return rank_run(run, query, self.calibration)

    def _result(
        self, run: QueryRun, query: HybridQuery, ranked: RankedCandidates, no_good_match: bool
    ) -> SearchResult:
        return page_result(run, query, ranked, no_good_match, self.backend)
