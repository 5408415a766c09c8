"""Backend-agnostic timing: bulk write throughput and query latency percentiles.

The documents are already enriched and encoded and the queries already planned, so what is timed is
the backend alone (its writes, its round trips, its retrieval), never the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
from pydantic import BaseModel

from blendsearch.backends.base import Backend
from blendsearch.documents import StoredDocument

__all__ = ["BulkTiming", "LatencyTiming", "latency_timing", "time_bulk", "time_calls"]

Input = TypeVar("Input")
Output = TypeVar("Output")


class BulkTiming(BaseModel):
    """Bulk writes of pre-encoded documents, including the final flush (commit / refresh)."""

    docs: int
    rejected: int
    seconds: float
    docs_per_s: float
    #: The reason of the first rejected document, if any.
    first_error: str | None = None


class LatencyTiming(BaseModel):
    """Warm latency per call (per query)."""

    queries: int
    p50_ms: float
    p99_ms: float
    mean_ms: float


def time_bulk(backend: Backend, docs: Sequence[StoredDocument], batch_size: int = 500) -> BulkTiming:
    """Upsert ``docs`` in batches of ``batch_size``, flush, and time it all."""
    started = time.perf_counter()
    rejected = 0
    first_error: str | None = None
    for offset in range(0, len(docs), batch_size):
        for result in backend.upsert(docs[offset : offset + batch_size]):
            if not result.ok:
                rejected += 1
                first_error = first_error or result.error
    backend.flush()
    seconds = time.perf_counter() - started
    return BulkTiming(
        docs=len(docs),
        rejected=rejected,
        seconds=round(seconds, 4),
        docs_per_s=round(len(docs) / seconds, 1) if seconds > 0 else 0.0,
        first_error=first_error,
    )


def time_calls(
    call: Callable[[Input], Output], inputs: Sequence[Input], warmup: int = 3
) -> tuple[LatencyTiming, list[Output]]:
    """Make each call once after ``warmup`` untimed ones; the timing and every call's output.

    E.g. ``time_calls(backend.search, plans)``: one round trip per planned query on a cluster.
    """
    for item in inputs[:warmup]:
        call(item)
    latencies: list[float] = []
    outputs: list[Output] = []
    for item in inputs:
        started = time.perf_counter()
        outputs.append(call(item))
        latencies.append((time.perf_counter() - started) * 1000.0)
    return latency_timing(latencies), outputs


def latency_timing(latencies_ms: Sequence[float]) -> LatencyTiming:
    """p50/p99/mean of latencies in milliseconds (zeros for none)."""
    times = np.asarray(latencies_ms, dtype=np.float64)
    if not times.size:
        return LatencyTiming(queries=0, p50_ms=0.0, p99_ms=0.0, mean_ms=0.0)
    return LatencyTiming(
        queries=int(times.size),
        p50_ms=round(float(np.percentile(times, 50)), 3),
        p99_ms=round(float(np.percentile(times, 99)), 3),
        mean_ms=round(float(times.mean()), 3),
    )
