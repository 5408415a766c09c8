"""Request and response bodies of the HTTP API.

Responses reuse the library's models (SearchResult, Hit, IngestSummary, IndexStats, DebugReport,
Expansion) so the OpenAPI schema is theirs; requests are thin: the query fields of
:class:`~blendsearch.query.models.HybridQuery` with the image as base64 text, since JSON carries no bytes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from blendsearch.documents import Document, Enrichment
from blendsearch.filters import Filter
from blendsearch.ingest.pipeline import IngestSummary, Rejection
from blendsearch.query.models import SearchResult

__all__ = [
    "DebugRequest",
    "DeleteResponse",
    "DocumentResponse",
    "ErrorBody",
    "ErrorResponse",
    "ExpandRequest",
    "HealthResponse",
    "IngestResponse",
    "ReadyResponse",
    "SearchRequest",
    "SearchResponse",
    "SimilarRequest",
]


class ErrorBody(BaseModel):
    type: str
    message: str


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: ``{"error": {"type": ..., "message": ...}}``."""

    error: ErrorBody


class _Options(BaseModel):
    """Query options shared by search and similar (HybridQuery's fields, minus text and image)."""

    model_config = ConfigDict(extra="forbid")

    filters: list[Filter] = Field(default_factory=list)
    k: int = Field(default=10, ge=1, le=10_000)
    offset: int = Field(default=0, ge=0, le=100_000)
    weights: dict[str, float] | None = None
    channels: list[str] | None = None
    normalisation: Literal["minmax", "zscore", "none"] | None = None
    combination: Literal["weighted_mean", "rrf"] | None = None
    rrf_k: float | None = Field(default=None, ge=0, le=1e6)
    candidates: int | None = Field(default=None, ge=1, le=10_000)
    #: How many of the best word matches lend their photos to the image search (0: off).
    image_feedback: int | None = Field(default=None, ge=0, le=100)
    min_probability: float | None = Field(default=None, ge=0.0, le=1.0)
    #: Keep each hit's per-channel raw/normalised/rank/contribution (left out otherwise, to stay small).
    explain: bool = False


class SearchRequest(_Options):
    """A hybrid query: text and/or an image (base64 of the file's bytes), plus facets to count."""

    text: str | None = None
    image_base64: str | None = None
    #: None: the index's default; False: off; or ExpansionSettings fields to override.
    expand: bool | dict[str, Any] | None = None
    #: Fields (attributes, ``colours``, ``tags``) whose values are counted over every candidate.
    facets: list[str] = Field(default_factory=list, max_length=20)


class SimilarRequest(_Options):
    """Filters and paging for image -> image neighbours of a stored product."""


class SearchResponse(SearchResult):
    """A SearchResult plus facet counts: field -> value -> candidates having it."""

    facets: dict[str, dict[str, int]] = Field(default_factory=dict)


class DocumentResponse(BaseModel):
    """A stored product: the catalogue's own fields and what was generated from its photo."""

    document: Document
    enrichment: Enrichment
    image_url: str | None = None


class IngestResponse(BaseModel):
    summary: IngestSummary
    #: Rejected items with position, id, stage and reason (the CLI's rejects file, inline).
    rejects: list[Rejection] = Field(default_factory=list)


class DeleteResponse(BaseModel):
    id: str
    deleted: bool


class DebugRequest(BaseModel):
    """What ``blendsearch debug-scores`` takes, against the served index."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    image_base64: str | None = None
    candidates_texts: list[str] = Field(default_factory=list, max_length=50)
    top: int = Field(default=10, ge=1, le=100)


class ExpandRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    settings: dict[str, Any] | None = None


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    ready: bool
    documents: int
    model: str | None
    vectors: bool
