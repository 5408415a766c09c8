"""The Engine: the library API that the CLI and application code share.

    with Engine.open("shop-index", config) as engine:
        engine.ingest("products.csv", rejects="rejects.jsonl")
        men = TermFilter(field="gender", value="Men")
        result = engine.search(HybridQuery(text="navy slacks", filters=[men]))

An index directory holds ``blendsearch.json`` (format version, the EngineConfig it was built with, the
model fingerprint of its vectors), the embedded store, and ``calibration.json`` once fitted. With a
cluster backend (``config.backend`` URL) the directory holds only that local state.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from pydantic import BaseModel

from blendsearch._types import ImageInput, PathInput
from blendsearch.backends.base import Backend, QueryClause
from blendsearch.config import EngineConfig
from blendsearch.documents import Document
from blendsearch.encoders.base import Encoder
from blendsearch.exceptions import ConfigError, EncoderError, IndexFormatError, MissingDependencyError
from blendsearch.ingest.pipeline import IngestProgress, IngestSummary, ingest_items, items_from_documents
from blendsearch.query.hybrid import QueryRun, effective_settings, fuse_run, plan_requests, unseen_candidates
from blendsearch.query.models import Hit, HybridQuery, SearchResult

__all__ = ["Engine", "IndexStats"]

logger = logging.getLogger("blendsearch")

INDEX_FILE = "blendsearch.json"
FORMAT_VERSION = 1


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


class _IndexInfo(BaseModel):
    format_version: int = FORMAT_VERSION
    config: EngineConfig
    model_fingerprint: str | None = None
    dim: int | None = None


class Engine:
    """Hybrid search over one catalogue index. Use :meth:`open`; close it (or use ``with``) when done."""

    def __init__(
        self,
        index_dir: Path,
        config: EngineConfig,
        backend: Backend,
        encoder: Encoder | None,
        info: _IndexInfo,
    ) -> None:
        self.index_dir = index_dir
        self.config = config
        self.backend = backend
        self._encoder = encoder
        self._encoder_loaded = encoder is not None
        self._info = info
        self._vocabulary: dict[str, int] | None = None
        self._expander: Any = None
        self._calibration: Any = None
        self._calibration_loaded = False
        self._notices: list[str] = []

    # -- opening ---------------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        index_dir: PathInput,
        config: EngineConfig | None = None,
        *,
        encoder: Encoder | None = None,
        backend: Backend | None = None,
    ) -> Engine:
        """Open (or create) an index. An explicit ``config`` replaces the stored one and is saved."""
        path = Path(index_dir)
        path.mkdir(parents=True, exist_ok=True)
        info = cls._read_info(path)
        if config is not None:
            info = info.model_copy(update={"config": config}) if info else _IndexInfo(config=config)
        info = info or _IndexInfo(config=EngineConfig())
        if backend is None:
            backend = cls._make_backend(path, info.config)
        engine = cls(path, info.config, backend, encoder, info)
        engine._write_info()
        return engine

    @staticmethod
    def _read_info(path: Path) -> _IndexInfo | None:
        file = path / INDEX_FILE
        if not file.is_file():
            return None
        try:
            data = json.loads(file.read_text())
        except json.JSONDecodeError as exc:
            raise IndexFormatError(f"{file} is not valid JSON: {exc}") from exc
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexFormatError(
                f"{file} has format version {version}; this blendsearch reads version {FORMAT_VERSION}"
            )
        return _IndexInfo.model_validate(data)

    @staticmethod
    def _make_backend(path: Path, config: EngineConfig) -> Backend:
        if config.backend and "://" in config.backend:
            from blendsearch.backends.url import backend_from_url

            return backend_from_url(config.backend, index_name=path.name, config=config)
        from blendsearch.backends.embedded import EmbeddedBackend

        return EmbeddedBackend(
            Path(config.backend) if config.backend else path,
            vector_search=config.search.vector_search,
            ann_threshold=config.search.ann_threshold,
        )

    def _write_info(self) -> None:
        self._info.config = self.config
        (self.index_dir / INDEX_FILE).write_text(self._info.model_dump_json(indent=2))

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
    ) -> IngestSummary:
        """Ingest a catalogue file (JSONL, CSV, Parquet) or Documents; re-running skips unchanged items."""
        from blendsearch.ingest.images import ImageSource
        from blendsearch.ingest.readers import count_rows, read_catalog

        config = self.config
        encoder = self.encoder
        total: int | None = None
        if isinstance(source, (str, Path)):
            catalog = Path(source)
            items: Iterable[Any] = read_catalog(catalog, config.fields)
            image_source = ImageSource.for_catalog(catalog, config.fields, config.ingest)
            total = count_rows(catalog)
        else:
            items = items_from_documents(source)
            image_source = ImageSource(config.fields.image_root, config.ingest)
        tags = self._tag_vocabulary(source)
        try:
            summary = ingest_items(
                items,
                backend=self.backend,
                encoder=encoder,
                config=config,
                image_source=image_source,
                rejects=rejects,
                tag_vocabulary=tags,
                progress=progress,
                total=total,
            )
        finally:
            image_source.close()
        if encoder is not None and summary.written:
            self._info.model_fingerprint = encoder.fingerprint
            self._info.dim = encoder.dim
            self._write_info()
        summary.notices = list(self._notices)
        self._forget_vocabulary()
        return summary

    def _tag_vocabulary(self, source: PathInput | Iterable[Document]) -> list[str]:
        settings = self.config.enrichment
        if not settings.tags:
            return []
        if settings.tag_vocabulary is not None:
            return list(settings.tag_vocabulary)
        if not settings.tag_fields or not isinstance(source, (str, Path)):
            return []
        from blendsearch.enrichment.tags import default_tag_vocabulary
        from blendsearch.ingest.readers import read_catalog

        values: dict[str, list[str]] = {f: [] for f in settings.tag_fields}
        for item in read_catalog(Path(source), self.config.fields):
            if item.document is not None:
                for field in settings.tag_fields:
                    value = item.document.attributes.get(field)
                    if isinstance(value, str):
                        values[field].append(value)
        return default_tag_vocabulary(values)

    def delete(self, ids: Iterable[str]) -> int:
        """Delete documents by id; returns how many existed."""
        removed = self.backend.delete(list(ids))
        self.backend.flush()
        self._forget_vocabulary()
        return removed

    def _forget_vocabulary(self) -> None:
        """After a write: the vocabulary (and the expander built on it) must be read again."""
        self._vocabulary = None
        self._expander = None

    # -- reading -----------------------------------------------------------------------------------------
    def vocabulary(self) -> dict[str, int]:
        """Indexed words (folded, unstemmed) with document frequencies, cached until the next write."""
        if self._vocabulary is None:
            self._vocabulary = self.backend.vocabulary()
        return self._vocabulary

    @property
    def calibration(self) -> Any:
        """The fitted :class:`~blendsearch.calibration.Calibration`, or None."""
        if not self._calibration_loaded:
            self._calibration_loaded = True
            try:
                from blendsearch.calibration import load_calibration
            except ImportError:  # pragma: no cover - calibration package is part of blendsearch
                return None
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
    def calibration(self, value: Any) -> None:
        self._calibration, self._calibration_loaded = value, True

    def _expand(self, query: HybridQuery, notices: list[str]) -> tuple[list[QueryClause], str | None]:
        text = (query.text or "").strip()
        if not text:
            return [], None
        enabled = self.config.search.expand if query.expand is None else query.expand is not False
        if not enabled:
            return [QueryClause(text=text)], text
        if self._expander is None:
            from blendsearch.expansion import Expander

            self._expander = Expander(self.config.expansion, self.vocabulary())
        overrides = query.expand if isinstance(query.expand, dict) else None
        expansion = self._expander.expand(text, overrides)
        notices.extend(expansion.notices)
        return list(expansion.clauses), expansion.vector_text

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
            settings = effective_settings(self.config.search, query)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        notices: list[str] = []
        timings: dict[str, float] = {}
        started = time.perf_counter()
        clauses, vector_text = self._expand(query, notices)
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
        return QueryRun(
            query=query,
            settings=settings,
            requests=requests,
            clauses=clauses,
            notices=[*self._notices, *notices],
            timings_ms=timings,
        )

    def channel_results(self, query: HybridQuery | str) -> QueryRun:
        """Run a query's channels without fusing (tuning re-fuses the same run many times)."""
        run = self.plan(query)
        started = time.perf_counter()
        run.results = self.backend.search(run.requests) if run.requests else []
        run.unseen = unseen_candidates(run.requests, run.results, self.backend)
        run.timings_ms["retrieve"] = (time.perf_counter() - started) * 1000
        return run

    def search(self, query: HybridQuery | str) -> SearchResult:
        """Run a hybrid query: expand, encode, retrieve per channel, fuse, calibrate, paginate."""
        query = HybridQuery(text=query) if isinstance(query, str) else query
        run = self.channel_results(query)
        started = time.perf_counter()
        hits = fuse_run(run)
        run.timings_ms["fuse"] = (time.perf_counter() - started) * 1000
        calibration = self.calibration
        if calibration is not None and hits:
            modality = "+".join(m for m, given in (("text", query.text), ("image", query.image)) if given)
            for hit, p in zip(hits, calibration.probabilities(hits, query_modality=modality), strict=True):
                hit.probability = p
        threshold = run.settings.min_probability
        no_good_match = False
        if threshold is not None and hits and hits[0].probability is not None:
            no_good_match = hits[0].probability < threshold
            hits = [h for h in hits if h.probability is not None and h.probability >= threshold]
        page = hits[query.offset : query.offset + query.k]
        started = time.perf_counter()
        if query.with_documents and page:
            self._attach_documents(page)
        run.timings_ms["fetch"] = (time.perf_counter() - started) * 1000
        return SearchResult(
            hits=page,
            total_candidates=len(hits),
            query_text=query.text,
            expanded=[(c.text, c.weight) for c in run.clauses],
            channels=[r.channel for r in run.results],
            notices=run.notices,
            no_good_match=no_good_match,
            timings_ms={k: round(v, 3) for k, v in run.timings_ms.items()},
        )

    def _attach_documents(self, hits: Sequence[Hit]) -> None:
        stored = {d.id: d for d in self.backend.get([h.id for h in hits])}
        for hit in hits:
            doc = stored.get(hit.id)
            if doc is not None:
                hit.document = doc.public()
                hit.colours = list(doc.enrichment.colours)
                hit.tags = list(doc.enrichment.tags)

    def search_image(self, image: ImageInput, **options: Any) -> SearchResult:
        """Image -> image search; ``options`` are HybridQuery fields (filters, k, ...)."""
        return self.search(HybridQuery(image=image, **options))

    def stats(self) -> IndexStats:
        calibration = self.calibration
        return IndexStats(
            index=str(self.index_dir),
            backend=type(self.backend).__name__,
            documents=self.backend.count(),
            model=self.config.encoder.model,
            model_fingerprint=self._info.model_fingerprint,
            dim=self._info.dim,
            calibrated=calibration is not None,
            vocabulary_size=len(self.vocabulary()),
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
