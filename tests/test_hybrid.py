"""Planning channel requests and fusing their candidates into explained hits."""

from __future__ import annotations

import numpy as np
import pytest

from blendsearch.backends.base import ChannelResult, LexicalRequest, QueryClause, VectorRequest
from blendsearch.config import SearchSettings
from blendsearch.query.hybrid import QueryRun, effective_settings, fuse_run, plan_requests
from blendsearch.query.models import HybridQuery


def _run(settings: SearchSettings) -> QueryRun:
    return QueryRun(
        query=HybridQuery(text="red dress"),
        settings=settings,
        results=[
            ChannelResult(channel="bm25", ids=["a", "b"], scores=[4.0, 2.0]),
            ChannelResult(channel="vector_image", ids=["c", "b"], scores=[0.9, 0.7]),
        ],
    )


def test_fuse_run_explains_every_channel() -> None:
    settings = SearchSettings(weights={"bm25": 1.0, "vector_image": 1.0})
    hits = fuse_run(_run(settings))
    assert [h.id for h in hits] == ["a", "c", "b"]
    assert [h.score for h in hits] == pytest.approx([0.5, 0.5, 0.0])
    b = hits[2]
    assert b.channels["bm25"].raw == 2.0 and b.channels["bm25"].rank == 2
    a = hits[0]
    assert a.channels["vector_image"].raw is None and a.channels["vector_image"].rank is None
    assert sum(c.contribution for c in a.channels.values()) == pytest.approx(a.score)


def test_fuse_run_rrf_rewards_agreement() -> None:
    settings = SearchSettings(weights={"bm25": 1.0, "vector_image": 1.0}, combination="rrf", rrf_k=60)
    hits = fuse_run(_run(settings))
    assert hits[0].id == "b"
    assert hits[0].score == pytest.approx(2 / 62)


def test_effective_settings_merges_weights() -> None:
    base = SearchSettings()
    merged = effective_settings(base, HybridQuery(text="x", weights={"bm25": 3.0}, combination="rrf"))
    assert merged.weights["bm25"] == 3.0 and merged.weights["vector_image"] == base.weights["vector_image"]
    assert merged.combination == "rrf"
    with pytest.raises(ValueError, match="unknown channels"):
        effective_settings(base, HybridQuery(text="x", weights={"colour": 1.0}))


def test_plan_requests_text_image_and_filters() -> None:
    settings = SearchSettings()
    query = HybridQuery(text="red", image=b"...", k=5, filters=[{"kind": "term", "field": "g", "value": "x"}])
    text_vec = np.array([1.0, 0.0], dtype=np.float32)
    image_vec = np.array([0.0, 1.0], dtype=np.float32)
    requests = plan_requests(query, settings, [QueryClause(text="red")], text_vec, image_vec, True)
    assert [r.channel for r in requests] == ["bm25", "metadata", "vector_image", "vector_text"]
    assert all(r.filters == query.filters for r in requests)
    image_req = requests[2]
    assert isinstance(image_req, VectorRequest)
    assert image_req.vector == pytest.approx(np.array([1, 1]) / np.sqrt(2))
    assert isinstance(requests[0], LexicalRequest) and requests[0].k == settings.candidates


def test_plan_requests_without_vectors_and_channel_restriction() -> None:
    settings = SearchSettings()
    query = HybridQuery(text="red", channels=["metadata"])
    requests = plan_requests(query, settings, [QueryClause(text="red")], None, None, False)
    assert [r.channel for r in requests] == ["metadata"]


def test_query_needs_text_or_image() -> None:
    with pytest.raises(ValueError, match="needs text"):
        HybridQuery(text="  ")
