"""What a search takes (:class:`HybridQuery`) and returns (:class:`SearchResult` of :class:`Hit`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from blendsearch.config import check_channels, check_weights
from blendsearch.documents import Document
from blendsearch.expansion.models import QuerySignals
from blendsearch.filters import Filter

__all__ = ["ChannelScore", "Hit", "HybridQuery", "SearchResult"]


class HybridQuery(BaseModel):
    """A hybrid query. Unset options fall back to the engine's :class:`~blendsearch.config.SearchSettings`.

    ``image`` accepts a path, URL, bytes or a PIL image (see ``blendsearch._types.ImageInput``).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    text: str | None = None
    image: Any | None = None
    filters: list[Filter] = Field(default_factory=list)
    k: int = Field(default=10, ge=1, le=10_000)
    offset: int = Field(default=0, ge=0)
    weights: dict[str, float] | None = None
    #: Run only these channels (default: every channel that applies to the query and index).
    channels: list[str] | None = None
    normalisation: Literal["minmax", "zscore", "none"] | None = None
    combination: Literal["weighted_mean", "rrf"] | None = None
    rrf_k: float | None = Field(default=None, ge=0)
    candidates: int | None = Field(default=None, ge=1)
    #: How many of the best word matches lend their photos to the image-vector search (0: off); None:
    #: the engine's ``SearchSettings.image_feedback``.
    image_feedback: int | None = Field(default=None, ge=0, le=100)
    #: None: engine default; False: no expansion; or a dict of ExpansionSettings fields to override.
    expand: bool | dict[str, Any] | None = None
    min_probability: float | None = Field(default=None, ge=0.0, le=1.0)
    with_documents: bool = True

    @field_validator("weights", mode="before")
    @classmethod
    def _valid_weights(cls, value: object) -> object:
        # All-zero is checked once merged with the engine's weights (see query.hybrid.effective_settings).
        if isinstance(value, dict):
            return check_weights(value, "weights", some_positive=False)
        return value

    @field_validator("channels")
    @classmethod
    def _valid_channels(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("channels: an empty list runs nothing; leave it unset to run every channel")
            check_channels(value, "channels")
        return value

    @model_validator(mode="after")
    def _needs_something(self) -> HybridQuery:
        if not (self.text and self.text.strip()) and self.image is None:
            raise ValueError("a query needs text, an image, or both")
        return self


class ChannelScore(BaseModel):
    """One channel's view of one hit: its raw score, normalised score, rank and share of the fused score."""

    raw: float | None = None
    normalised: float | None = None
    rank: int | None = None
    contribution: float = 0.0
    #: The channel cannot see this document (it has none of the fields the channel searches, e.g. no
    #: text for ``bm25``); ``contribution`` then comes from the channel's imputed mean, not a miss.
    unseen: bool = False


class Hit(BaseModel):
    """One result. ``channels`` covers every channel the query ran, also where this hit was not returned."""

    id: str
    score: float
    probability: float | None = None
    channels: dict[str, ChannelScore] = Field(default_factory=dict)
    document: Document | None = None
    colours: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class SearchResult(BaseModel):
    """Hits of one page plus how the query was run (expanded text, channels, notices)."""

    hits: list[Hit]
    total_candidates: int = 0
    query_text: str | None = None
    expanded: list[tuple[str, float]] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    #: True when calibrated probabilities exist and the best hit is below ``min_probability``.
    no_good_match: bool = False
    #: How much of the query's wording the index knew (None: no text); what the fused calibration read
    #: besides the hits (pass it to ``hit_features`` / ``RankedCandidates.from_hits`` with these hits).
    signals: QuerySignals | None = None
    #: The word matches whose photos fed the image-vector search (image feedback; empty: none).
    feedback_ids: list[str] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
