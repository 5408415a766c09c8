"""Hybrid query execution: plan per-channel requests, then fuse candidates with :mod:`blendsearch.scoring`.

Split in two so tuning can run each query once (:func:`plan_requests` + ``backend.search``) and re-fuse
many times offline (:func:`fuse_run`) with other weights, normalisations and combinations.

Between the two, :func:`unseen_candidates` finds which channels cannot see which candidates (an
image-only product has no text for ``bm25``): fusion credits those with the channel's mean instead of
scoring them as misses (see :func:`blendsearch.scoring.unseen_values`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from blendsearch.backends.base import (
    Backend,
    ChannelRequest,
    ChannelResult,
    LexicalRequest,
    QueryClause,
    VectorRequest,
)
from blendsearch.config import CHANNELS, SearchSettings
from blendsearch.encoders.base import l2_normalise
from blendsearch.query.models import ChannelScore, Hit, HybridQuery
from blendsearch.scoring import combine, normalise, ranks_descending

__all__ = [
    "QueryRun",
    "candidate_rows",
    "effective_settings",
    "find_unseen",
    "fuse_run",
    "plan_requests",
    "searched_fields",
    "seen_mask",
    "unseen_candidates",
]


class QueryRun(BaseModel):
    """A query's per-channel candidates before fusion, plus how they were obtained."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    query: HybridQuery
    settings: SearchSettings
    #: What was (or will be) sent to the backend; the same plan can run on several backends.
    requests: list[ChannelRequest] = Field(default_factory=list)
    results: list[ChannelResult] = Field(default_factory=list)
    #: Channel -> candidate ids it cannot see (none of the fields it searches); see :func:`unseen_candidates`.
    unseen: dict[str, list[str]] = Field(default_factory=dict)
    clauses: list[QueryClause] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


def effective_settings(base: SearchSettings, query: HybridQuery) -> SearchSettings:
    """The engine's settings with the query's own overrides applied (weights merge per channel)."""
    update: dict[str, object] = {}
    if query.weights is not None:
        unknown = set(query.weights) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channels {sorted(unknown)}; valid: {', '.join(CHANNELS)}")
        update["weights"] = {**base.weights, **query.weights}
    for name in ("normalisation", "combination", "rrf_k", "candidates", "min_probability"):
        value = getattr(query, name)
        if value is not None:
            update[name] = value
    return base.model_copy(update=update)


def plan_requests(
    query: HybridQuery,
    settings: SearchSettings,
    clauses: Sequence[QueryClause],
    text_vector: np.ndarray | None,
    image_vector: np.ndarray | None,
    vectors_available: bool,
) -> list[ChannelRequest]:
    """Build the channel requests a query needs.

    Text queries run ``bm25`` and ``metadata``; with a model, the text vector searches image vectors
    (text->image) and text vectors. An image query searches image vectors; text and image together search
    image vectors with their normalised sum and text vectors with the text alone.
    """
    wanted = set(query.channels) if query.channels is not None else set(CHANNELS)
    unknown = wanted - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown channels {sorted(unknown)}; valid: {', '.join(CHANNELS)}")
    wanted = {c for c in wanted if settings.weights.get(c, 0.0) > 0 or query.channels is not None}
    k = max(settings.candidates, query.offset + query.k)
    requests: list[ChannelRequest] = []
    if clauses:
        if "bm25" in wanted:
            requests.append(
                LexicalRequest(
                    channel="bm25",
                    clauses=list(clauses),
                    fields=settings.text_fields,
                    filters=query.filters,
                    k=k,
                )
            )
        if "metadata" in wanted:
            requests.append(
                LexicalRequest(
                    channel="metadata",
                    clauses=list(clauses),
                    fields=settings.metadata_fields,
                    filters=query.filters,
                    k=k,
                )
            )
    if vectors_available:
        if image_vector is not None and text_vector is not None:
            image_side = l2_normalise(image_vector + text_vector)
        else:
            image_side = image_vector if image_vector is not None else text_vector
        if image_side is not None and "vector_image" in wanted:
            requests.append(
                VectorRequest(
                    channel="vector_image", field="image", vector=image_side, filters=query.filters, k=k
                )
            )
        if text_vector is not None and "vector_text" in wanted:
            requests.append(
                VectorRequest(
                    channel="vector_text", field="text", vector=text_vector, filters=query.filters, k=k
                )
            )
    return requests


