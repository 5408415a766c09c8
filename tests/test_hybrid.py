"""Planning channel requests and fusing their candidates into explained hits."""

from __future__ import annotations

import numpy as np
import pytest
from pinned_settings import four_channel_search

from blendsearch.backends.base import ChannelResult, LexicalRequest, QueryClause, VectorRequest
from blendsearch.backends.memory import MemoryBackend
from blendsearch.config import SearchSettings
from blendsearch.documents import Enrichment, StoredDocument
from blendsearch.query.hybrid import (
    QueryRun,
    effective_settings,
    find_unseen,
    fuse_run,
    plan_requests,
    searched_fields,
    unseen_candidates,
)
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
    settings = SearchSettings(weights={"bm25": 1.0, "vector_image": 1.0}, combination="weighted_mean")
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
    settings = four_channel_search()  # every channel weighted, so every channel is planned
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
    # the built-in defaults weight vector_text 0: a channel weighted 0 is not run unless asked for
    defaults = plan_requests(query, SearchSettings(), [QueryClause(text="red")], text_vec, image_vec, True)
    assert [r.channel for r in defaults] == ["bm25", "metadata", "vector_image"]


def test_plan_requests_without_vectors_and_channel_restriction() -> None:
    settings = SearchSettings()
    query = HybridQuery(text="red", channels=["metadata"])
    requests = plan_requests(query, settings, [QueryClause(text="red")], None, None, False)
    assert [r.channel for r in requests] == ["metadata"]


def test_query_needs_text_or_image() -> None:
    with pytest.raises(ValueError, match="needs text"):
        HybridQuery(text="  ")


def _text_request(fields: dict[str, float]) -> LexicalRequest:
    return LexicalRequest(channel="bm25", clauses=[QueryClause(text="red")], fields=fields)


def _image_request() -> VectorRequest:
    return VectorRequest(channel="vector_image", field="image", vector=np.ones(2, dtype=np.float32))


def test_searched_fields_are_boosted_fields_or_the_vector() -> None:
    assert searched_fields(_text_request({"title": 2.0, "tags": 0.0})) == {"title"}
    assert searched_fields(_image_request()) == {"image_vector"}


def test_find_unseen_lists_candidates_without_the_channels_fields() -> None:
    requests = [_text_request({"title": 1.0, "attributes": 1.0}), _image_request()]
    results = [
        ChannelResult(channel="bm25", ids=["text"], scores=[3.0]),
        ChannelResult(channel="vector_image", ids=["photo", "bare", "text"], scores=[0.9, 0.5, 0.1]),
    ]
    present = {
        "text": frozenset({"title", "image_vector"}),
        "photo": frozenset({"colours", "image_vector"}),
        "bare": frozenset({"attributes"}),  # no image vector yet returned: listed; fusion keeps its score
    }
    assert find_unseen(requests, results, present) == {"bm25": ["photo"], "vector_image": ["bare"]}
    # ids the backend does not know count as seen
    assert find_unseen(requests, results, {}) == {}


def _sparse_run(settings: SearchSettings, unseen: dict[str, list[str]]) -> QueryRun:
    # "photo" is an image-only product (bm25 cannot see it) and the best image match; "weak" is a
    # text product with a weak bm25 match. Normalised: bm25 a 1, weak 1/3, x 0; image photo 1,
    # weak 0.75, a 0.5, y 0.
    return QueryRun(
        query=HybridQuery(text="red dress"),
        settings=settings,
        results=[
            ChannelResult(channel="bm25", ids=["a", "weak", "x"], scores=[4.0, 2.0, 1.0]),
            ChannelResult(
                channel="vector_image", ids=["photo", "weak", "a", "y"], scores=[0.9, 0.85, 0.8, 0.7]
            ),
        ],
        unseen=unseen,
    )


def test_fuse_run_credits_an_unseen_channel_with_its_mean() -> None:
    settings = SearchSettings(weights={"bm25": 1.0, "vector_image": 1.0}, combination="weighted_mean")
    before = fuse_run(_sparse_run(settings, {}))
    assert [h.id for h in before] == ["a", "weak", "photo", "x", "y"]
    assert [h.score for h in before] == pytest.approx([0.75, (1 / 3 + 0.75) / 2, 0.5, 0.0, 0.0])
    hits = fuse_run(_sparse_run(settings, {"bm25": ["photo"]}))
    # bm25 credits "photo" with (1 + 1/3 + 0 + a miss 0) / 4 = 1/3 instead of a miss
    assert [h.id for h in hits] == ["a", "photo", "weak", "x", "y"]
    photo = hits[1]
    assert photo.score == pytest.approx((1 / 3 + 1.0) / 2)
    assert photo.channels["bm25"].normalised is None and photo.channels["bm25"].rank is None
    assert photo.channels["bm25"].contribution == pytest.approx(1 / 6)
    assert (photo.channels["bm25"].unseen, photo.channels["vector_image"].unseen) == (True, False)
    assert not any(h.channels["bm25"].unseen for h in hits if h.id != "photo")  # "y": searched, missed
    rrf_settings = settings.model_copy(update={"combination": "rrf", "rrf_k": 0.0})
    rrf = fuse_run(_sparse_run(rrf_settings, {"bm25": ["photo"]}))
    assert {h.id: h.score for h in rrf}["photo"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 4 + 1.0)


def test_unseen_candidates_asks_the_backend_what_each_candidate_has() -> None:
    backend = MemoryBackend()
    vector = np.array([1.0, 0.0], dtype=np.float32)
    backend.upsert(
        [
            StoredDocument(id="text", title="red dress", image_vector=vector, text_vector=vector),
            StoredDocument(id="photo", enrichment=Enrichment(colours=["red"]), image_vector=vector),
        ]
    )
    requests = [_text_request({"title": 2.0, "description": 1.0}), _image_request()]
    results = [
        ChannelResult(channel="bm25", ids=["text"], scores=[1.0]),
        ChannelResult(channel="vector_image", ids=["text", "photo"], scores=[1.0, 1.0]),
    ]
    assert unseen_candidates(requests, results, backend) == {"bm25": ["photo"]}
    assert unseen_candidates(requests, [], backend) == {}


def test_channels_asked_for_by_name_rank_even_when_their_configured_weight_is_0() -> None:
    base = SearchSettings()  # the built-in defaults switch vector_text off
    assert base.weights["vector_text"] == 0.0
    alone = effective_settings(base, HybridQuery(text="red", channels=["vector_text"]))
    assert alone.weights["vector_text"] == 1.0
    both = effective_settings(base, HybridQuery(text="red", channels=["vector_text", "bm25"]))
    assert both.weights == base.weights  # bm25 is weighted: the configured weights hold
    with pytest.raises(ValueError, match="every channel weight is 0"):
        query = HybridQuery(text="red", channels=["vector_text"], weights={"vector_text": 0})
        effective_settings(base, query)
