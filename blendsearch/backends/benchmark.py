"""A small, backend-agnostic benchmark: bulk write throughput and query latency percentiles."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from blendsearch.backends.base import Backend, ChannelRequest, LexicalRequest, QueryClause
from blendsearch.config import SearchSettings
from blendsearch.documents import StoredDocument

__all__ = ["bulk_and_query_benchmark"]


def _requests(query: str | Sequence[ChannelRequest], k: int) -> list[ChannelRequest]:
    if isinstance(query, str):
        fields = SearchSettings().text_fields
        return [LexicalRequest(channel="bm25", clauses=[QueryClause(text=query)], fields=fields, k=k)]
    return list(query)


def bulk_and_query_benchmark(
    backend: Backend,
    docs: Sequence[StoredDocument],
    queries: Sequence[str | Sequence[ChannelRequest]],
    *,
    batch_size: int = 500,
    k: int = 100,
    warmup: int = 3,
) -> dict[str, float | int]:
    """Write ``docs`` in batches, make them visible, then time each query (one ``backend.search`` each).

    A query is a text (one ``bm25`` request over the default text fields) or a list of channel
    requests (one round trip, e.g. one ``_msearch``). Returns docs/s over the writes and flush, and
    query latency p50/p99/mean in milliseconds over the queries after ``warmup`` untimed ones.
    """
    start = time.perf_counter()
    rejected = 0
    for offset in range(0, len(docs), batch_size):
        rejected += sum(1 for r in backend.upsert(docs[offset : offset + batch_size]) if not r.ok)
    backend.flush()
    bulk_seconds = time.perf_counter() - start
    prepared = [_requests(q, k) for q in queries]
    for requests in prepared[:warmup]:
        backend.search(requests)
    latencies = []
    for requests in prepared:
        began = time.perf_counter()
        backend.search(requests)
        latencies.append((time.perf_counter() - began) * 1000.0)
    times = np.asarray(latencies, dtype=np.float64)
    return {
        "docs": len(docs),
        "rejected": rejected,
        "bulk_seconds": round(bulk_seconds, 4),
        "bulk_docs_per_s": round(len(docs) / bulk_seconds, 1) if bulk_seconds > 0 else 0.0,
        "queries": len(prepared),
        "query_p50_ms": round(float(np.percentile(times, 50)), 3) if times.size else 0.0,
        "query_p99_ms": round(float(np.percentile(times, 99)), 3) if times.size else 0.0,
        "query_mean_ms": round(float(times.mean()), 3) if times.size else 0.0,
    }
