"""What ``bench scale`` reports (:class:`ScaleReport`), apart from how it measures it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["AnnFigures", "AnnField", "IngestFigures", "Latency", "ScaleReport", "SearchFigures"]


class Latency(BaseModel):
    queries: int
    p50_ms: float
    p99_ms: float


class IngestFigures(BaseModel):
    products: int
    batch_size: int
    #: Seconds inside the backend's write step (upsert + flush), what docs/s is computed from.
    write_seconds: float
    docs_per_s: float
    #: Seconds for the whole phase, making the synthetic documents included.
    wall_seconds: float
    peak_rss_mb: float
    index_bytes: int
    lexical_engine: str


class SearchFigures(BaseModel):
    peak_rss_mb: float
    #: Resident set once warm (loading transients gone): what a serving process holds.
    rss_after_warm_mb: float | None = None
    #: First queries: vocabulary, vector matrices, HNSW graphs (built, or read from their cache).
    warm_seconds: float
    vector_index: dict[str, str]
    hybrid: Latency
    #: The same hybrid queries with image feedback off, timed beside them (interleaved query by query).
    hybrid_no_feedback: Latency | None = None
    hybrid_filtered: Latency
    bm25_only: Latency
    vector_image_only: Latency
    vector_text_only: Latency
    #: Filtered hybrid queries with fewer than min(k, matching products) hits.
    filtered_short: int
    filtered_queries: int
    stage_p50_ms: dict[str, float] = Field(default_factory=dict)


class AnnField(BaseModel):
    field: str
    #: efSearch -> recall@10 of HNSW against exact, text queries (as hybrid queries send them).
    recall_at_10: dict[int, float]
    #: efSearch -> HNSW p50 ms per single-vector request (k=10).
    hnsw_p50_ms: dict[int, float]
    exact_p50_ms: float
    #: Queries near stored vectors (a stored vector plus noise), the image->image case.
    near_recall_at_10: dict[int, float] = Field(default_factory=dict)
    filtered_recall_at_10: float
    #: Filtered requests (k=10, and k=candidates) answered with fewer than min(k, matching) ids.
    filtered_short_k10: int
    filtered_short_k150: int
    filtered_queries: int
    filtered_p50_ms: float


class AnnFigures(BaseModel):
    mode: str
    hnsw_m: int
    ef_construction: int
    ef_search_default: int
    exact_subset_max: int
    fields: list[AnnField]


class ScaleReport(BaseModel):
    """What ``blendsearch bench scale --json`` prints."""

    products: int
    model: str
    image_vectors: str
    text_vectors: str
    noise: float
    seed: int
    queries: int
    cpus: int
    load_average: dict[str, list[float]]
    ingest: IngestFigures
    index_bytes_after_search: int
    search: SearchFigures
    ann: AnnFigures | None = None
    #: Each target of issue 12 -> {"target", "value", "met"}.
    targets: dict[str, dict[str, Any]] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
