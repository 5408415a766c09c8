"""Backends side by side: bulk docs/s and query p50/p99 of the same documents and queries on each.

The test split is enriched and encoded once (the cached ``full`` benchmark index); every backend then
receives the same stored documents with their vectors, and the same planned queries (expanded and
encoded once). So the figures compare the backends alone, measured in one run:

- **bulk**: upserts in batches plus the final flush/refresh;
- **lexical**: ``bm25`` + ``metadata`` requests in one round trip (one ``_msearch`` on a cluster), then
  the lookup of which candidates a channel cannot see (a second ``_msearch``), as the engine does;
- **hybrid**: the same with all four channels, where the backend serves k-NN;
- **top10_agreement**: the mean share of each query's fused top 10 that equals the embedded backend's,
  fused client-side by the same scoring module (Lucene BM25 and FTS5 bm25 differ slightly, and equal
  scores, common among near-identical product titles, are ordered differently);
- **ndcg_at_10**: the same top 10s judged by the queries' rules, so quality is compared, not tie order.

Figures measured on osmem-server or noida-db are labelled as emulator figures: neither is a real cluster.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from blendsearch._types import PathInput
from blendsearch.backends.base import Backend, ChannelRequest, ChannelResult
from blendsearch.backends.benchmark import BulkTiming, LatencyTiming, latency_timing, time_bulk, time_calls
from blendsearch.backends.cluster.url import backend_from_url, parse_backend_url
from blendsearch.backends.embedded import EmbeddedBackend
from blendsearch.config import EngineConfig
from blendsearch.documents import StoredDocument
from blendsearch.eval.bench_cache import bench_index_dir, ensure_model, sample_ids
from blendsearch.eval.bench_ingest import timing_queries
from blendsearch.eval.bench_latency import HYBRID_WEIGHTS
from blendsearch.eval.conditions import bench_enrichment, build_index, condition_documents
from blendsearch.eval.emulators import emulator_version, run_noida, run_osmem
from blendsearch.eval.judgements import Judgement, judge, read_catalog
from blendsearch.eval.retrieval import score_ranking
from blendsearch.exceptions import BackendConnectionError, ConfigError, MissingDependencyError
from blendsearch.query.feedback import retrieve
from blendsearch.query.hybrid import QueryRun, fuse_run, unseen_candidates
from blendsearch.query.models import HybridQuery

__all__ = ["BackendBenchReport", "BackendBenchRow", "bench_backends"]

Progress = Callable[[str], None]

#: Modes timed per backend: which channels one round trip carries.
MODES: dict[str, tuple[str, ...]] = {
    "lexical": ("bm25", "metadata"),
    "hybrid": ("bm25", "metadata", "vector_image", "vector_text"),
}


class BackendBenchRow(BaseModel):
    """One backend's figures."""

    name: str
    #: ``"osmem-server 0.1.6"`` where the figures come from an emulator, None for embedded or a real cluster.
    emulator: str | None = None
    url: str | None = None
    bulk: BulkTiming
    #: Mode (``lexical``, ``hybrid``) -> latency; a mode the backend cannot serve is absent.
    latency: dict[str, LatencyTiming] = Field(default_factory=dict)
    #: Mode -> the part of each query spent asking which candidates a channel cannot see.
    lookup_latency: dict[str, LatencyTiming] = Field(default_factory=dict)
    #: Mode -> mean share of the fused top 10 equal to the embedded backend's (1.0 on embedded itself).
    top10_agreement: dict[str, float] = Field(default_factory=dict)
    #: Mode -> mean nDCG@10 of the fused top 10 under the queries' judgement rules (queries with a
    #: relevant product): equal ties broken differently lower the agreement, not this.
    ndcg_at_10: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


class BackendBenchReport(BaseModel):
    """What ``blendsearch bench backends --json`` prints."""

    products: int
    queries: int
    model: str
    method: str = (
        "same pre-encoded documents and pre-planned queries on every backend, in one run; bulk = upserts "
        "+ flush; a query = one round trip with the mode's channels + the unseen-candidate lookup; "
        "lexical = bm25+metadata, hybrid = all four channels"
    )
    rows: list[BackendBenchRow] = Field(default_factory=list)


