"""Pair retrieval over an index: does a product's title find its own image, and its image its title?

Titles are embedded with the index's own model (``engine.encoder``); images are the vectors stored in
the index (``backend.get(ids, with_vectors=True)``), so this measures exactly the vectors search uses.
The whole catalogue is scored in numpy blocks (8.8k x 8.8k is a few seconds), not through ``search``.
With a catalogue file, titles and categories come from its TRUE fields, so products indexed with their
image only are still evaluated by their real title.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from blendsearch.eval.judgements import Catalog
from blendsearch.eval.metrics import PAIR_KS, PairMetrics, PairScores, by_category, pair_metrics, pair_scores
from blendsearch.exceptions import ConfigError

__all__ = ["DIRECTIONS", "PairReport", "PairVectors", "pair_retrieval", "pair_vectors"]

#: Text -> image (a title finds its product's photo) and image -> text.
DIRECTIONS = ("text_to_image", "image_to_text")


class PairVectors(BaseModel):
    """Aligned products: ids, titles, their category values, title vectors and stored image vectors."""

    model_config = {"arbitrary_types_allowed": True}

    ids: list[str]
    titles: list[str]
    categories: dict[str, list[str]]
    text: np.ndarray
    image: np.ndarray
    #: Products left out: no stored image vector or no title.
    skipped: int = 0


class PairReport(BaseModel):
    """Pair retrieval both ways, with per-category breakdowns (field -> direction -> category -> metrics)."""

    products: int
    skipped: int
    text_to_image: PairMetrics
    image_to_text: PairMetrics
    by_category: dict[str, dict[str, dict[str, dict[str, float]]]] = Field(default_factory=dict)
    #: Per-query ranks and positive/negative cosines for plots; left out of JSON output.
    scores: dict[str, PairScores] = Field(default_factory=dict, exclude=True)


def pair_vectors(
    engine: Any,
    catalog: Catalog | None = None,
    *,
    ids: Sequence[str] | None = None,
    by: Sequence[str] = (),
    chunk: int = 512,
) -> PairVectors:
    """Collect title vectors (encoded now) and stored image vectors of the indexed products."""
    encoder = engine.encoder
    if encoder is None or not encoder.supports_texts:
        raise ConfigError("pair retrieval needs the index's model, and this index has none that embeds text")
    wanted = list(ids) if ids is not None else sorted(engine.backend.iter_ids())
    kept_ids: list[str] = []
    titles: list[str] = []
    images: list[np.ndarray] = []
    categories: dict[str, list[str]] = {field: [] for field in by}
    for start in range(0, len(wanted), chunk):
        for doc in engine.backend.get(wanted[start : start + chunk], with_vectors=True):
            row = catalog.rows.get(doc.id) if catalog is not None else None
            title = str(row.get("title") or "").strip() if row is not None else doc.title.strip()
            if doc.image_vector is None or not title:
                continue
            kept_ids.append(doc.id)
            titles.append(title)
            images.append(np.asarray(doc.image_vector, dtype=np.float32))
            for field in by:
                value = row.get(field) if row is not None else doc.attributes.get(field)
                categories[field].append(str(value) if value not in (None, "") else "-")
    skipped = len(wanted) - len(kept_ids)
    dim = encoder.dim
    image = np.stack(images) if images else np.zeros((0, dim), dtype=np.float32)
    text = encoder.encode_texts(titles) if titles else np.zeros((0, dim), dtype=np.float32)
    return PairVectors(
        ids=kept_ids, titles=titles, categories=categories, text=text, image=image, skipped=skipped
    )


def pair_retrieval(
    engine: Any,
    catalog: Catalog | None = None,
    *,
    ids: Sequence[str] | None = None,
    by: Sequence[str] = (),
    ks: Sequence[int] = PAIR_KS,
) -> PairReport:
    """Recall@K, MRR and positive/negative gaps both ways over the indexed products (see module doc)."""
    vectors = pair_vectors(engine, catalog, ids=ids, by=by)
    if not vectors.ids:
        raise ConfigError("no indexed product has both a title and an image vector: nothing to evaluate")
    directions = {
        "text_to_image": (vectors.text, vectors.image),
        "image_to_text": (vectors.image, vectors.text),
    }
    metrics: dict[str, PairMetrics] = {}
    scores: dict[str, PairScores] = {}
    for name, (queries, gallery) in directions.items():
        scores[name], means = pair_scores(queries, gallery, vectors.titles, vectors.titles)
        metrics[name] = pair_metrics(scores[name], means, ks)
    breakdown: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for field, labels in vectors.categories.items():
        breakdown[field] = {}
        for name in DIRECTIONS:
            ranks = np.asarray(scores[name].ranks, dtype=np.float64)
            rows = [{**{f"R@{k}": float(r <= k) for k in ks}, "mrr": 1.0 / r} for r in ranks]
            breakdown[field][name] = by_category(rows, labels)
    return PairReport(
        products=len(vectors.ids),
        skipped=vectors.skipped,
        text_to_image=metrics["text_to_image"],
        image_to_text=metrics["image_to_text"],
        by_category=breakdown,
        scores=scores,
    )
