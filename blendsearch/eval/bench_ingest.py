"""The ingest benchmark: pipeline items/s beside the encoder's own throughput, and warm query latency.

Both rates come from one process, one after the other, so they share the machine's load; on a shared
machine the ratio still moves with the load, so the report carries the load average and the CPU seconds
each part used (the ingest's include its image workers), which load does not change much.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from blendsearch._types import PathInput
from blendsearch.config import EnrichmentSettings
from blendsearch.eval.bench_cache import Progress, ensure_model, sample_ids
from blendsearch.eval.conditions import bench_enrichment, condition_documents, open_index
from blendsearch.eval.judgements import JudgedQuery, load_queries, read_catalog
from blendsearch.exceptions import ConfigError

__all__ = ["IngestBenchReport", "bench_ingest", "timing_queries"]


class IngestBenchReport(BaseModel):
    """What ``blendsearch bench ingest --json`` prints."""

    products: int
    model: str
    pipeline_items_per_s: float
    encoder_items_per_s: float
    #: pipeline / encoder throughput; ``overhead`` = 1 - ratio (the share of time not spent in the model).
    ratio: float
    overhead: float
    ingest_seconds: float
    encoder_seconds: float
    queries: int
    query_p50_ms: float
    query_p99_ms: float
    encode_p50_ms: float
    #: Share of warm query time spent encoding the query text (sum of encode / sum of total).
    encode_share: float
    stage_p50_ms: dict[str, float] = Field(default_factory=dict)
    #: torch CPU threads the encoder used (``EncoderSettings.threads``; "auto" is resolved at load).
    encoder_threads: int | None = None
    #: Whether the ingest generated colours, tags and descriptions (the encoder alone never does).
    enrichment: bool = True
    #: CPU seconds (user + system) of the ingest, its image workers included, and of the encoder alone.
    ingest_cpu_seconds: float = 0.0
    encoder_cpu_seconds: float = 0.0
    #: 1-minute load average when the ingest started and when the encoder-alone run ended.
    load_average: tuple[float, float] = (0.0, 0.0)


def bench_ingest(
    catalog_path: PathInput,
    *,
    model: str | None = None,
    queries_path: PathInput | None = None,
    limit: int | None = None,
    index_dir: PathInput | None = None,
    seed: int = 0,
    enrichment: bool = True,
    progress: Progress | None = None,
) -> IngestBenchReport:
    """Ingest items/s of the test split beside the encoder's own throughput, then warm query latency.

    The index is built fresh (a temporary folder unless ``index_dir``, which must be empty), so every
    item is encoded. The encoder alone then embeds the same images and texts in the same process.
    ``enrichment=False`` ingests without colours, tags and descriptions.
    """
    import tempfile

    from blendsearch.imageio import decode_image
    from blendsearch.ingest.images import ImageSource
    from blendsearch.query.models import HybridQuery

    path = Path(catalog_path)
    catalog = read_catalog(path)
    spec = ensure_model(path, model, progress=progress)
    ids = catalog.ids("test") or catalog.ids()
    ids = sample_ids(ids, limit, np.random.default_rng(seed))
    docs, root = condition_documents(catalog, path, ids, set())
    with tempfile.TemporaryDirectory(prefix="blendsearch-bench-") as tmp:
        target = Path(index_dir) if index_dir else Path(tmp) / "index"
        if target.exists() and any(target.iterdir()):
            raise ConfigError(f"{target} is not empty: the ingest benchmark needs a fresh index")
        enrich = bench_enrichment(catalog) if enrichment else _NO_ENRICHMENT
        engine = open_index(target, root, spec, enrichment=enrich)
        try:
            engine.encoder  # noqa: B018 - loaded before the clock starts, as for the encoder alone
            load_start = os.getloadavg()[0]
            cpu = _cpu_seconds()
            started = time.perf_counter()
            summary = engine.ingest(docs)
            ingest_seconds = time.perf_counter() - started
            ingest_cpu = _cpu_seconds() - cpu
            if progress:
                progress(f"ingested {summary.indexed}/{summary.read} in {ingest_seconds:.1f}s")
            encoder = engine.encoder
            if encoder is None:
                raise ConfigError(f"model {spec!r} could not be loaded: {engine.notices}")
            threads = encoder.threads
            with ImageSource(root) as source:
                images = [decode_image(source.fetch(d.image)) for d in docs if d.image]
            texts = [d.text() for d in docs if d.text()]
            cpu = _cpu_seconds()
            started = time.perf_counter()
            encoder.encode_images(images)
            encoder.encode_texts(texts)
            encoder_seconds = time.perf_counter() - started
            encoder_cpu = _cpu_seconds() - cpu
            load_end = os.getloadavg()[0]
            texts = [q.query for q in timing_queries(path, queries_path)]
            latency = _query_latency(engine, texts, HybridQuery)
        finally:
            engine.close()
    pipeline_rate = len(docs) / ingest_seconds if ingest_seconds > 0 else 0.0
    encoder_rate = len(docs) / encoder_seconds if encoder_seconds > 0 else 0.0
    ratio = pipeline_rate / encoder_rate if encoder_rate > 0 else 0.0
    return IngestBenchReport(
        products=len(docs),
        model=spec,
        pipeline_items_per_s=pipeline_rate,
        encoder_items_per_s=encoder_rate,
        ratio=ratio,
        overhead=1.0 - ratio,
        ingest_seconds=ingest_seconds,
        encoder_seconds=encoder_seconds,
        encoder_threads=threads,
        enrichment=enrichment,
        ingest_cpu_seconds=round(ingest_cpu, 3),
        encoder_cpu_seconds=round(encoder_cpu, 3),
        load_average=(load_start, load_end),
        **latency,
    )


_NO_ENRICHMENT = EnrichmentSettings(colours=False, tags=False, describe=False)


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children that have ended (image workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timing_queries(catalog_path: Path, queries_path: PathInput | None) -> list[JudgedQuery]:
    """Queries to time: ``queries_path``, else ``queries-dev.jsonl`` beside the catalogue."""
    if queries_path is not None:
        return load_queries(queries_path)
    beside = catalog_path.parent / "queries-dev.jsonl"
    if beside.is_file():
        return load_queries(beside)
    raise ConfigError("give --queries: no queries-dev.jsonl lies beside the catalogue to time queries with")


def _query_latency(engine: Any, texts: Sequence[str], query_type: Any) -> dict[str, Any]:
    """Warm hybrid latency: one pass to warm caches (and freeze the loaded engine, as a server would:
    :meth:`~blendsearch.engine.Engine.warm`), then time each query once."""
    engine.warm([query_type(text=text, k=10) for text in texts[: min(len(texts), 20)]])
    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    for text in texts:
        started = time.perf_counter()
        result = engine.search(query_type(text=text, k=10))
        totals.append((time.perf_counter() - started) * 1000)
        for stage, ms in result.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
    encode = stages.get("encode", [0.0] * len(totals))
    return {
        "queries": len(totals),
        "query_p50_ms": float(np.percentile(totals, 50)),
        "query_p99_ms": float(np.percentile(totals, 99)),
        "encode_p50_ms": float(np.percentile(encode, 50)),
        "encode_share": float(sum(encode) / sum(totals)) if totals else 0.0,
        "stage_p50_ms": {stage: float(np.percentile(v, 50)) for stage, v in stages.items()},
    }
