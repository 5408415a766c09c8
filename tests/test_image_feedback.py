"""Image feedback: the photos of a text query's word matches with catalogue text sharpen its image search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blendsearch.backends.base import LexicalRequest, QueryClause, VectorRequest
from blendsearch.backends.memory import MemoryBackend
from blendsearch.config import EngineConfig, SearchSettings
from blendsearch.documents import Enrichment, StoredDocument
from blendsearch.engine import Engine
from blendsearch.eval.judgements import JudgedQuery
from blendsearch.eval.tune import collect_runs
from blendsearch.filters import TermFilter
from blendsearch.query.feedback import feedback_vector, retrieve
from blendsearch.query.hybrid import effective_settings
from blendsearch.query.models import HybridQuery

RED_DRESS, BLUE_SHOE, GREEN_BAG = np.eye(3, dtype=np.float32)


def _doc(id_: str, image: np.ndarray, title: str = "", tags: tuple[str, ...] = ()) -> StoredDocument:
    vector = (image / np.linalg.norm(image)).astype(np.float32)
    return StoredDocument(id=id_, title=title, enrichment=Enrichment(tags=list(tags)), image_vector=vector)


@pytest.fixture
def backend() -> MemoryBackend:
    store = MemoryBackend()
    store.upsert(
        [
            _doc("titled", RED_DRESS, title="red dress"),
            # Image-only products: one that looks like the titled dress, one the text vector points at.
            _doc("lookalike", RED_DRESS + 0.1 * GREEN_BAG),
            _doc("decoy", BLUE_SHOE + 0.3 * RED_DRESS),
            # Found by the words only through a generated tag: the model's guess, no feedback.
            _doc("tagged", GREEN_BAG, tags=("red", "dress")),
        ]
    )
    return store


def _requests(text_vector: np.ndarray) -> list:
    clause = [QueryClause(text="red dress")]
    return [
        LexicalRequest(channel="bm25", clauses=clause, fields={"title": 1.0}, k=10),
        LexicalRequest(channel="metadata", clauses=clause, fields={"tags": 1.0}, k=10),
        VectorRequest(channel="vector_image", field="image", vector=text_vector, k=10),
    ]


def _settings(count: int = 10, weight: float = 2.0) -> SearchSettings:
    return SearchSettings(image_feedback=count, image_feedback_weight=weight)


def test_word_matches_with_text_pull_their_lookalikes_up(backend: MemoryBackend) -> None:
    text = np.array([0.0, 1.0, 0.0], dtype=np.float32)  # a poor text vector: it points at the shoe
    query = HybridQuery(text="red dress")
    plain, _, none = retrieve(backend, query, _requests(text), _settings(count=0))
    results, sent, fed = retrieve(backend, query, _requests(text), _settings())
    assert none == [] and plain[2].ids[0] == "decoy"
    assert fed == ["titled"]  # "tagged" matched through a generated tag only
    assert [r.channel for r in results] == ["bm25", "metadata", "vector_image"]
    assert results[:2] == plain[:2]  # the lexical channels are untouched
    assert results[2].ids.index("lookalike") < results[2].ids.index("decoy")
    expected = feedback_vector(text, [RED_DRESS], 2.0)
    assert np.allclose(sent[2].vector, expected) and np.linalg.norm(sent[2].vector) == pytest.approx(1.0)


def test_feedback_vector_blends_unit_vectors() -> None:
    text = np.array([2.0, 0.0, 0.0], dtype=np.float32)
    blended = feedback_vector(text, [GREEN_BAG * 3, GREEN_BAG], 1.0)
    assert blended == pytest.approx(np.array([1.0, 0.0, 1.0]) / np.sqrt(2.0))
    assert feedback_vector(text, [], 1.0) == pytest.approx(RED_DRESS)


@pytest.mark.parametrize(
    ("query", "settings"),
    [
        (HybridQuery(image=np.ones(3), text="red dress"), _settings()),  # an image query already is a photo
        (HybridQuery(text="red dress"), _settings(count=0)),
        (HybridQuery(text="red dress"), _settings(weight=0.0)),
    ],
)
def test_no_feedback_where_it_does_not_apply(
    backend: MemoryBackend, query: HybridQuery, settings: SearchSettings
) -> None:
    requests = _requests(np.array([0.0, 1.0, 0.0], dtype=np.float32))
    results, sent, fed = retrieve(backend, query, requests, settings)
    assert fed == [] and sent == requests and results == backend.search(requests)


def test_no_feedback_without_a_lexical_channel_or_a_word_match(backend: MemoryBackend) -> None:
    text = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    vector_only = _requests(text)[2:]
    assert retrieve(backend, HybridQuery(text="red dress"), vector_only, _settings())[2] == []
    nothing = [r.model_copy(update={"clauses": [QueryClause(text="kaftan")]}) for r in _requests(text)[:2]]
    results, sent, fed = retrieve(
        backend, HybridQuery(text="kaftan"), [*nothing, _requests(text)[2]], _settings()
    )
    assert fed == [] and np.array_equal(sent[2].vector, text) and results[2].ids[0] == "decoy"


def test_a_query_can_switch_feedback_off() -> None:
    base = SearchSettings()
    assert base.image_feedback > 0
    assert effective_settings(base, HybridQuery(text="x", image_feedback=0)).image_feedback == 0
    assert effective_settings(base, HybridQuery(text="x")).image_feedback == base.image_feedback


def test_feedback_comes_from_matches_the_filters_allow(backend: MemoryBackend) -> None:
    backend.upsert([_doc("titled-men", BLUE_SHOE, title="red dress")])
    for doc, gender in (("titled", "Women"), ("titled-men", "Men")):
        stored = backend.get([doc], with_vectors=True)[0]
        backend.upsert([stored.model_copy(update={"attributes": {"gender": gender}})])
    only_men = [TermFilter(field="gender", value="Men")]
    requests = [r.model_copy(update={"filters": only_men}) for r in _requests(np.array([0.0, 0.0, 1.0]))]
    results, sent, fed = retrieve(backend, HybridQuery(text="red dress"), requests, _settings())
    assert fed == ["titled-men"]
    assert np.allclose(sent[2].vector, feedback_vector(np.array([0.0, 0.0, 1.0]), [BLUE_SHOE], 2.0))
    assert results[2].ids == ["titled-men"]  # the vector search keeps the filter too


def test_engine_runs_feed_back_unless_asked_not_to(tmp_path: Path) -> None:
    config = EngineConfig()
    config.encoder.model = "hash:32"
    shop = Path(__file__).resolve().parent.parent / "examples" / "shop" / "catalog.jsonl"
    query = JudgedQuery(qid="a", query="red dress", match={"articleType": ["Dresses"]})
    with Engine.open(tmp_path / "index", config) as engine:
        engine.ingest(shop)
        fed = engine.search("red dress").feedback_ids
        assert fed and set(fed) <= {d.id for d in engine.backend.get(fed) if d.title}
        assert collect_runs(engine, [query])[0].feedback_ids == fed
        assert collect_runs(engine, [query], image_feedback=0)[0].feedback_ids == []
