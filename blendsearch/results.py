"""From a run's channel results to what a search returns: fused, calibrated, thresholded candidates, then
a page of hits with their documents, and (for ``blendsearch serve``) facet counts over every candidate.

The engine's searches (:meth:`~blendsearch.engine.Engine.search`, ``search_faceted``, ``similar``) all
end here, so the three rank and page alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from blendsearch.backends.base import Backend
from blendsearch.calibration.model import Calibration
from blendsearch.query.hybrid import QueryRun, fuse_arrays
from blendsearch.query.models import Hit, HybridQuery, SearchResult
from blendsearch.query.ranked import RankedCandidates

__all__ = ["facet_counts", "page_result", "rank_run"]


def rank_run(
    run: QueryRun, query: HybridQuery, calibration: Calibration | None
) -> tuple[RankedCandidates, bool]:
    """Fused, calibrated, thresholded candidates of a run, and whether the best fell under the threshold."""
    started = time.perf_counter()
    # Candidates stay arrays (ranking, calibration, min_probability); only the page becomes hits.
    ranked = fuse_arrays(run)
    run.timings_ms["fuse"] = (time.perf_counter() - started) * 1000
    if calibration is not None and len(ranked):
        given = (("text", bool(query.text)), ("image", query.image is not None))  # image may be an array
        modality = "+".join(m for m, present in given if present)
        probabilities = calibration.candidate_probabilities(ranked, query_modality=modality)
        ranked = ranked.with_probabilities(probabilities)
    threshold = run.settings.min_probability
    no_good_match = False
    probabilities = ranked.probabilities
    if threshold is not None and probabilities is not None and not np.isnan(probabilities[0]):
        no_good_match = bool(probabilities[0] < threshold)
        ranked = ranked.take(probabilities >= threshold)
    return ranked, no_good_match


def page_result(
    run: QueryRun, query: HybridQuery, ranked: RankedCandidates, no_good_match: bool, backend: Backend
) -> SearchResult:
    """The query's page of ``ranked`` as hits (with their stored documents when asked for)."""
    page = ranked.hits(query.offset, query.offset + query.k)
    started = time.perf_counter()
    if query.with_documents and page:
        _attach_documents(page, backend)
    run.timings_ms["fetch"] = (time.perf_counter() - started) * 1000
    return SearchResult(
        hits=page,
        total_candidates=len(ranked),
        query_text=query.text,
        expanded=[(c.text, c.weight) for c in run.clauses],
        channels=[r.channel for r in run.results],
        notices=run.notices,
        no_good_match=no_good_match,
        signals=run.signals,
        feedback_ids=run.feedback_ids,
        timings_ms={k: round(v, 3) for k, v in run.timings_ms.items()},
    )


def _attach_documents(hits: Sequence[Hit], backend: Backend) -> None:
    stored = {d.id: d for d in backend.get([h.id for h in hits])}
    for hit in hits:
        doc = stored.get(hit.id)
        if doc is not None:
            hit.document = doc.public()
            hit.colours = list(doc.enrichment.colours)
            hit.tags = list(doc.enrichment.tags)


def facet_counts(backend: Backend, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per field, value counts over the documents ``ids``, most frequent first (then by value).

    Attribute fields and the generated ``colours`` / ``tags`` count each value of a multi-valued field
    once per document.
    """
    counts: dict[str, dict[str, int]] = {field: {} for field in fields}
    if fields and len(ids):
        for doc in backend.get(ids):
            for field in fields:
                generated = field in ("colours", "tags")
                value: Any = getattr(doc.enrichment, field) if generated else doc.attributes.get(field)
                for item in value if isinstance(value, list) else [] if value is None else [value]:
                    key = str(item)
                    counts[field][key] = counts[field].get(key, 0) + 1
    return {f: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for f, c in counts.items()}
