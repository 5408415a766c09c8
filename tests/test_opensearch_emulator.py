"""OpenSearchBackend against osmem-server (an in-memory OpenSearch API emulator without k-NN).

Each test gets a fresh clone of the emulator (``osmem_url``), so indices never leak between tests.
Parity with MemoryBackend is checked per channel the emulator serves (BM25/metadata, filters); k-NN
parity runs on noida-db (test_elasticsearch_emulator.py) and on a real cluster (test_cluster_contract.py).
"""

from __future__ import annotations

import json

import backend_scenarios as sc
import pytest
from servers import osmem_emulator, osmem_url  # noqa: F401 - fixtures

from blendsearch.backends.cluster.migrate import alias_targets, migrate
from blendsearch.backends.cluster.opensearch import OpenSearchBackend
from blendsearch.exceptions import BackendError
from blendsearch.mappings import MappingSettings, build_opensearch_mapping

opensearchpy = pytest.importorskip("opensearchpy")


class CountingClient(opensearchpy.OpenSearch):
    """Counts _msearch round trips."""

    msearch_calls = 0

    def msearch(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        type(self).msearch_calls += 1
        return super().msearch(*args, **kwargs)


def _backend(url: str, **kwargs: object) -> OpenSearchBackend:
    # No server-side synonyms: MemoryBackend has none, and osmem ignores synonym_graph anyway.
    kwargs.setdefault("mapping", MappingSettings(synonyms=False))
    return OpenSearchBackend(opensearchpy.OpenSearch(hosts=[url]), "products", **kwargs)


@pytest.fixture
def loaded(osmem_url: str) -> OpenSearchBackend:  # noqa: F811
    backend = _backend(osmem_url)
    sc.load(backend)
    return backend


def test_first_write_creates_versioned_index_behind_alias(loaded: OpenSearchBackend) -> None:
    client = loaded.client
    assert alias_targets(client, "products") == ["products-v1"]
    mapping = client.indices.get_mapping(index="products-v1")["products-v1"]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["title"] == {
        "type": "text",
        "analyzer": "blendsearch_text",
        "search_analyzer": "blendsearch_search",
    }
    assert mapping["properties"]["image_vector"]["dimension"] == 4
    assert mapping["properties"]["kw"]["properties"]["gender"] == {
        "type": "keyword",
        "normalizer": "blendsearch_lowercase",
    }
    assert mapping["properties"]["num"]["properties"]["year"] == {"type": "double"}
    tokens = client.indices.analyze(
        index="products-v1", body={"analyzer": "blendsearch_text", "text": "Crème Shoes"}
    )
    assert [t["token"] for t in tokens["tokens"]] == ["creme", "shoe"]


def _check_lexical_matches(backend: OpenSearchBackend) -> None:
    """osmem-server 0.1.6 accepts ``combined_fields`` but scores it as a ``most_fields`` sum (the same
    scores as ``multi_match`` ``most_fields``), not BM25F: only what matches is compared with
    MemoryBackend here; the BM25F ranks are checked on noida-db and real clusters (test_cluster_contract)."""
    requests = list(sc.LEXICAL_CASES.values())
    expected, got = sc.memory_backend().search(requests), backend.search(requests)
    for name, want, have in zip(sc.LEXICAL_CASES, expected, got, strict=True):
        assert sorted(have.ids) == sorted(want.ids), name
        assert have.scores == sorted(have.scores, reverse=True), name


def test_lexical_channels_match_memory_backend(loaded: OpenSearchBackend) -> None:
    _check_lexical_matches(loaded)


def test_filters_match_reference_semantics(loaded: OpenSearchBackend) -> None:
    sc.check_filters(loaded)


def test_documents_hashes_vocabulary_and_deletes(loaded: OpenSearchBackend) -> None:
    sc.check_documents(loaded)


def test_present_fields_without_reading_documents(loaded: OpenSearchBackend) -> None:
    sc.check_present_fields(loaded)


def test_all_channels_go_in_one_msearch(osmem_url: str) -> None:  # noqa: F811
    CountingClient.msearch_calls = 0
    backend = OpenSearchBackend(
        CountingClient(hosts=[osmem_url]), "products", mapping=MappingSettings(synonyms=False)
    )
    sc.load(backend)
    requests = [sc.lexical("shoes"), sc.lexical("red", channel="metadata"), sc.lexical("zzzz")]
    results = backend.search(requests)
    assert CountingClient.msearch_calls == 1
    assert [r.channel for r in results] == ["bm25", "metadata", "bm25"]
    expected = sc.memory_backend().search(requests)  # the same matches (osmem: see _check_lexical_matches)
    assert [sorted(r.ids) for r in results] == [sorted(r.ids) for r in expected]
    assert results[0].ids[:2] == ["p01", "p05"] and results[2].ids == []  # a BM25 tie breaks on the id


def test_emulator_without_knn_refuses_vector_requests(loaded: OpenSearchBackend) -> None:
    assert loaded.supports_vectors is False  # probed: osmem lists no opensearch-knn plugin
    with pytest.raises(BackendError, match="does not answer k-NN"):
        loaded.search([sc.lexical("shoes"), sc.VECTOR_CASES["image"]])


def test_bulk_reports_per_item_failures(osmem_url: str) -> None:  # noqa: F811
    """A document whose field type conflicts with the mapping is rejected alone, with the server's reason."""
    body = build_opensearch_mapping(MappingSettings(dim=4, synonyms=False))
    body["mappings"]["properties"]["num"]["properties"] = {"size": {"type": "long"}}
    body["mappings"]["properties"]["kw"]["properties"] = {"size": {"type": "long"}}
    client = opensearchpy.OpenSearch(hosts=[osmem_url])
    client.indices.create(index="strict-products", body=body)
    backend = OpenSearchBackend(client, "strict-products", mapping=MappingSettings(synonyms=False))
    results = backend.upsert(sc.catalogue())
    failed = {r.id: r.error for r in results if not r.ok}
    assert [r.id for r in results] == [d.id for d in sc.catalogue()]
    assert sorted(failed) == ["p03", "p08"]  # size "onesize" is not a long
    assert all("onesize" in error or "parse" in error for error in failed.values()), failed
    backend.flush()
    assert backend.count() == 7


def test_migrate_reindexes_and_swaps_alias(loaded: OpenSearchBackend) -> None:
    client = loaded.client
    new_body = build_opensearch_mapping(MappingSettings(dim=4, synonyms=False, m=32))
    result = migrate(client, "products", new_body)
    assert (result.previous, result.index, result.copied) == (["products-v1"], "products-v2", 9)
    assert alias_targets(client, "products") == ["products-v2"]
    loaded.flush()
    assert loaded.count() == 9
    _check_lexical_matches(loaded)
    again = migrate(client, "products", new_body, delete_previous=True)
    assert (again.index, again.deleted_previous) == ("products-v3", True)
    assert not client.indices.exists(index="products-v2")


def test_empty_index_answers_nothing(osmem_url: str) -> None:  # noqa: F811
    backend = _backend(osmem_url)
    assert backend.count() == 0
    assert backend.content_hashes(["p01"]) == {}
    assert backend.vocabulary() == {}
    assert backend.delete(["p01"]) == 0
    assert backend.search([sc.lexical("shoes")])[0].ids == []


def test_mappings_apply_cli_creates_index_and_moves_alias(osmem_url: str) -> None:  # noqa: F811
    from click.testing import CliRunner

    from blendsearch.cli import main

    url = f"opensearch+{osmem_url}?dim=4"
    runner = CliRunner()
    first = runner.invoke(
        main, ["mappings", "apply", "--backend-url", url, "--index", "shop-v1", "--alias", "shop"]
    )
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "created shop-v1, alias shop"
    second = runner.invoke(
        main, ["mappings", "apply", "--backend-url", url, "--index", "shop-v2", "--alias", "shop", "--json"]
    )
    assert json.loads(second.output) == {
        "index": "shop-v2",
        "alias": "shop",
        "alias_moved_from": ["shop-v1"],
        "dim": 4,
    }
    client = opensearchpy.OpenSearch(hosts=[osmem_url])
    assert alias_targets(client, "shop") == ["shop-v2"]
    mapping = client.indices.get_mapping(index="shop-v2")["shop-v2"]["mappings"]
    assert mapping["properties"]["text_vector"]["dimension"] == 4


def test_drop_deletes_the_indices_behind_the_alias_only(loaded: OpenSearchBackend) -> None:
    migrate(loaded.client, "products", loaded.index_body(MappingSettings(dim=4, synonyms=False)))
    assert sorted(loaded.client.indices.get(index="products-*")) == ["products-v1", "products-v2"]
    assert loaded.drop() == ["products-v2"]
    assert loaded.exists() is False
    # The previous index migrate kept (the way back) is not behind the alias, and drop leaves it.
    assert sorted(loaded.client.indices.get(index="products-*")) == ["products-v1"]
    assert loaded.drop() == []
