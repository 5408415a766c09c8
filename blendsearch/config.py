"""Configuration models: one pydantic model per concern, gathered in :class:`EngineConfig`.

An index directory stores its EngineConfig as ``blendsearch.json`` so a later ``Engine.open`` (or the
CLI) searches with the settings it was built with; a config file passed by the user overrides it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from blendsearch._types import PathInput
from blendsearch.exceptions import ConfigError

__all__ = [
    "CHANNELS",
    "EncoderSettings",
    "EngineConfig",
    "EnrichmentSettings",
    "ExpansionSettings",
    "FieldMapping",
    "IngestSettings",
    "SearchSettings",
    "load_config",
]

#: The hybrid channels, in the order explanations list them.
CHANNELS = ("bm25", "metadata", "vector_image", "vector_text")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldMapping(_Strict):
    """Which catalogue columns hold what. Attributes are the filterable, metadata-matchable fields."""

    id: str = "id"
    title: str | None = "title"
    #: One column, or several joined with ". ".
    description: list[str] = Field(default_factory=list)
    image: str | None = "image"
    #: Attribute columns; None means every column not used above.
    attributes: list[str] | None = None
    #: Columns to read as numbers (range filters); others stay text.
    numeric: list[str] = Field(default_factory=list)
    #: Where relative image paths resolve: a folder or a .zip archive. Default: beside the catalogue
    #: (and ``images.zip`` beside it, if present).
    image_root: str | None = None

    @field_validator("description", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class EncoderSettings(_Strict):
    """Which model embeds images and texts. ``model=None`` runs lexical + metadata + colour search only."""

    model: str | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    batch_size: int = Field(default=64, ge=1)
    #: CPU threads torch uses while encoding: a number, "auto" (the cores idle when the model loads:
    #: spinning OpenMP threads on busy cores are many times slower than fewer), or None (torch's own).
    threads: Annotated[int, Field(ge=1)] | Literal["auto"] | None = "auto"


class EnrichmentSettings(_Strict):
    """What ingest generates from the image."""

    colours: bool = True
    max_colours: int = Field(default=2, ge=1, le=5)
    tags: bool = True
    #: Zero-shot tag vocabulary; None means the catalogue's own values of ``tag_fields``.
    tag_vocabulary: list[str] | None = None
    tag_fields: list[str] = Field(default_factory=list)
    #: How a tag becomes a text to embed: SigLIP/CLIP like "a photo of {tag}", a catalogue model "{tag}".
    tag_template: str = "a photo of {tag}"
    tag_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    max_tags: int = Field(default=3, ge=0)
    describe: bool = True


class IngestSettings(_Strict):
    """Batching and image fetching."""

    batch_size: int = Field(default=64, ge=1)
    image_timeout_s: float = Field(default=10.0, gt=0)
    image_retries: int = Field(default=2, ge=0)
    max_image_bytes: int = Field(default=20_000_000, gt=0)


class ExpansionSettings(_Strict):
    """Query expansion stages, each switchable here and per query."""

    normalise: bool = True
    typos: bool = True
    typo_threshold: float = Field(default=85.0, ge=0, le=100)
    synonyms: bool = True
    synonyms_file: str | None = None
    wordnet: bool = True
    colours: bool = True
    #: Weight of expanded terms relative to the user's own (1.0).
    expansion_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    #: A query word the index already holds is expanded to a term only when the word is in fewer than
    #: ``rare_ratio`` x the documents the term reaches (words the index lacks are always expanded). The
    #: catalogue's own word already finds what the catalogue calls it; widening it only re-ranks, and a
    #: rarer or sibling term ("shorts" -> "boxers") then outranks the user's word. None: no such check.
    rare_ratio: float | None = Field(default=0.1, ge=0.0)


class SearchSettings(_Strict):
    """How channels are queried and blended."""

    weights: dict[str, float] = Field(
        default_factory=lambda: {"bm25": 1.0, "metadata": 0.5, "vector_image": 1.0, "vector_text": 0.5}
    )
    normalisation: Literal["minmax", "zscore", "none"] = "minmax"
    combination: Literal["weighted_mean", "rrf"] = "weighted_mean"
    rrf_k: float = Field(default=60.0, ge=0)
    candidates: int = Field(default=150, ge=1)
    #: BM25 field boosts of the ``bm25`` channel (user text).
    text_fields: dict[str, float] = Field(
        default_factory=lambda: {"title": 2.0, "description": 1.0, "attributes": 1.0}
    )
    #: BM25 field boosts of the ``metadata`` channel (attributes and what enrichment generated).
    metadata_fields: dict[str, float] = Field(
        default_factory=lambda: {"attributes": 1.0, "colours": 1.0, "tags": 1.0, "generated": 0.5}
    )
    #: ``exact`` scans every vector; ``hnsw`` is approximate; ``auto`` picks hnsw above ann_threshold items.
    vector_search: Literal["auto", "exact", "hnsw"] = "auto"
    ann_threshold: int = Field(default=200_000, ge=1)
    expand: bool = True
    min_probability: float | None = Field(default=None, ge=0.0, le=1.0)

    @field_validator("weights")
    @classmethod
    def _known_channels(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channels {sorted(unknown)}; valid: {', '.join(CHANNELS)}")
        if any(w < 0 for w in value.values()):
            raise ValueError("channel weights must be >= 0")
        return value


class EngineConfig(_Strict):
    """Everything an engine needs; stored with the index."""

    fields: FieldMapping = Field(default_factory=FieldMapping)
    encoder: EncoderSettings = Field(default_factory=EncoderSettings)
    enrichment: EnrichmentSettings = Field(default_factory=EnrichmentSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    expansion: ExpansionSettings = Field(default_factory=ExpansionSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    #: ``None`` or a folder path: embedded; ``opensearch+http(s)://...`` / ``elasticsearch+http(s)://...``.
    backend: str | None = None


def load_config(path: PathInput) -> EngineConfig:
    """Read an EngineConfig from JSON, with a clear error naming the file and the bad field."""
    file = Path(path)
    try:
        return EngineConfig.model_validate(json.loads(file.read_text()))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {file} does not exist") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config file {file} is not valid JSON: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError(f"config file {file} is invalid:\n{exc}") from exc
