"""What the score debugger reports: per-candidate scores, per-group spread, warnings and a verdict."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from blendsearch.query.models import ChannelScore

__all__ = ["CandidateScore", "DebugReport", "GroupStats"]


class CandidateScore(BaseModel):
    """One (query, candidate) pair: the cosine, the model's logit and sigmoid, and the calibrated probability.

    ``softmax`` is over the candidates of the same group (what a CLIP-style softmax model's scores mean);
    ``channels`` and ``fused_score`` are filled for candidates that came from an index search.
    """

    label: str
    source: Literal["text", "image", "index"]
    query: Literal["text", "image"]
    id: str | None = None
    cosine: float | None = None
    logit: float | None = None
    sigmoid: float | None = None
    softmax: float | None = None
    probability: float | None = None
    vector_norm: float | None = None
    fused_score: float | None = None
    channels: dict[str, ChannelScore] = Field(default_factory=dict)


class GroupStats(BaseModel):
    """Candidates compared with one query vector from one source: how much their scores vary."""

    query: Literal["text", "image"]
    source: Literal["text", "image", "index"]
    n: int
    cosine_min: float | None = None
    cosine_max: float | None = None
    spread: float | None = None
    variance: float | None = None
    verdict: str


class DebugReport(BaseModel):
    """Everything ``blendsearch debug-scores`` shows."""

    query_text: str | None = None
    query_image: str | None = None
    model: str | None = None
    loss: str | None = None
    logit_scale: float | None = None
    logit_bias: float | None = None
    temperature: float | None = None
    candidates: list[CandidateScore] = Field(default_factory=list)
    groups: list[GroupStats] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    verdict: str = ""