def searched_fields(request: ChannelRequest) -> frozenset[str]:
    """The stored fields a request reads (names as in :func:`blendsearch.backends.fields.present_fields`)."""
    if isinstance(request, LexicalRequest):
        return frozenset(name for name, boost in request.fields.items() if boost > 0)
    return frozenset({f"{request.field}_vector"})


def find_unseen(
    requests: Sequence[ChannelRequest],
    results: Sequence[ChannelResult],
    present: Mapping[str, frozenset[str]],
) -> dict[str, list[str]]:
    """Per channel, the candidates (of every channel's results) that have none of the fields it reads.

    ``present`` maps ids to their present fields; an id it lacks counts as seen (a miss, as before).
    """
    candidates = list(candidate_rows(results))
    unseen: dict[str, list[str]] = {}
    for request in requests:
        fields = searched_fields(request)
        ids = [i for i in candidates if i in present and not fields & present[i]]
        if ids:
            unseen[request.channel] = ids
    return unseen


def unseen_candidates(
    requests: Sequence[ChannelRequest], results: Sequence[ChannelResult], backend: Backend
) -> dict[str, list[str]]:
    """:func:`find_unseen` with the candidates' present fields looked up in ``backend``."""
    candidates = list(candidate_rows(results))
    if not candidates:
        return {}
    return find_unseen(requests, results, backend.present_fields(candidates))


def candidate_rows(results: Sequence[ChannelResult]) -> dict[str, int]:
    """Each candidate id of the channels' results -> its row, in order of first appearance."""
    rows: dict[str, int] = {}
    for result in results:
        for id_ in result.ids:
            rows.setdefault(id_, len(rows))
    return rows


def seen_mask(
    unseen: Mapping[str, Sequence[str]], results: Sequence[ChannelResult], rows: Mapping[str, int]
) -> np.ndarray:
    """[candidates, channels] booleans, False where the channel cannot see the candidate (``unseen``)."""
    seen = np.ones((len(rows), len(results)), dtype=bool)
    for j, result in enumerate(results):
        seen[[rows[i] for i in unseen.get(result.channel, ()) if i in rows], j] = False
    return seen


def fuse_run(run: QueryRun, settings: SearchSettings | None = None) -> list[Hit]:
    """Fuse a run's channel candidates into hits, best first (no pagination, no documents).

    Every hit lists every channel that ran, with raw/normalised/rank left None where that channel did
    not return it, and its contribution to the fused score. Candidates in ``run.unseen`` of a channel
    are credited with that channel's mean (:func:`blendsearch.scoring.unseen_values`), not a miss.
    """
    settings = settings or run.settings
    results = [r for r in run.results if r.ids]
    order = candidate_rows(results)
    if not order:
        return []
    n, c = len(order), len(results)
    raw = np.full((n, c), np.nan)
    norm = np.full((n, c), np.nan)
    rank = np.zeros((n, c))
    seen = seen_mask(run.unseen, results, order)
    for j, result in enumerate(results):
        rows = np.fromiter((order[i] for i in result.ids), dtype=np.int64, count=len(result.ids))
        scores = np.asarray(result.scores, dtype=np.float64)
        raw[rows, j] = scores
        norm[rows, j] = normalise(scores, settings.normalisation)
        rank[rows, j] = ranks_descending(scores)
    weights = np.array([settings.weights.get(r.channel, 0.0) for r in results])
    fusion = combine(norm, rank, weights, settings.combination, settings.rrf_k, seen)
    ids = list(order)
    scores = fusion.scores.tolist()
    ranked = sorted(range(n), key=lambda i: (-scores[i], i))
    names = [r.channel for r in results]
    # Plain lists and model_construct: the values come straight from numpy, so element access on arrays
    # and pydantic validation would only cost time (a query fuses a few hundred candidates).
    raw_rows, norm_rows = raw.tolist(), norm.tolist()
    rank_rows, share_rows = rank.astype(np.int64).tolist(), fusion.contributions.tolist()
    unseen_rows = (~seen & np.isnan(raw)).tolist()
    hits: list[Hit] = []
    for i in ranked:
        channels = {
            name: ChannelScore.model_construct(
                raw=None if math.isnan(raw_rows[i][j]) else raw_rows[i][j],
                normalised=None if math.isnan(norm_rows[i][j]) else norm_rows[i][j],
                rank=rank_rows[i][j] or None,
                contribution=share_rows[i][j],
                unseen=unseen_rows[i][j],
            )
            for j, name in enumerate(names)
        }
        hits.append(
            Hit.model_construct(
                id=ids[i],
                score=scores[i],
                probability=None,
                channels=channels,
                document=None,
                colours=[],
                tags=[],
            )
        )
    return hits
