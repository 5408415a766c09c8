"""``debug_scores``: why does this query score these candidates the way it does?

Candidates come from the caller (texts and/or images) and/or from an index search. Each (query,
candidate) pair gets the cosine, the model's logit ``scale * cos + bias``, its sigmoid, the softmax over
the group, the calibrated probability, and, for index hits, each channel's raw/normalised score and share
of the fused score. Checks add warnings for the usual mistakes (see :mod:`blendsearch.debug.checks`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from blendsearch._types import ImageInput
from blendsearch.debug.checks import (
    check_loss,
    check_models,
    check_temperatures,
    check_text,
    check_unit_length,
)
from blendsearch.debug.models import CandidateScore, DebugReport, GroupStats
from blendsearch.debug.scores import pair_scores, verdict
from blendsearch.encoders.base import Encoder
from blendsearch.exceptions import ConfigError

if TYPE_CHECKING:
    from blendsearch.calibration import Calibration
    from blendsearch.engine import Engine

__all__ = ["debug_scores", "image_label"]

Kind = Literal["text", "image"]


def image_label(image: ImageInput) -> str:
    """A short printable name of an image input."""
    if isinstance(image, (str, os.PathLike)):
        return os.fspath(image)
    if isinstance(image, bytes):
        return f"<{len(image)} bytes>"
    return "<PIL image>"


class _Builder:
    """Collects candidates and group statistics while the report is assembled."""

    def __init__(self, encoder: Encoder, calibration: Calibration | None) -> None:
        self.encoder = encoder
        self.vector = calibration.vector if calibration is not None else None
        self.candidates: list[CandidateScore] = []
        self.groups: list[GroupStats] = []

    def add_group(
        self,
        query: Kind,
        source: Literal["text", "image", "index"],
        query_vector: np.ndarray,
        labels: Sequence[str],
        vectors: Sequence[np.ndarray | None],
        *,
        ids: Sequence[str | None] | None = None,
        known_probabilities: Sequence[float | None] | None = None,
        fused: Sequence[float | None] | None = None,
        channels: Sequence[dict] | None = None,
    ) -> None:
        size = query_vector.size
        usable = [i for i, v in enumerate(vectors) if v is not None and np.asarray(v).size == size]
        scores = None
        if usable:
            matrix = np.stack([np.asarray(vectors[i], dtype=np.float64) for i in usable])
            scores = pair_scores(query_vector, matrix, self.encoder.logit_scale, self.encoder.logit_bias)
        # Calibrated probabilities hold for cross-modal pairs (text vs image), the pairs they were fitted on.
        cross = (source == "index" and query == "text") or source not in ("index", query)
        # A softmax model's sigmoid is no probability: only a calibrated one may say "no match".
        sigmoid_means_probability = self.encoder.loss != "softmax"
        group_cosines: list[float] = []
        group_probs: list[float] = []
        group_labels: list[str] = []
        for i, label in enumerate(labels):
            row = CandidateScore(label=label, source=source, query=query, id=ids[i] if ids else None)
            if scores is not None and i in usable:
                j = usable.index(i)
                row.cosine = float(scores.cosine[j])
                row.logit = float(scores.logit[j])
                row.sigmoid = float(scores.sigmoid[j])
                row.softmax = float(scores.softmax[j])
                row.vector_norm = float(scores.norms[j])
                if self.vector is not None and cross:
                    row.probability = float(self.vector.probability([row.cosine])[0])
            if known_probabilities is not None and known_probabilities[i] is not None:
                row.probability = known_probabilities[i]
            if fused is not None:
                row.fused_score = fused[i]
            if channels is not None:
                row.channels = channels[i]
            self.candidates.append(row)
            if row.cosine is not None:
                group_cosines.append(row.cosine)
                group_labels.append(label)
                if row.probability is not None:
                    group_probs.append(row.probability)
                else:
                    group_probs.append(float(row.sigmoid) if sigmoid_means_probability else float("nan"))
        cos = np.asarray(group_cosines)
        stats = GroupStats(
            query=query,
            source=source,
            n=len(labels),
            verdict=verdict(group_labels, cos, group_probs) if cos.size else "no comparable vectors",
        )
        if cos.size:
            stats.cosine_min, stats.cosine_max = float(cos.min()), float(cos.max())
            stats.spread, stats.variance = float(cos.max() - cos.min()), float(cos.var())
        self.groups.append(stats)


def debug_scores(
    query_text: str | None = None,
    query_image: ImageInput | None = None,
    candidates_texts: Sequence[str] | None = None,
    candidate_images: Sequence[ImageInput] | None = None,
    engine: Engine | None = None,
    index_top_n: int = 10,
    encoder: Encoder | None = None,
    calibration: Calibration | None = None,
) -> DebugReport:
    """Score candidates against a query and explain the numbers; see the module docstring.

    ``encoder`` defaults to the engine's model and ``calibration`` to the engine's calibration.
    """
    if not (query_text and query_text.strip()) and query_image is None:
        raise ConfigError("debug-scores needs a query text, a query image, or both")
    if encoder is None and engine is not None:
        encoder = engine.encoder
    if encoder is None:
        raise ConfigError("debug-scores needs a model: pass one (--model), or an index built with one")
    if calibration is None and engine is not None:
        calibration = engine.calibration
    texts = list(candidates_texts or [])
    images = list(candidate_images or [])
    if engine is None and not texts and not images:
        raise ConfigError("give candidate texts or images to score, or an index to search")
    temperature = calibration.vector.temperature if calibration is not None and calibration.vector else None
    report = DebugReport(
        query_text=query_text,
        query_image=image_label(query_image) if query_image is not None else None,
        model=encoder.fingerprint,
        loss=encoder.loss,
        logit_scale=encoder.logit_scale,
        logit_bias=encoder.logit_bias,
        temperature=temperature,
    )
    warnings: list[str] = []
    queries: dict[Kind, np.ndarray] = {}
    if query_text and query_text.strip():
        queries["text"] = np.asarray(encoder.encode_texts([query_text])[0], dtype=np.float64)
    if query_image is not None:
        queries["image"] = np.asarray(encoder.encode_images([query_image])[0], dtype=np.float64)
    warnings += check_unit_length("query", [np.linalg.norm(v) for v in queries.values()])

    builder = _Builder(encoder, calibration)
    explicit: list[tuple[Literal["text", "image"], list[str], np.ndarray]] = []
    if texts:
        vectors = encoder.encode_texts(texts)
        warnings += check_unit_length("candidate text", np.linalg.norm(vectors, axis=1))
        explicit.append(("text", [f"text: {t}" for t in texts], vectors))
    if images:
        vectors = encoder.encode_images(images)
        warnings += check_unit_length("candidate image", np.linalg.norm(vectors, axis=1))
        explicit.append(("image", [f"image: {image_label(i)}" for i in images], vectors))
    for kind, query_vector in queries.items():
        for source, labels, vectors in explicit:
            builder.add_group(kind, source, query_vector, labels, list(vectors))

    if engine is not None:
        warnings += _index_candidates(engine, builder, queries, query_text, query_image, index_top_n)

    warnings += check_loss(encoder)
    warnings += check_text(encoder, [t for t in [query_text or "", *texts] if t.strip()])
    warnings += check_temperatures(encoder, temperature)
    report.candidates = builder.candidates
    report.groups = builder.groups
    report.warnings = list(dict.fromkeys(warnings))
    if len(builder.groups) == 1:
        report.verdict = builder.groups[0].verdict
    else:
        report.verdict = "; ".join(f"{g.query} query vs {g.source}: {g.verdict}" for g in builder.groups)
    return report


def _index_candidates(
    engine: Engine,
    builder: _Builder,
    queries: dict[Kind, np.ndarray],
    query_text: str | None,
    query_image: ImageInput | None,
    top_n: int,
) -> list[str]:
    """Search the index, then score each hit's stored image vector against each query vector."""
    from blendsearch.query.models import HybridQuery

    warnings: list[str] = []
    result = engine.search(HybridQuery(text=query_text or None, image=query_image, k=top_n))
    warnings += [f"index: {notice}" for notice in result.notices]
    hits = result.hits
    stored = {d.id: d for d in engine.backend.get([h.id for h in hits], with_vectors=True)}
    image_vectors = [stored[h.id].image_vector if h.id in stored else None for h in hits]
    text_vectors = [stored[h.id].text_vector if h.id in stored else None for h in hits]
    present = [np.asarray(v) for v in image_vectors + text_vectors if v is not None]
    warnings += check_unit_length("stored", [np.linalg.norm(v) for v in present])
    stats = engine.stats()
    warnings += check_models(builder.encoder, stats.model_fingerprint, stats.dim, [v.size for v in present])
    labels = []
    for hit in hits:
        title = hit.document.title if hit.document is not None else ""
        labels.append(f"{hit.id}: {title[:40]}" if title else hit.id)
    channels = [dict(hit.channels) for hit in hits]
    for kind, query_vector in queries.items():
        # Both a text and an image query meet the catalogue's image vectors in the vector_image channel.
        builder.add_group(
            kind,
            "index",
            query_vector,
            labels,
            image_vectors,
            ids=[h.id for h in hits],
            known_probabilities=[h.probability for h in hits],
            fused=[h.score for h in hits],
            channels=channels,
        )
    return warnings
