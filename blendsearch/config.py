"""Configuration models: one pydantic model per concern, gathered in :class:`EngineConfig`.

An index directory stores its EngineConfig as ``blendsearch.json`` so a later ``Engine.open`` (or the
CLI) searches with the settings it was built with; a config file passed by the user overrides it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from blendsearch._types import PathInput
from blendsearch.exceptions import ConfigError
from blendsearch.jsonfile import load_json_model

__all__ = [
    "CHANNELS",
    "FUSION_FIELDS",
    "EncoderSettings",
    "EngineConfig",
    "EnrichmentSettings",
    "ExpansionSettings",
    "FieldMapping",
    "IngestSettings",
    "SearchSettings",
    "check_channels",
    "check_weights",
    "load_config",
]

#: The hybrid channels, in the order explanations list them.
CHANNELS = ("bm25", "metadata", "vector_image", "vector_text")
#: The SearchSettings fields a built-in fusion profile supplies (``SearchSettings.fusion_profile``).
FUSION_FIELDS = frozenset({"weights", "normalisation", "combination", "rrf_k"})
#: Largest channel weight accepted. Weights are relative (fusion divides by their sum), so a bigger one
#: adds nothing but overflow; to run one channel alone, name it in ``channels``.
MAX_WEIGHT = 1e6


def check_channels(names: Iterable[str], option: str = "channels") -> list[str]:
    """The channel names, or a ConfigError naming ``option`` and the valid channels.

    The one check of channel names: config files, per-query weights and channels, and the CLI use it.
    """
    names = list(names)
    unknown = sorted(set(names) - set(CHANNELS))
    if unknown:
        raise ConfigError(f"{option}: unknown channels {unknown}; valid: {', '.join(CHANNELS)}")
    return names


def check_weights(
    weights: Mapping[str, object], option: str = "weights", *, some_positive: bool = True
) -> dict[str, float]:
    """Channel weights as floats, or a ConfigError naming ``option``, the channel and the bad value.

    A weight must be a finite number from 0 to :data:`MAX_WEIGHT` (0 switches the channel off); with
    ``some_positive``, at least one must be above 0, since all-zero weights rank nothing.
    """
    check_channels(weights, option)
    out: dict[str, float] = {}
    for name, value in weights.items():
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if number is None or not math.isfinite(number) or not 0 <= number <= MAX_WEIGHT:
            raise ConfigError(
                f"{option}: weight of channel {name!r} is {value!r}; a weight must be a finite number "
                f"from 0 to {MAX_WEIGHT:g} (0 switches the channel off)"
            )
        out[name] = float(number)
    if some_positive and out and not any(out.values()):
        raise ConfigError(
            f"{option}: every channel weight is 0 ({', '.join(out)}); give at least one channel a weight "
            "above 0"
        )
    return out


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
    #: Total seconds one image URL may take: DNS, connect, every retry and backoff, and the whole body.
    image_timeout_s: float = Field(default=10.0, gt=0)
    image_retries: int = Field(default=2, ge=0)
    max_image_bytes: int = Field(default=20_000_000, gt=0)
    #: Image URLs fetched at once (a batch's URLs run concurrently, so one slow host cannot stall it).
    fetch_workers: int = Field(default=8, ge=1, le=64)
    #: After this many timeouts in a row from one host, its remaining images in the run are rejected
    #: at once ("skipped") instead of each waiting out ``image_timeout_s``; a rerun tries them again.
    max_host_timeouts: int = Field(default=5, ge=1)
    #: Fetch URLs that resolve to loopback, private, link-local or reserved addresses (off: a catalogue
    #: must not probe the ingesting machine's network).
    allow_private_urls: bool = False
    #: Folders (or .zip files) local image references may point into, besides the catalogue's image root.
    #: Relative ones are taken from the image root folder.
    image_roots: list[str] = Field(default_factory=list)
    #: Images above this many pixels (read from the header, before decoding) are rejected.
    max_image_pixels: int = Field(default=40_000_000, ge=1)
    #: Decoded images are shrunk (JPEG draft, then reduce) to this longest side: colour analysis uses
    #: 48 px and the largest encoder input is 512 px (SigLIP 224-512, CLIP 224, trained models 80).
    max_image_side: int = Field(default=512, ge=16)
    #: Workers that decode images and analyse their colours while the encoder embeds earlier batches
    #: (results keep the catalogue's order). "auto": the cores left after the encoder's (at least 1,
    #: at most 4); 0: everything in the ingesting thread, one batch after another.
    workers: Literal["auto"] | Annotated[int, Field(ge=0, le=64)] = "auto"
    #: "process" sidesteps the GIL (the colour k-means is Python-bound on small arrays); "thread" starts
    #: instantly and copies nothing back. "auto": processes (forked, on Linux) when colours are generated,
    #: threads otherwise; either way the first batch is decoded in the ingest's own thread (small catalogues).
    worker_kind: Literal["auto", "process", "thread"] = "auto"


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

    #: The fusion defaults were chosen on generated queries only, the way ``tune --auto`` fits an index:
    #: the setting with the least worst-case shortfall over the fashion train split's three conditions
    #: (full, sparse, images) in catalogue and mixed wording (``benchmarks/choose_defaults.py``; figures in
    #: docs/fusion.md). The text-vector channel got weight 0 there: the image-vector channel and BM25 on
    #: the same text already carry what it finds. Weights are relative.
    weights: dict[str, float] = Field(
        default_factory=lambda: {"bm25": 1.0, "metadata": 0.25, "vector_image": 0.5, "vector_text": 0.0}
    )
    normalisation: Literal["minmax", "zscore", "none"] = "minmax"
    combination: Literal["weighted_mean", "rrf"] = "rrf"
    rrf_k: float = Field(default=60.0, ge=0)
    #: ``auto``: the engine blends with the built-in profile of the index's kind, chosen by its share of
    #: image-only products (``blendsearch/query/profiles.py``; the four fields above are used where the
    #: backend cannot count them). ``fixed``: the four fields above. A config that sets any of them is
    #: ``fixed`` unless it names ``fusion_profile`` too; ``tune`` writes ``fixed``.
    fusion_profile: Literal["auto", "fixed"] = "auto"
    candidates: int = Field(default=150, ge=1)
    #: Image feedback (:mod:`blendsearch.query.feedback`): a text query's image-vector search also looks
    #: for photos like those of its best ``image_feedback`` word matches with catalogue text (0: off),
    #: weighted ``image_feedback_weight`` against the text vector. Chosen on the fashion train split's
    #: generated queries (``benchmarks/image_feedback.py``); docs/fusion.md has the figures.
    image_feedback: int = Field(default=5, ge=0, le=100)
    image_feedback_weight: float = Field(default=1.0, ge=0.0, le=10.0)
    #: BM25 field boosts of the ``bm25`` channel (user text).
    text_fields: dict[str, float] = Field(
        default_factory=lambda: {"title": 2.0, "description": 1.0, "attributes": 1.0}
    )
    #: BM25 field boosts of the ``metadata`` channel (attributes and what enrichment generated). Not the
    #: generated description: it restates the colours and tags, so a match there counted twice, and its
    #: boost below 1 rescaled the others (the weights' scale acts as 1 / k1: ``backends/bm25f.py``).
    #: Whole boosts, smallest 1, are what every backend uses as given. Images condition, metadata alone:
    #: nDCG@10 0.361 -> 0.395 (full 0.883 -> 0.902, sparse 0.829 -> 0.862).
    metadata_fields: dict[str, float] = Field(
        default_factory=lambda: {"attributes": 2.0, "colours": 1.0, "tags": 1.0}
    )
    #: ``exact`` scans every vector; ``hnsw`` is approximate; ``auto`` picks hnsw above ann_threshold items.
    vector_search: Literal["auto", "exact", "hnsw"] = "auto"
    ann_threshold: int = Field(default=200_000, ge=1)
    #: Embedded BM25: ``tantivy`` (Lucene's formula, top k without scoring every match), ``fts5`` (SQLite's
    #: ``bm25()``, whose IDF of a word in over half the documents is ~0), ``auto`` (tantivy when importable).
    lexical: Literal["auto", "tantivy", "fts5"] = "auto"
    expand: bool = True
    min_probability: float | None = Field(default=None, ge=0.0, le=1.0)
    #: Longest query text searched, in characters; a longer one is a QueryError (None: no limit). Bounds
    #: the work one request can cause; product queries are a few words.
    max_query_chars: int | None = Field(default=1_000, ge=1)
    #: Most words (runs of letters/digits) in a query text; more is a QueryError (None: no limit).
    max_query_words: int | None = Field(default=64, ge=1)

    @field_validator("weights", mode="before")
    @classmethod
    def _valid_weights(cls, value: object) -> object:
        return check_weights(value, "search.weights") if isinstance(value, Mapping) else value

    @model_validator(mode="after")
    def _set_blend_is_fixed(self) -> SearchSettings:
        """Weights someone wrote down are the ones to use: a profile must not replace them silently."""
        if "fusion_profile" not in self.model_fields_set and self.model_fields_set & FUSION_FIELDS:
            self.fusion_profile = "fixed"
        return self


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
    return load_json_model(path, EngineConfig, "config file")
