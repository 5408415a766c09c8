"""ElasticsearchBackend against noida-db's Elasticsearch 8 API (k-NN and RRF included).

noida-db starts once per session (``noida_url``); each test writes its own index (``unique_index``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import backend_scenarios as sc
import pytest
from servers import noida_server, noida_url, unique_index  # noqa: F401 - fixtures

from blendsearch.backends.cluster.elasticsearch import ElasticsearchBackend, rrf_retriever_body
from blendsearch.backends.cluster.migrate import alias_targets, migrate
from blendsearch.mappings import MappingSettings, build_elasticsearch_mapping

elasticsearch = pytest.importorskip("elasticsearch")


def _client(url: str) -> elasticsearch.Elasticsearch:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return elasticsearch.Elasticsearch(url)


@pytest.fixture
def loaded(noida_url: str, unique_index: str) -> ElasticsearchBackend:  # noqa: F811
    backend = ElasticsearchBackend(_client(noida_url), unique_index, mapping=MappingSettings(synonyms=False))
    sc.load(backend)
    return backend


def test_first_write_creates_versioned_index_behind_alias(loaded: ElasticsearchBackend) -> None:
    concrete = f"{loaded.index}-v1"
    assert alias_targets(loaded.client, loaded.index) == [concrete]
    mapping = loaded.client.indices.get_mapping(index=concrete)[concrete]["mappings"]
    assert mapping["properties"]["image_vector"] == {
        "type": "dense_vector",
        "dims": 4,
        "index": True,
        "similarity": "dot_product",
        "index_options": {"type": "hnsw", "m": 16, "ef_construction": 128},
    }
    analyze = {"analyzer": "blendsearch_text", "text": "Men's Crème T-Shirts 3.5"}
    tokens = loaded.client.indices.analyze(index=concrete, body=analyze)["tokens"]
    assert [t["token"] for t in tokens] == ["men", "s", "creme", "t", "shirt", "3", "5"]


def test_lexical_channels_match_memory_backend(loaded: ElasticsearchBackend) -> None:
    sc.check_lexical_parity(loaded)


def test_filters_match_reference_semantics(loaded: ElasticsearchBackend) -> None:
    sc.check_filters(loaded)


def test_knn_matches_memory_backend(loaded: ElasticsearchBackend) -> None:
    assert loaded.supports_vectors
    sc.check_vector_parity(loaded)


def test_documents_hashes_vocabulary_and_deletes(loaded: ElasticsearchBackend) -> None:
    sc.check_documents(loaded)


def test_present_fields_without_reading_documents(loaded: ElasticsearchBackend) -> None:
    sc.check_present_fields(loaded)


def test_image_feedback_matches_memory_backend(loaded: ElasticsearchBackend) -> None:
    sc.check_image_feedback(loaded)


def test_lexical_and_knn_in_one_msearch(loaded: ElasticsearchBackend) -> None:
    requests = [sc.lexical("leather"), sc.VECTOR_CASES["image"], sc.VECTOR_CASES["text"]]
    got = loaded.search(requests)
    want = sc.memory_backend().search(requests)
    assert [(r.channel, r.ids) for r in got] == [(r.channel, r.ids) for r in want]


def test_rrf_retriever_fuses_on_the_server(loaded: ElasticsearchBackend) -> None:
    requests = [sc.lexical("red running"), sc.VECTOR_CASES["image"]]
    body = rrf_retriever_body(requests, size=3, rank_window_size=10)
    hits = loaded.client.search(index=loaded.index, body=body)["hits"]["hits"]
    # p01 is first in both channels, p04 second by vector and third by BM25 (after the running jacket).
    assert [h["_id"] for h in hits][:2] == ["p01", "p04"]
    assert hits[0]["_score"] == pytest.approx(2 / 61, rel=1e-4)


def test_search_time_synonyms(tmp_path: Path) -> None:
    """The search analyzer applies blendsearch's synonym file, one-way rules keeping the user's word.

    On a private noida-db: it shares analyzers by name across indices, so an earlier index built
    without synonyms would shadow this one's.
    """
    with noida_server(tmp_path) as url:
        backend = ElasticsearchBackend(_client(url), "synonyms")  # synonyms on (blendsearch's own file)
        sc.load(backend)
        # "anorak, windcheater, windbreaker, parka => jackets": no document says windbreaker or parka.
        jacket = backend.search([sc.lexical("jacket")])[0].ids
        assert jacket == ["p06"]
        assert backend.search([sc.lexical("windbreaker")])[0].ids == jacket
        assert backend.search([sc.lexical("parka")])[0].ids == jacket


def test_bulk_reports_per_item_failures(noida_url: str, unique_index: str) -> None:  # noqa: F811
    body = build_elasticsearch_mapping(MappingSettings(dim=4, synonyms=False))
    body["mappings"]["properties"]["kw"]["properties"] = {"size": {"type": "long"}}
    client = _client(noida_url)
    client.indices.create(index=unique_index, body=body)
    backend = ElasticsearchBackend(client, unique_index, mapping=MappingSettings(synonyms=False))
    results = backend.upsert(sc.catalogue())
    failed = {r.id: r.error for r in results if not r.ok}
    assert sorted(failed) == ["p03", "p08"]
    assert all("parsing" in error for error in failed.values()), failed
    backend.flush()
    assert backend.count() == 7


def test_migrate_reindexes_and_swaps_alias(loaded: ElasticsearchBackend) -> None:
    new_body = build_elasticsearch_mapping(MappingSettings(dim=4, synonyms=False, es_index_type="int8_hnsw"))
    result = migrate(loaded.client, loaded.index, new_body)
    assert (result.previous, result.index, result.copied) == ([f"{loaded.index}-v1"], f"{loaded.index}-v2", 9)
    assert alias_targets(loaded.client, loaded.index) == [f"{loaded.index}-v2"]
    loaded.flush()
    sc.check_lexical_parity(loaded)
    assert loaded.search([sc.VECTOR_CASES["image"]])[0].ids == ["p01", "p04", "p07", "p05"]
