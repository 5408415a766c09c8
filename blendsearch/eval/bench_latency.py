"""``bench latency``: warm query latency of a hybrid query beside the cost of its parts, in one run.

The performance question is "does a hybrid query cost about what its channels cost?": the same queries
run as ``bm25`` alone, ``vector_image`` alone (query encoding included) and hybrid (bm25, metadata and
vector_image, blended with ``SearchSettings``' own weights: the fusion profile of a full-text index runs no
vector channel, which would time a different query), the three interleaved query by query (order
alternating) so load on a shared machine falls on all of them alike. The engine is warmed
(:meth:`~blendsearch.engine.Engine.warm`) first, as a server is.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from blendsearch._types import PathInput
from blendsearch.config import SearchSettings
from blendsearch.engine import Engine
from blendsearch.query.models import HybridQuery

__all__ = ["LatencyReport", "ModeLatency", "bench_latency"]

#: Channel sets timed: None is every channel the hybrid weights (:data:`HYBRID_WEIGHTS`) switch on.
MODES: dict[str, list[str] | None] = {"bm25": ["bm25"], "vector_image": ["vector_image"], "hybrid": None}
#: The hybrid query's weights: the single blend fitted across catalogue kinds (bm25, metadata, vector_image).
HYBRID_WEIGHTS: dict[str, float] = SearchSettings().weights


class ModeLatency(BaseModel):
    p50_ms: float
    p99_ms: float
    mean_ms: float


class LatencyReport(BaseModel):
    index: str
    documents: int
    queries: int
    vectors: bool
    modes: dict[str, ModeLatency]
    #: hybrid p50 / (bm25 p50 + vector_image p50); the performance issue's target is <= 1.3.
    hybrid_p50_over_parts: float | None
    #: hybrid p99 / hybrid p50; target <= 3.
    hybrid_p99_over_p50: float
    load_average: tuple[float, float]


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # not available on this platform
        return float("nan")


def bench_latency(index_dir: PathInput, texts: Sequence[str], *, warm_queries: int = 20) -> LatencyReport:
    """Time ``texts`` in each mode of :data:`MODES` on the index at ``index_dir`` (opened read-only)."""
    if not texts:
        raise ValueError("bench latency needs at least one query")
    load_before = _load()
    with Engine.open(index_dir) as engine:
        vectors = engine.encoder is not None and engine.search(
            HybridQuery(text=texts[0], channels=["vector_image"], with_documents=False)
        ).channels == ["vector_image"]
        modes = {name: channels for name, channels in MODES.items() if vectors or name == "bm25"}
        weights = {name: HYBRID_WEIGHTS if channels is None else None for name, channels in modes.items()}
        engine.warm(
            [
                HybridQuery(text=t, channels=modes[m], weights=weights[m])
                for t in texts[:warm_queries]
                for m in modes
            ]
        )
        times: dict[str, list[float]] = {name: [] for name in modes}
        for number, text in enumerate(texts):
            order = list(modes) if number % 2 == 0 else list(reversed(modes))
            for name in order:
                query = HybridQuery(text=text, channels=modes[name], weights=weights[name])
                started = time.perf_counter()
                engine.search(query)
                times[name].append((time.perf_counter() - started) * 1000)
        documents = engine.backend.count()
    stats = {
        name: ModeLatency(
            p50_ms=round(float(np.percentile(values, 50)), 3),
            p99_ms=round(float(np.percentile(values, 99)), 3),
            mean_ms=round(float(np.mean(values)), 3),
        )
        for name, values in times.items()
    }
    hybrid = stats["hybrid" if "hybrid" in stats else "bm25"]
    parts = (
        round(hybrid.p50_ms / (stats["bm25"].p50_ms + stats["vector_image"].p50_ms), 3)
        if "vector_image" in stats
        else None
    )
    return LatencyReport(
        index=str(index_dir),
        documents=documents,
        queries=len(texts),
        vectors=bool(vectors),
        modes=stats,
        hybrid_p50_over_parts=parts,
        hybrid_p99_over_p50=round(hybrid.p99_ms / hybrid.p50_ms, 3),
        load_average=(load_before, _load()),
    )
