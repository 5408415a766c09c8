"""The backend contract against a real cluster, gated on OPENSEARCH_URL / ELASTICSEARCH_URL.

Start one with ``docker compose up -d`` (see docs/cluster-backends.md), then e.g.
``OPENSEARCH_URL=http://localhost:9200 ELASTICSEARCH_URL=http://localhost:9201 pytest -m cluster``.
The URLs may carry credentials and options (``https://user:pass@host:9200?verify_certs=false``).
Without them every test here is skipped with that reason. Indices are named per test and deleted after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import backend_scenarios as sc
import pytest

from blendsearch.backends.cluster.backend import RemoteBackend
from blendsearch.backends.cluster.migrate import alias_targets, migrate
from blendsearch.backends.cluster.url import backend_from_url
from blendsearch.config import EngineConfig, ExpansionSettings, SearchSettings

pytestmark = pytest.mark.cluster

_ENV = {"opensearch": "OPENSEARCH_URL", "elasticsearch": "ELASTICSEARCH_URL"}


def _url(product: str) -> str:
    raw = os.environ.get(_ENV[product])
    if not raw:
        pytest.skip(f"{_ENV[product]} is not set (no real {product} cluster to test against)")
    return raw if raw.startswith(f"{product}+") else f"{product}+{raw}"


def _backend(product: str, index: str, **options: str) -> RemoteBackend:
    url = _url(product)
    query = "&".join(f"{k}={v}" for k, v in options.items())
    if query:
        url += ("&" if "?" in url else "?") + query
    # Client-side synonym expansion on (the default): the server-side filter stays off, as MemoryBackend.
    backend = backend_from_url(url, index, EngineConfig())
    assert isinstance(backend, RemoteBackend)
    return backend


@pytest.fixture(params=["opensearch", "elasticsearch"])
def product(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def index_name(product: str) -> Iterator[str]:
    name = f"bs-contract-{uuid.uuid4().hex[:8]}"
    yield name
    backend = _backend(product, name)
    # Deleting by wildcard is refused by default (action.destructive_requires_name): name each index.
    for concrete in dict(backend.client.indices.get(index=f"{name}*")):
        backend.client.indices.delete(index=concrete)
    backend.close()


@pytest.fixture
def loaded(product: str, index_name: str) -> Iterator[RemoteBackend]:
    backend = _backend(product, index_name)
    sc.load(backend)
    yield backend
    backend.close()


def test_alias_and_mapping(loaded: RemoteBackend) -> None:
    assert alias_targets(loaded.client, loaded.index) == [f"{loaded.index}-v1"]
    assert loaded.supports_vectors


def test_lexical_parity(loaded: RemoteBackend) -> None:
    sc.check_lexical_parity(loaded)


def test_filters(loaded: RemoteBackend) -> None:
    sc.check_filters(loaded)


def test_knn_parity(loaded: RemoteBackend) -> None:
    sc.check_vector_parity(loaded)


def test_documents(loaded: RemoteBackend) -> None:
    sc.check_documents(loaded)


def test_present_fields(loaded: RemoteBackend) -> None:
    sc.check_present_fields(loaded)


def test_image_feedback(loaded: RemoteBackend) -> None:
    sc.check_image_feedback(loaded)


def test_one_msearch_mixes_channels(loaded: RemoteBackend) -> None:
    requests = [sc.lexical("leather"), sc.VECTOR_CASES["image"], sc.VECTOR_CASES["image filtered"]]
    want = sc.memory_backend().search(requests)
    assert [r.ids for r in loaded.search(requests)] == [r.ids for r in want]


def test_bulk_rejects_a_vector_of_the_wrong_dimension(loaded: RemoteBackend) -> None:
    doc = sc.catalogue()[0].model_copy(update={"id": "bad", "image_vector": sc.unit(1, 0, 0)})
    results = loaded.upsert([doc, sc.catalogue()[1]])
    assert [(r.id, r.ok) for r in results] == [("bad", False), ("p02", True)]
    assert results[0].error


def test_migration_keeps_serving(loaded: RemoteBackend) -> None:
    result = migrate(
        loaded.client, loaded.index, loaded.index_body(loaded.mapping.model_copy(update={"dim": 4}))
    )
    assert result.index == f"{loaded.index}-v2" and result.copied == 9
    loaded.flush()
    sc.check_lexical_parity(loaded)
    sc.check_vector_parity(loaded)


def test_server_side_fusion(loaded: RemoteBackend, product: str) -> None:
    requests = [sc.lexical("red shoes"), sc.VECTOR_CASES["image"]]
    if product == "opensearch":
        from blendsearch.backends.cluster.opensearch import create_hybrid_pipeline, hybrid_query_body

        name = f"{loaded.index}-hybrid"
        create_hybrid_pipeline(loaded.client, name, SearchSettings(), channels=["bm25", "vector_image"])
        body = hybrid_query_body(requests, size=3)
        hits = loaded.client.search(index=loaded.index, body=body, params={"search_pipeline": name})["hits"][
            "hits"
        ]
        loaded.client.transport.perform_request("DELETE", f"/_search/pipeline/{name}")
    else:
        from blendsearch.backends.cluster.elasticsearch import rrf_retriever_body

        hits = loaded.client.search(index=loaded.index, body=rrf_retriever_body(requests, size=3))["hits"][
            "hits"
        ]
    assert hits[0]["_id"] == "p01"


def test_search_time_synonyms(product: str, index_name: str) -> None:
    url = _url(product)
    config = EngineConfig(expansion=ExpansionSettings(synonyms=False))  # server-side synonyms on
    backend = backend_from_url(url, index_name, config)
    sc.load(backend)
    assert backend.search([sc.lexical("windbreaker")])[0].ids == ["p06"]
