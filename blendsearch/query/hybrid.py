"""Hybrid query execution: plan per-channel requests, then fuse candidates with :mod:`blendsearch.scoring`.

Split in two so tuning can run each query once (:func:`plan_requests` + ``backend.search``) and re-fuse
many times offline (:func:`fuse_run`) with other weights, normalisations and combinations.

Between the two, :func:`unseen_candidates` finds which channels cannot see which candidates (an
image-only product has no text for ``bm25``): fusion credits those with the channel's mean instead of
scoring them as misses (see :func:`blendsearch.scoring.unseen_values`).
"""

from __future__ import annotations

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
from blendsearch.config import CHANNELS, SearchSettings, check_channels, check_weights
from blendsearch.encoders.base import l2_normalise
from blendsearch.expansion.models import QuerySignals
from blendsearch.query.models import Hit, HybridQuery
from blendsearch.query.ranked import RankedCandidates
from blendsearch.scoring import combine, normalise, ranks_descending

__all__ = [
    "QueryRun",
    "candidate_rows",
    "effective_settings",
    "find_unseen",
    "fuse_arrays",
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
    #: The products whose photos fed the image-vector search (:mod:`blendsearch.query.feedback`).
    feedback_ids: list[str] = Field(default_factory=list)
    #: How much of the query's wording the index knew (None: no text); a fused-calibration feature.
    signals: QuerySignals | None = None
    notices: list[str] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


def effective_settings(base: SearchSettings, query: HybridQuery) -> SearchSettings:
    """The engine's settings with the query's own overrides applied (weights merge per channel)."""
    update: dict[str, object] = {}
    weights = dict(base.weights)
    if query.weights is not None:
        weights.update(check_weights(query.weights, "weights", some_positive=False))
        update["weights"] = weights
    # Channels asked for by name whose configured weights are all 0 (the default switches ``vector_text``
    # off) rank with equal weights; weights the query itself set to 0 still count.
    named = query.channels or []
    switched_off = not any(weights.get(c, 0.0) > 0 for c in named)
    if named and switched_off and not set(query.weights or {}) & set(named):
        weights.update({c: 1.0 for c in check_channels(named)})
        update["weights"] = weights
    # The channels that would run must not all weigh 0: such a query ranks nothing.
    running = query.channels if query.channels is not None else list(CHANNELS)
    check_weights({c: weights.get(c, 0.0) for c in check_channels(running)}, "weights")
    for name in ("normalisation", "combination", "rrf_k", "candidates", "image_feedback", "min_probability"):
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
    wanted = set(check_channels(query.channels)) if query.channels is not None else set(CHANNELS)
    wanted = {c for c in wanted if settings.weights.get(c, 0.0) > 0 or query.channels is not None}
    k = max(settings.candidates, query.offset + query.k)
    requests: list[ChannelRequest] = []
    if clauses:
        for channel, fields in (("bm25", settings.text_fields), ("metadata", settings.metadata_fields)):
            if channel in wanted:
                request = LexicalRequest(
                    channel=channel, clauses=list(clauses), fields=fields, filters=query.filters, k=k
                )
                requests.append(request)
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
    """The stored fields a request reads (names as in :func:`blendsearch.search_fields.present_fields`)."""
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


def fuse_arrays(run: QueryRun, settings: SearchSettings | None = None) -> RankedCandidates:
    """Fuse a run's channel candidates into arrays, best first (ties in order of first appearance).

    Every channel that ran gets a column; candidates in ``run.unseen`` of a channel are credited with
    that channel's mean (:func:`blendsearch.scoring.unseen_values`), not a miss. Search builds hits only
    for the page it returns (:meth:`RankedCandidates.hits`).
    """
    settings = settings or run.settings
    results = [r for r in run.results if r.ids]
    order = candidate_rows(results)
    names = [r.channel for r in results]
    if not order:
        return RankedCandidates.empty(names, run.signals)
    n, c = len(order), len(results)
    raw = np.full((n, c), np.nan)
    norm = np.full((n, c), np.nan)
    rank = np.zeros((n, c), dtype=np.int64)
    seen = seen_mask(run.unseen, results, order)
    for j, result in enumerate(results):
        rows = np.fromiter((order[i] for i in result.ids), dtype=np.int64, count=len(result.ids))
        scores = np.asarray(result.scores, dtype=np.float64)
        raw[rows, j] = scores
        norm[rows, j] = normalise(scores, settings.normalisation)
        rank[rows, j] = ranks_descending(scores)
    weights = np.array([settings.weights.get(name, 0.0) for name in names])
    fusion = combine(norm, rank, weights, settings.combination, settings.rrf_k, seen)
    ranked = np.argsort(-fusion.scores, kind="stable")
    ids = list(order)
    return RankedCandidates(
        ids=[ids[i] for i in ranked.tolist()],
        channels=names,
        scores=fusion.scores[ranked],
        raw=raw[ranked],
        normalised=norm[ranked],
        rank=rank[ranked],
        contributions=fusion.contributions[ranked],
        unseen=(~seen & np.isnan(raw))[ranked],
        signals=run.signals,
    )


def fuse_run(run: QueryRun, settings: SearchSettings | None = None) -> list[Hit]:
    """Fuse a run's channel candidates into hits, best first (no pagination, no documents).

    Every hit lists every channel that ran, with raw/normalised/rank left None where that channel did
    not return it, and its contribution to the fused score. Candidates in ``run.unseen`` of a channel
    are credited with that channel's mean (:func:`blendsearch.scoring.unseen_values`), not a miss.
    For callers that need every candidate as a hit (tuning, evaluation, calibration fitting); search
    uses :func:`fuse_arrays` and builds hits for its page only.
    """
    return fuse_arrays(run, settings).hits()
