"""Bulk ingest as a chain of small steps, losing nothing.

read -> dedupe -> fetch image -> hash (skip unchanged) -> decode -> enrich colours -> encode images ->
zero-shot tags -> describe -> encode texts -> upsert -> commit. Each batch is committed before the next
starts, so a killed run resumes by re-running: committed items hash as unchanged and are skipped.
Every item that fails a step becomes one line of the rejects file with its reason, so
``read == indexed + rejected`` always holds.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from pydantic import BaseModel, Field

from blendsearch._types import PathInput
from blendsearch.backends.base import Backend
from blendsearch.config import EngineConfig
from blendsearch.documents import Document, Enrichment, StoredDocument, content_hash
from blendsearch.encoders.base import Encoder
from blendsearch.exceptions import BlendsearchError, ItemError

__all__ = ["IngestProgress", "IngestSummary", "Rejection", "ingest_items", "items_from_documents"]


class Rejection(BaseModel):
    """One rejected item: where it was, why, and what it contained (so nothing is lost)."""

    position: int
    id: str | None = None
    stage: str
    reason: str
    raw: dict[str, Any] = Field(default_factory=dict)


class IngestSummary(BaseModel):
    """Counts of one ingest run. ``read == indexed + rejected``; ``unchanged`` is part of ``indexed``."""

    read: int = 0
    indexed: int = 0
    written: int = 0
    unchanged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    items_per_second: float = 0.0
    encode_seconds: float = 0.0
    rejects_file: str | None = None
    model: str | None = None
    notices: list[str] = Field(default_factory=list)


class IngestProgress(BaseModel):
    """Reported after each batch."""

    read: int
    indexed: int
    rejected: int
    total: int | None = None
    elapsed_s: float


class _Pending(BaseModel):
    """An item that passed reading and is on its way through the batch steps."""

    model_config = {"arbitrary_types_allowed": True}

    position: int
    raw: dict[str, Any]
    document: Document
    image_bytes: bytes | None = None
    image: Any = None  # PIL image once decoded
    hash: str = ""


def items_from_documents(documents: Iterable[Document]) -> Iterator[Any]:
    """Adapt already-mapped Documents to the reader's item shape (position, raw, document, error)."""
    from blendsearch.ingest.readers import RawItem

    for position, doc in enumerate(documents, start=1):
        yield RawItem(position=position, raw=doc.model_dump(mode="json"), document=doc, error=None)


def _settings_fingerprint(config: EngineConfig, encoder: Encoder | None) -> str:
    """What, besides the item itself, decides its stored form: the model and the enrichment settings."""
    model = encoder.fingerprint if encoder is not None else "no-model"
    enrichment = hashlib.sha256(config.enrichment.model_dump_json().encode()).hexdigest()[:12]
    return f"{model}|{enrichment}"