class _Target(BaseModel):
    name: str
    url: str | None = None
    emulator: str | None = None


def bench_backends(
    catalog_path: PathInput,
    *,
    model: str | None = None,
    backend_urls: Sequence[str] = (),
    emulators: bool = True,
    queries_path: PathInput | None = None,
    query_limit: int | None = 100,
    limit: int | None = None,
    seed: int = 0,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> BackendBenchReport:
    """Time the embedded backend, each cluster URL, and (``emulators``) osmem-server and noida-db.

    Each cluster gets a throwaway index ``blendsearch-bench-<random>``, deleted afterwards; a URL
    that names an index is refused so the benchmark never writes into a live one.
    """

    for url in backend_urls:
        if parse_backend_url(url).index:
            raise ConfigError(f"{url}: give the URL without an index path (the benchmark makes its own)")
    path = Path(catalog_path)
    catalog = read_catalog(path)
    spec = ensure_model(path, model, progress=progress)
    test = sample_ids(catalog.ids("test") or catalog.ids(), limit, np.random.default_rng(seed))
    docs, root = condition_documents(catalog, path, test, set())
    source = build_index(
        bench_index_dir(path, spec, limit, seed) / "test-full",
        docs, root, spec, None, progress, bench_enrichment(catalog),
    )  # fmt: skip
    try:
        stored = source.backend.get(sorted(source.backend.iter_ids()), with_vectors=True)
        queries = timing_queries(path, queries_path)[:query_limit]
        # Every channel planned, blended as SearchSettings' own weights say (a full-text index's fusion
        # profile would plan no vector channel).
        hybrid = list(MODES["hybrid"])
        asked = [HybridQuery(text=q.query, channels=hybrid, weights=HYBRID_WEIGHTS) for q in queries]
        plans = [source.plan(query) for query in asked]
        judgements = judge(queries, catalog, test, check_relevant=limit is None)
        config = source.config
    finally:
        source.close()
    if progress:
        progress(f"{len(stored)} documents and {len(plans)} planned queries ready")

    rows: list[BackendBenchRow] = []
    reference: dict[str, list[list[str]]] = {}
    for target in _targets(backend_urls, emulators):
        with _open_target(target, config) as backend:
            if backend is None:
                rows.append(_unavailable(target))
                continue
            if progress:
                progress(f"{target.name}: writing {len(stored)} documents")
            row, rankings = _measure(target, backend, stored, plans, batch_size, progress)
            for mode, tops in rankings.items():
                reference.setdefault(mode, tops)
                row.top10_agreement[mode] = _agreement(reference[mode], tops)
                row.ndcg_at_10[mode] = _ndcg(tops, judgements)
            rows.append(row)
    return BackendBenchReport(products=len(stored), queries=len(plans), model=spec, rows=rows)


def _targets(backend_urls: Sequence[str], emulators: bool) -> list[_Target]:

    targets = [_Target(name="embedded")]
    if emulators:
        targets.append(_Target(name="opensearch", emulator=emulator_version("osmem-server")))
        targets.append(_Target(name="elasticsearch", emulator=emulator_version("noida-db")))
    targets.extend(_Target(name=parse_backend_url(url).product, url=url) for url in backend_urls)
    return targets


@contextlib.contextmanager
def _open_target(target: _Target, config: EngineConfig) -> Iterator[Backend | None]:
    """The target's backend on a fresh, throwaway index (None where an emulator cannot run here)."""
    with contextlib.ExitStack() as stack:
        if target.name == "embedded" and target.url is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="blendsearch-bench-"))
            backend: Backend = stack.enter_context(EmbeddedBackend(Path(folder)))
            yield backend
            return
        url = target.url
        if url is None:
            runner = run_osmem() if target.name == "opensearch" else run_noida()
            try:
                plain = stack.enter_context(runner)
            except (MissingDependencyError, BackendConnectionError) as exc:
                target.emulator = f"{target.emulator}: {exc}"
                yield None
                return
            url = f"{target.name}+{plain}"
            target.url = url
        remote = backend_from_url(url, index_name=f"blendsearch-bench-{uuid.uuid4().hex[:8]}", config=config)
        stack.callback(remote.close)
        stack.callback(remote.drop)
        yield remote


