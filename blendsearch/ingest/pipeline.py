"""Bulk ingest as a chain of small steps, losing nothing.

read -> dedupe -> fetch image -> hash (skip unchanged) -> decode -> enrich colours -> encode images ->
zero-shot tags -> describe -> encode texts -> upsert -> commit. Each batch is committed before the next
is, in catalogue order, so a killed run resumes by re-running: committed items hash as unchanged and are
skipped. Every item that fails a step becomes one line of the rejects file with its reason, so
``read == indexed + rejected`` always holds.

The stages overlap: while the encoder embeds batch N, a stage thread fetches and hashes the next
batches and workers (``IngestSettings.workers``, see ``workers.py``) decode their images and name their
colours; the encoder gets the cores the workers leave (``encoder_threads_beside``). Everything a batch
decides (its rejects, its unchanged count, its progress report) is applied when that batch is finished,
in order, so the rejects file, the counts and the reports are those of a run one batch at a time.

The rejects file survives kill -9 without duplicates by being simple: a run truncates it when it
starts and appends each batch's rejects with one write, flushed and fsynced *before* that batch is
sent to the backend (rejects of the write step itself, known only once the backend answers, right
after). So after a kill the file holds every reject of every committed batch (and maybe of the batch
in flight), and the rerun, which re-reads the whole catalogue and skips committed items as unchanged,
writes the complete list once: a finished run's file has exactly ``summary.rejected`` lines.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from blendsearch._types import PathInput
from blendsearch.backends.base import Backend
from blendsearch.config import EngineConfig
from blendsearch.documents import Document, Enrichment, StoredDocument, clip_texts, content_hash
from blendsearch.encoders.base import Encoder
from blendsearch.exceptions import BlendsearchError, ItemError
from blendsearch.ingest.commit import Commit, Committer
from blendsearch.ingest.readers import jsonable, row_id
from blendsearch.ingest.report import IngestProgress, IngestSummary, Rejection
from blendsearch.ingest.workers import ImageJob, Prepared, WorkerPool, prepare_images, resolve_workers
from blendsearch.ingest.workers import encoder_threads_beside as cores_left

__all__ = ["IngestProgress", "IngestSummary", "Rejection", "ingest_items"]


class _Pending:
    """An item that passed reading and is on its way through the batch steps.

    A plain slotted class, not a pydantic model: its fields come from validated reader items and are set
    step by step, and validating them again copied each item's raw row (0.2 CPU-s of the 8,795-item
    fashion ingest, with the garbage collection the copies caused; 0.007 s now)."""

    __slots__ = ("colours", "document", "hash", "image", "image_bytes", "line", "position", "raw")

    def __init__(
        self, position: int, raw: dict[str, Any], document: Document, line: int | None = None
    ) -> None:
        self.position, self.raw, self.document, self.line = position, raw, document, line
        self.image_bytes: bytes | None = None
        self.image: Any = None  # PIL image once decoded
        self.colours: list[str] | None = None  # named by a worker with the decoding (None: not yet)
        self.hash = ""


#: A reject decided while a batch is read or staged, applied when the batch is finished (in order):
#: the arguments of :meth:`_Ingest.reject`.
_Deferred = tuple[int, "str | None", str, str, dict[str, Any], "int | None", "int | None"]


class _Batch:
    """One batch on its way: read, staged (images fetched, hashes looked up, decoding handed to the
    workers), finished (rejects applied, encoded, written)."""

    def __init__(self) -> None:
        self.items: list[_Pending] = []
        self.rejects: list[_Deferred] = []
        self.read = 0  # rows read when the batch closed: what its progress report says
        self.unchanged = 0
        self.changed: list[_Pending] = []
        self.prepared: Any = None  # Future[list[Prepared]] of the changed items with image bytes
        self.job: ImageJob | None = None
        self.staging: Future[None] | None = None  # the stage step, when a stage thread runs it

    def staged(self, *, quiet: bool = False) -> None:
        """Wait for the stage step; raise what it raised unless ``quiet`` (a run stopping on another
        error keeps what the batch found)."""
        staging, self.staging = self.staging, None
        if staging is not None and (staging.exception() is None or not quiet):
            staging.result()


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
        rejects: BinaryIO | None,
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
        self.unwritten: list[bytes] = []  # reject lines of the batch being finished, not yet durable
        self.unwritten_count = 0  # rejects found since the last commit (lines only with a rejects file)
        self.counting = threading.Lock()  # the summary's counts, shared with the commit thread
        self.reasons: Counter[str] = Counter()
        self.fields: dict[str, None] = {}
        self.rows_looked_at = 0
        self.started = time.perf_counter()
        self.tags = tag_vocabulary
        self.pool = WorkerPool(
            resolve_workers(config.ingest, encoder.threads if encoder else None),
            config.ingest.worker_kind,
            colours=config.enrichment.colours,
        )
        self.stager: ThreadPoolExecutor | None = None  # runs the stage step when there are workers
        # On an index empty when the run starts, no item can be unchanged (ids are unique within a run),
        # so the stage step skips the hash lookup, which would wait for the commit in progress.
        self.fresh = backend.count() == 0
        self.tag_vectors: np.ndarray | None = None
        if encoder is not None and tag_vocabulary and config.enrichment.tags and encoder.supports_texts:
            prompts = [config.enrichment.tag_template.format(tag=t.lower()) for t in tag_vocabulary]
            self.tag_vectors = encoder.encode_texts(prompts)

    # -- bookkeeping -------------------------------------------------------------------------------
    def reject(
        self,
        position: int,
        id_: str | None,
        stage: str,
        reason: str,
        raw: dict[str, Any],
        line: int | None = None,
        offset: int | None = None,
    ) -> bytes | None:
        """Count a reject and queue its line for the batch being finished; returns the line (None
        without a rejects file). The commit thread calls it for the rejects of the write itself."""
        with self.counting:
            self.summary.rejected += 1
            known = reason in self.reasons or len(self.reasons) < 20
            self.reasons[reason if known else "(other reasons)"] += 1
        if self.rejects_out is None:
            return None
        record = Rejection(
            position=position, id=id_, stage=stage, reason=reason, raw=jsonable(raw), line=line, offset=offset
        )
        return record.line_bytes()

    def apply_rejects(self, batch: _Batch) -> None:
        """The rejects the batch found while read and staged, in the order found."""
        for args in batch.rejects:
            self.found(*args)
        batch.rejects = []

    def found(self, *args: Any) -> None:
        """A reject of the ingest's own thread, made durable with the batch being finished."""
        line = self.reject(*args)
        self.unwritten_count += 1
        if line is not None:
            self.unwritten.append(line)

    def commit(self, encoded: list[tuple[Any, StoredDocument]], unchanged: int, read: int | None) -> None:
        """Hand the batch, with the rejects found since the last commit, to the committer."""
        lines, count = self.unwritten, self.unwritten_count
        self.unwritten, self.unwritten_count = [], 0
        self.committer.submit(Commit(encoded, lines, count, unchanged, read))

    def written(self, count: int) -> None:
        with self.counting:
            self.summary.written += count
            self.summary.indexed += count

    def write_failed(self, pending: _Pending, reason: str) -> bytes | None:
        return self.reject(pending.position, pending.document.id, "write", reason, pending.raw, pending.line)

    def note_fields(self, item: Any) -> None:
        """Remember the first rows' field names, for the hint when no row has the id field."""
        if self.rows_looked_at < 50 and item.parsed and len(self.fields) < 50:
            self.rows_looked_at += 1
            for key in item.raw:
                if key != "_cells" and len(self.fields) < 50:
                    self.fields[str(key)] = None

    def report(self, read: int, indexed: int, rejected: int) -> None:
        if self.progress is not None:
            self.progress(
                IngestProgress(
                    read=read,
                    indexed=indexed,
                    rejected=rejected,
                    total=self.total,
                    elapsed_s=time.perf_counter() - self.started,
                )
            )

    # -- steps -----------------------------------------------------------------------------------
    def accept(self, item: Any, batch: _Batch) -> _Pending | None:
        """Reading and de-duplication: a read error or an id seen earlier in this run is a reject."""
        self.summary.read += 1
        self.note_fields(item)
        line, offset = getattr(item, "line", None), getattr(item, "offset", None)
        if item.error is not None or item.document is None:
            id_ = row_id(item, self.config.fields)
            reason = item.error or "unreadable"
            batch.rejects.append((item.position, id_, "read", reason, item.raw, line, offset))
            return None
        doc: Document = item.document
        if doc.id in self.seen:
            reason = f"duplicate id (first read at row {self.seen[doc.id]})"
            batch.rejects.append((item.position, doc.id, "read", reason, item.raw, line, offset))
            return None
        self.seen[doc.id] = item.position
        doc, cut = clip_texts(doc)
        self.summary.truncated += cut
        return _Pending(position=item.position, raw=item.raw, document=doc, line=line)

    def stage(self, batch: _Batch, *, many: bool) -> None:
        """Fetch the batch's images, skip the unchanged, and hand the decoding to the workers."""
        kept: list[_Pending] = []
        # A batch's images are fetched concurrently on the source's bounded pool, results in order.
        fetched = iter(self.images.fetch_many([p.document.image for p in batch.items if p.document.image]))
        for pending in batch.items:
            doc = pending.document
            if doc.image:
                result = next(fetched)
                if isinstance(result, ItemError):
                    batch.rejects.append(
                        (pending.position, doc.id, "image", str(result), pending.raw, pending.line, None)
                    )
                    continue
                pending.image_bytes = result
            elif not doc.text():
                reason = "item has neither text nor an image"
                batch.rejects.append(
                    (pending.position, doc.id, "read", reason, pending.raw, pending.line, None)
                )
                continue
            pending.hash = content_hash(doc, pending.image_bytes, self.fingerprint)
            kept.append(pending)
        known: dict[str, str] = {}
        if not self.fresh:
            with self.committer.backend_lock:
                known = self.backend.content_hashes([p.document.id for p in kept])
        for pending in kept:
            if known.get(pending.document.id) == pending.hash:
                batch.unchanged += 1
            else:
                batch.changed.append(pending)
        blobs = [p.image_bytes for p in batch.changed if p.image_bytes is not None]
        if blobs:
            settings = self.config.enrichment
            batch.job = ImageJob(
                max_pixels=self.config.ingest.max_image_pixels,
                max_side=self.config.ingest.max_image_side,
                colours=settings.max_colours if settings.colours else None,
            )
            batch.prepared = self.pool.submit(blobs, batch.job, many=many)

    def decoded(self, batch: _Batch) -> list[_Pending]:
        """The batch's changed items with their images decoded; an image that would not decode is a reject."""
        results: list[Prepared] = []
        if batch.prepared is not None:
            try:
                results = batch.prepared.result()
            except BlendsearchError:
                raise
            except Exception:  # noqa: BLE001 - a worker that died (BrokenProcessPool): decode here instead
                blobs = [p.image_bytes for p in batch.changed if p.image_bytes is not None]
                assert batch.job is not None
                results = prepare_images(blobs, batch.job)
        outcomes = iter(results)
        changed: list[_Pending] = []
        for pending in batch.changed:
            if pending.image_bytes is not None:
                image, colours, error = next(outcomes)
                if error is not None:
                    doc_id = pending.document.id
                    self.found(pending.position, doc_id, "image", error, pending.raw, pending.line, None)
                    continue
                pending.image, pending.colours = image, colours
            changed.append(pending)
        return changed

    def enrich_and_encode(self, batch: list[_Pending]) -> list[StoredDocument]:
        from blendsearch.enrichment.colours import dominant_colours_many
        from blendsearch.enrichment.describe import describe
        from blendsearch.enrichment.tags import zero_shot_tags

        settings = self.config.enrichment
        enrichments = [Enrichment() for _ in batch]
        with_image = [i for i, p in enumerate(batch) if p.image is not None]
        if settings.colours:
            unnamed = [i for i in with_image if batch[i].colours is None]
            if unnamed:  # named here when no worker did (one item retried alone)
                names = dominant_colours_many([batch[i].image for i in unnamed], settings.max_colours)
                for i, named in zip(unnamed, names, strict=True):
                    batch[i].colours = named
            for i in with_image:
                enrichments[i].colours = batch[i].colours
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
                reason = f"{type(exc).__name__}: {exc}"
                self.found(pending.position, pending.document.id, "encode", reason, pending.raw, pending.line)
        return done

    def run(self, items: Iterable[Any]) -> IngestSummary:
        size = self.config.ingest.batch_size
        batch = _Batch()
        staged: deque[_Batch] = deque()  # closed batches not finished yet, oldest first
        ahead = min(self.pool.workers, 4)  # batches prepared while the oldest is encoded
        self.committer = Committer(
            self.backend,
            self.rejects_out,
            self.written,
            self.write_failed,
            self.report,
            threaded=self.pool.workers > 0,
        )
        if self.pool.workers > 0:
            self.stager = ThreadPoolExecutor(1, "blendsearch-stage")
        encoder_threads = self.encoder.threads if self.encoder is not None else None
        if self.encoder is not None:
            self.encoder.threads = cores_left(self.pool.workers, encoder_threads)
        closed = 0
        ok = False
        try:
            for item in items:
                pending = self.accept(item, batch)
                if pending is not None:
                    batch.items.append(pending)
                if len(batch.items) >= size:
                    self.close(batch, staged, many=closed > 0)
                    closed += 1
                    while len(staged) > ahead:
                        self.finish(staged.popleft())
                    batch = _Batch()
                elif len(batch.rejects) >= size:  # a run of bad rows is made durable batch by batch too
                    while staged:
                        self.finish(staged.popleft())
                    self.apply_rejects(batch)
                    self.commit([], 0, None)
            if batch.items:
                self.close(batch, staged, many=closed > 0)
            while staged:
                self.finish(staged.popleft())
            self.apply_rejects(batch)  # bad rows after the last batch
            self.commit([], 0, None)
            self.committer.close()
            ok = True
        finally:  # a run stopped by an error keeps the rejects it found
            if not ok:
                for waiting in staged:
                    waiting.staged(quiet=True)
            if self.stager is not None:
                self.stager.shutdown(wait=True)
            self.pool.close()
            if self.encoder is not None:
                self.encoder.threads = encoder_threads
            if not ok:
                try:
                    self.committer.close()
                except BaseException:  # noqa: BLE001 - the error already raised is the one to report
                    pass
                for waiting in (*staged, batch):
                    self.apply_rejects(waiting)
                self.committer.append(self.unwritten)
        self.backend.flush()
        self.summary.reject_reasons = dict(self.reasons.most_common())
        self.summary.fields_seen = list(self.fields)
        elapsed = time.perf_counter() - self.started
        self.summary.seconds = round(elapsed, 3)
        self.summary.items_per_second = round(self.summary.read / elapsed, 1) if elapsed > 0 else 0.0
        self.summary.encode_seconds = round(self.summary.encode_seconds, 3)
        return self.summary

    def close(self, batch: _Batch, staged: deque[_Batch], *, many: bool) -> None:
        batch.read = self.summary.read
        if self.stager is None:
            self.stage(batch, many=many)
        else:  # fetching, hashing and the hand-off to the workers overlap the encoding of earlier batches
            batch.staging = self.stager.submit(self.stage, batch, many=many)
        staged.append(batch)

    def finish(self, batch: _Batch) -> None:
        """Apply what the batch found, in order, encode it and hand it to the committer (which commits
        it before the next)."""
        batch.staged()
        self.apply_rejects(batch)
        with self.counting:
            self.summary.unchanged += batch.unchanged
            self.summary.indexed += batch.unchanged
        changed = self.decoded(batch)
        encoded = self.encode_isolating_failures(changed) if changed else []
        for pending in changed:  # the committer needs none of them: a queued batch stays small
            pending.image = pending.image_bytes = None
        self.commit(encoded, batch.unchanged, batch.read)


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
    out: BinaryIO | None = None
    if rejects is not None:
        Path(rejects).parent.mkdir(parents=True, exist_ok=True)
        out = open(rejects, "wb", buffering=0)  # noqa: SIM115 - closed below; truncated: module docstring
    try:
        run = _Ingest(backend, encoder, config, image_source, out, tag_vocabulary or [], progress, total)
        summary = run.run(items)
    finally:
        if out is not None:
            out.close()
    summary.rejects_file = str(rejects) if rejects is not None else None
    return summary