class _Ingest:
    """The state of one ingest run; ``run`` drives the batches."""

    def __init__(
        self,
        backend: Backend,
        encoder: Encoder | None,
        config: EngineConfig,
        image_source: Any,
        rejects: TextIO | None,
        tag_vocabulary: list[str],
        progress: Callable[[IngestProgress], None] | None,
        total: int | None,
    ) -> None:
        self.backend, self.encoder, self.config = backend, encoder, config
        self.images, self.rejects_out = image_source, rejects
        self.progress, self.total = progress, total
        self.summary = IngestSummary(model=encoder.fingerprint if encoder else None)
        self.fingerprint = _settings_fingerprint(config, encoder)
        self.seen: dict[str, int] = {}
        self.started = time.perf_counter()
        self.tags = tag_vocabulary
        self.tag_vectors: np.ndarray | None = None
        if encoder is not None and tag_vocabulary and config.enrichment.tags and encoder.supports_texts:
            prompts = [config.enrichment.tag_template.format(tag=t.lower()) for t in tag_vocabulary]
            self.tag_vectors = encoder.encode_texts(prompts)

    # -- bookkeeping -------------------------------------------------------------------------------
    def reject(self, position: int, id_: str | None, stage: str, reason: str, raw: dict[str, Any]) -> None:
        self.summary.rejected += 1
        if self.rejects_out is not None:
            line = Rejection(position=position, id=id_, stage=stage, reason=reason, raw=raw)
            self.rejects_out.write(json.dumps(line.model_dump(mode="json"), default=str) + "\n")

    def report(self) -> None:
        if self.progress is not None:
            self.progress(
                IngestProgress(
                    read=self.summary.read,
                    indexed=self.summary.indexed,
                    rejected=self.summary.rejected,
                    total=self.total,
                    elapsed_s=time.perf_counter() - self.started,
                )
            )

    # -- steps -----------------------------------------------------------------------------------
    def accept(self, item: Any) -> _Pending | None:
        """Reading and de-duplication: a read error or an id seen earlier in this run is a reject."""
        self.summary.read += 1
        if item.error is not None or item.document is None:
            self.reject(
                item.position,
                item.raw.get(self.config.fields.id),
                "read",
                item.error or "unreadable",
                item.raw,
            )
            return None
        doc: Document = item.document
        if doc.id in self.seen:
            self.reject(
                item.position,
                doc.id,
                "read",
                f"duplicate id (first read at row {self.seen[doc.id]})",
                item.raw,
            )
            return None
        self.seen[doc.id] = item.position
        return _Pending(position=item.position, raw=item.raw, document=doc)

    def fetch(self, batch: list[_Pending]) -> list[_Pending]:
        from blendsearch.ingest.images import decode_image

        kept: list[_Pending] = []
        for pending in batch:
            doc = pending.document
            if doc.image:
                try:
                    pending.image_bytes = self.images.fetch(doc.image)
                except ItemError as exc:
                    self.reject(pending.position, doc.id, "image", str(exc), pending.raw)
                    continue
            elif not doc.text():
                self.reject(
                    pending.position, doc.id, "read", "item has neither text nor an image", pending.raw
                )
                continue
            pending.hash = content_hash(doc, pending.image_bytes, self.fingerprint)
            kept.append(pending)
        known = self.backend.content_hashes([p.document.id for p in kept])
        changed: list[_Pending] = []
        for pending in kept:
            if known.get(pending.document.id) == pending.hash:
                self.summary.unchanged += 1
                self.summary.indexed += 1
                continue
            if pending.image_bytes is not None:
                try:
                    pending.image = decode_image(pending.image_bytes)
                except ItemError as exc:
                    self.reject(pending.position, pending.document.id, "image", str(exc), pending.raw)
                    continue
            changed.append(pending)
        return changed

    def enrich_and_encode(self, batch: list[_Pending]) -> list[StoredDocument]:
        from blendsearch.enrichment.colours import dominant_colours
        from blendsearch.enrichment.describe import describe
        from blendsearch.enrichment.tags import zero_shot_tags

        settings = self.config.enrichment
        enrichments = [Enrichment() for _ in batch]
        with_image = [i for i, p in enumerate(batch) if p.image is not None]
        if settings.colours:
            for i in with_image:
                enrichments[i].colours = dominant_colours(batch[i].image, max_colours=settings.max_colours)
        image_vectors: dict[int, np.ndarray] = {}
        text_vectors: dict[int, np.ndarray] = {}
        encoder = self.encoder
        started = time.perf_counter()
        if encoder is not None and encoder.supports_images and with_image:
            vectors = encoder.encode_images([batch[i].image for i in with_image])
            image_vectors = dict(zip(with_image, vectors, strict=True))
            if self.tag_vectors is not None:
                tags, scores = zero_shot_tags(
                    vectors,
                    self.tag_vectors,
                    self.tags,
                    scale=encoder.logit_scale,
                    bias=encoder.logit_bias,
                    threshold=settings.tag_threshold,
                    max_tags=settings.max_tags,
                )
                for i, item_tags, item_scores in zip(with_image, tags, scores, strict=True):
                    enrichments[i].tags, enrichments[i].tag_scores = item_tags, item_scores
        if settings.describe:
            for i, pending in enumerate(batch):
                if not pending.document.text() and (enrichments[i].colours or enrichments[i].tags):
                    enrichments[i].description = describe(enrichments[i].colours, enrichments[i].tags)
        if encoder is not None and encoder.supports_texts:
            texts = {i: p.document.text() or enrichments[i].description for i, p in enumerate(batch)}
            texts = {i: t for i, t in texts.items() if t}
            if texts:
                vectors = encoder.encode_texts(list(texts.values()))
                text_vectors = dict(zip(texts, vectors, strict=True))
        self.summary.encode_seconds += time.perf_counter() - started
        return [
            StoredDocument(
                **pending.document.model_dump(),
                enrichment=enrichments[i],
                content_hash=pending.hash,
                image_vector=image_vectors.get(i),
                text_vector=text_vectors.get(i),
            )
            for i, pending in enumerate(batch)
        ]

    def encode_isolating_failures(self, batch: list[_Pending]) -> list[tuple[_Pending, StoredDocument]]:
        """Encode a batch; if the batch fails, retry item by item so one bad item rejects only itself."""
        try:
            return list(zip(batch, self.enrich_and_encode(batch), strict=True))
        except BlendsearchError:
            if len(batch) == 1:
                raise
        except Exception:  # noqa: BLE001 - a model failing on one odd input must not stop the ingest
            if len(batch) == 1:
                raise
        done: list[tuple[_Pending, StoredDocument]] = []
        for pending in batch:
            try:
                done.extend(zip([pending], self.enrich_and_encode([pending]), strict=True))
            except Exception as exc:  # noqa: BLE001
                self.reject(
                    pending.position,
                    pending.document.id,
                    "encode",
                    f"{type(exc).__name__}: {exc}",
                    pending.raw,
                )
        return done

    def write(self, encoded: list[tuple[_Pending, StoredDocument]]) -> None:
        if not encoded:
            return
        results = self.backend.upsert([doc for _, doc in encoded])
        for (pending, _doc), result in zip(encoded, results, strict=True):
            if result.ok:
                self.summary.indexed += 1
                self.summary.written += 1
            else:
                self.reject(
                    pending.position,
                    pending.document.id,
                    "write",
                    result.error or "write failed",
                    pending.raw,
                )
        self.backend.flush()

    def run(self, items: Iterable[Any]) -> IngestSummary:
        batch: list[_Pending] = []
        size = self.config.ingest.batch_size
        for item in items:
            pending = self.accept(item)
            if pending is not None:
                batch.append(pending)
            if len(batch) >= size:
                self.process(batch)
                batch = []
        if batch:
            self.process(batch)
        self.backend.flush()
        elapsed = time.perf_counter() - self.started
        self.summary.seconds = round(elapsed, 3)
        self.summary.items_per_second = round(self.summary.read / elapsed, 1) if elapsed > 0 else 0.0
        self.summary.encode_seconds = round(self.summary.encode_seconds, 3)
        return self.summary

    def process(self, batch: list[_Pending]) -> None:
        changed = self.fetch(batch)
        if changed:
            self.write(self.encode_isolating_failures(changed))
        self.report()


def ingest_items(
    items: Iterable[Any],
    *,
    backend: Backend,
    encoder: Encoder | None,
    config: EngineConfig,
    image_source: Any,
    rejects: PathInput | None = None,
    tag_vocabulary: list[str] | None = None,
    progress: Callable[[IngestProgress], None] | None = None,
    total: int | None = None,
) -> IngestSummary:
    """Ingest reader items (see :func:`blendsearch.ingest.readers.read_catalog`) into a backend."""
    out: TextIO | None = None
    if rejects is not None:
        Path(rejects).parent.mkdir(parents=True, exist_ok=True)
        out = open(rejects, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        run = _Ingest(backend, encoder, config, image_source, out, tag_vocabulary or [], progress, total)
        summary = run.run(items)
    finally:
        if out is not None:
            out.close()
    summary.rejects_file = str(rejects) if rejects is not None else None
    return summary