def _unavailable(target: _Target) -> BackendBenchRow:
    return BackendBenchRow(
        name=target.name,
        emulator=target.emulator,
        bulk=BulkTiming(docs=0, rejected=0, seconds=0.0, docs_per_s=0.0),
        notes=[f"not measured: {target.emulator}"],
    )


def _measure(
    target: _Target,
    backend: Backend,
    stored: Sequence[StoredDocument],
    plans: Sequence[QueryRun],
    batch_size: int,
    progress: Progress | None,
) -> tuple[BackendBenchRow, dict[str, list[list[str]]]]:
    """Bulk-write, then time each mode the backend serves; the row and each mode's fused top 10s."""
    bulk = time_bulk(backend, stored, batch_size)
    row = BackendBenchRow(name=target.name, emulator=target.emulator, url=target.url, bulk=bulk)
    if row.bulk.rejected:
        row.notes.append(f"{row.bulk.rejected} documents rejected, first: {row.bulk.first_error}")
    rankings: dict[str, list[list[str]]] = {}
    for mode, channels in MODES.items():
        requests = [_only(plan.requests, channels) for plan in plans]
        if any(r.kind == "vector" for rs in requests for r in rs) and not backend.supports_vectors:
            row.notes.append(f"{mode}: not served (this server has no k-NN)")
            continue
        calls = [p.model_copy(update={"requests": reqs}) for p, reqs in zip(plans, requests, strict=True)]
        timing, answers = time_calls(partial(_retrieve, backend), calls)
        row.latency[mode] = timing
        row.lookup_latency[mode] = latency_timing([lookup_ms for *_, lookup_ms in answers])
        rankings[mode] = [
            _top10(p, sent, results, unseen)
            for p, (results, sent, unseen, _) in zip(plans, answers, strict=True)
        ]
        if progress:
            progress(f"{target.name} {mode}: p50 {timing.p50_ms:.1f} ms, p99 {timing.p99_ms:.1f} ms")
    return row, rankings


def _only(requests: Sequence[ChannelRequest], channels: tuple[str, ...]) -> list[ChannelRequest]:
    return [r for r in requests if r.channel in channels]


def _retrieve(
    backend: Backend, plan: QueryRun
) -> tuple[list[ChannelResult], list[ChannelRequest], dict[str, list[str]], float]:
    """What the engine asks a backend per query: the channel search (with image feedback, as
    ``Engine.channel_results``), then which candidates it cannot see; the requests as sent, and the
    lookup's own milliseconds."""
    results, sent, _ = retrieve(backend, plan.query, plan.requests, plan.settings)
    started = time.perf_counter()
    unseen = unseen_candidates(sent, results, backend)
    return results, sent, unseen, (time.perf_counter() - started) * 1000.0


def _top10(
    plan: QueryRun, requests: list[ChannelRequest], results: list[ChannelResult], unseen: dict[str, list[str]]
) -> list[str]:
    run = plan.model_copy(update={"requests": requests, "results": results, "unseen": unseen})
    return [hit.id for hit in fuse_run(run)[:10]]


def _ndcg(tops: list[list[str]], judgements: Sequence[Judgement]) -> float:
    scores = [score_ranking(top, j)["ndcg@10"] for top, j in zip(tops, judgements, strict=True) if j.relevant]
    return round(float(np.mean(scores)), 4) if scores else 0.0


def _agreement(reference: list[list[str]], tops: list[list[str]]) -> float:
    shares = [len(set(a) & set(b)) / max(len(a), 1) for a, b in zip(reference, tops, strict=True) if a]
    return round(float(np.mean(shares)), 4) if shares else 0.0
