# ruff: noqa: E501 - golden bodies read best one clause per line
"""Golden request bodies of the cluster backends, and the bulk retry path against scripted servers.

The bodies are checked against the documented DSL:
- OpenSearch k-NN query with efficient filter:
  https://docs.opensearch.org/latest/vector-search/filter-search-knn/efficient-knn-filtering/
- OpenSearch hybrid query + normalization-processor search pipeline (weights in [0, 1] summing to 1):
  https://docs.opensearch.org/latest/query-dsl/compound/hybrid/
  https://docs.opensearch.org/latest/search-plugins/search-pipelines/normalization-processor/
- Elasticsearch top-level knn (k, num_candidates, filter):
  https://www.elastic.co/guide/en/elasticsearch/reference/8.15/knn-search.html
- Elasticsearch rrf and linear retrievers:
  https://www.elastic.co/docs/reference/elasticsearch/rest-apis/retrievers/rrf-retriever
  https://www.elastic.co/docs/reference/elasticsearch/rest-apis/retrievers/linear-retriever
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from blendsearch.backends.base import LexicalRequest, QueryClause, VectorRequest
from blendsearch.backends.cluster.bulk import BulkSettings, backoff_delay, bulk_write
from blendsearch.backends.cluster.elasticsearch import (
    ElasticsearchBackend,
    linear_retriever_body,
    num_candidates,
    rrf_retriever_body,
)
from blendsearch.backends.cluster.opensearch import OpenSearchBackend, hybrid_pipeline_body, hybrid_query_body
from blendsearch.backends.cluster.queries import filter_clauses, lexical_query, query_text
from blendsearch.config import SearchSettings
from blendsearch.documents import StoredDocument
from blendsearch.exceptions import BackendError, ConfigError
from blendsearch.filters import RangeFilter, TermFilter, TermsFilter
from blendsearch.mappings import MappingSettings, to_source

FILTERS = [TermFilter(field="gender", value="Men")]
GENDER = {"term": {"kw.gender": "men"}}
LEXICAL = LexicalRequest(
    channel="bm25",
    clauses=[QueryClause(text="Red shoes SHOE"), QueryClause(text="trainers", weight=0.5)],
    fields={"title": 2.0, "description": 1.0},
    filters=FILTERS,
    k=20,
)
LEXICAL_QUERY = {
    "bool": {
        "should": [
            {"combined_fields": {"query": "red shoes", "fields": ["title^2", "description^1"], "boost": 1.0}},
            {"combined_fields": {"query": "trainers", "fields": ["title^2", "description^1"], "boost": 0.5}},
        ],
        "minimum_should_match": 1,
        "filter": [GENDER],
    }
}  # fmt: skip
VECTOR = VectorRequest(
    channel="vector_image",
    field="image",
    vector=np.array([0.5, -0.5, 0.5, 0.5], dtype=np.float32),
    k=7,
    filters=FILTERS,
)
OS_KNN = {
    "knn": {
        "image_vector": {"vector": [0.5, -0.5, 0.5, 0.5], "k": 7, "filter": {"bool": {"filter": [GENDER]}}}
    }
}
ES_KNN = {
    "field": "image_vector",
    "query_vector": [0.5, -0.5, 0.5, 0.5],
    "k": 7,
    "num_candidates": 14,
    "filter": [GENDER],
}


def test_filters_translate_to_the_reference_semantics() -> None:
    assert filter_clauses(
        [
            TermFilter(field="gender", value="MEN"),
            TermsFilter(field="articleType", values=["Jeans", "Belts"]),
            TermFilter(field="year", value=2012),
            TermsFilter(field="year", values=[2012, "2013"]),
            RangeFilter(field="price", gte=10, lt=20.5),
            RangeFilter(field="size"),
            TermFilter(field="dotted.key", value="x"),
        ]
    ) == [
        {"term": {"kw.gender": "men"}},
        {"terms": {"kw.articleType": ["belts", "jeans"]}},
        {"bool": {"should": [{"term": {"kw.year": "2012"}}, {"term": {"val.year": 2012.0}}], "minimum_should_match": 1}},
        {"bool": {"should": [{"terms": {"kw.year": ["2012", "2013"]}}, {"term": {"val.year": 2012.0}}], "minimum_should_match": 1}},
        {"range": {"num.price": {"gte": 10.0, "lt": 20.5}}},
        {"exists": {"field": "num.size"}},
        {"term": {"kw.dotted\u2024key": "x"}},
    ]  # fmt: skip


def test_lexical_query_is_bm25f_with_integer_weights() -> None:
    """combined_fields (Lucene's BM25F) refuses weights below 1: boosts are sent as field_weights makes
    them, the ones MemoryBackend and the embedded backend score with; weightless clauses and fields and
    clauses without a word are left out."""
    request = LexicalRequest(
        channel="metadata",
        clauses=[QueryClause(text="Red"), QueryClause(text="silk", weight=0.0), QueryClause(text="?!")],
        fields={"attributes": 1.0, "colours": 1.0, "tags": 0.0, "generated": 0.5},
    )
    assert lexical_query(request) == {
        "bool": {
            "should": [
                {"combined_fields": {"query": "red", "fields": ["attributes^2", "colours^2", "generated^1"], "boost": 1.0}},
            ],
            "minimum_should_match": 1,
        }
    }  # fmt: skip
    assert lexical_query(request.model_copy(update={"clauses": [QueryClause(text="?!")]})) is None


def test_query_text_folds_and_drops_repeated_stems() -> None:
    assert (
        query_text("Red SHOES shoe, Crème running runs") == "red shoes creme running"
    )  # runs: same stem as running
    assert query_text("?!") == ""


class FakeClient:
    """Records _msearch bodies and answers with canned responses."""

    def __init__(self, responses: list[dict[str, Any]]) -> None:
        self.bodies: list[list[dict[str, Any]]] = []
        self.responses = responses
        self.indices = self

    def exists(self, index: str) -> bool:
        return True

    def msearch(self, body: list[dict[str, Any]]) -> dict[str, Any]:
        self.bodies.append(body)
        return {"responses": self.responses}


def _hits(*pairs: tuple[str, float]) -> dict[str, Any]:
    return {"hits": {"hits": [{"_id": i, "_score": s} for i, s in pairs]}, "status": 200}


def test_opensearch_msearch_body_and_cosines() -> None:
    client = FakeClient([_hits(("a", 3.5), ("b", 1.25)), _hits(("a", 1.5), ("c", 0.8))])
    backend = OpenSearchBackend(client, "products", supports_vectors=True)
    results = backend.search(
        [LEXICAL, VECTOR, LEXICAL.model_copy(update={"clauses": [QueryClause(text="--")]})]
    )
    sort = [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}]
    assert client.bodies == [
        [
            {"index": "products"},
            {"size": 20, "_source": False, "track_scores": True, "sort": sort, "query": LEXICAL_QUERY},
            {"index": "products"},
            {"size": 7, "_source": False, "query": OS_KNN},
        ]
    ]
    assert [(r.channel, r.ids) for r in results] == [
        ("bm25", ["a", "b"]),
        ("vector_image", ["a", "c"]),
        ("bm25", []),
    ]
    assert results[0].scores == [3.5, 1.25]
    # innerproduct: score = 1 + ip (ip >= 0), 1 / (1 - ip) (ip < 0)
    assert results[1].scores == pytest.approx([0.5, -0.25])
    cosine = OpenSearchBackend(client, "products", mapping=MappingSettings(similarity="cosine"))
    assert cosine.score_to_cosine(0.75) == pytest.approx(0.5)  # cosinesimil: (1 + cos) / 2


def test_elasticsearch_msearch_body_and_cosines() -> None:
    client = FakeClient([_hits(("a", 0.75), ("b", 0.5))])
    backend = ElasticsearchBackend(client, "products")
    results = backend.search([VECTOR])
    assert client.bodies == [[{"index": "products"}, {"size": 7, "_source": False, "knn": ES_KNN}]]
    assert results[0].scores == pytest.approx([0.5, 0.0])  # (1 + cos) / 2
    assert (num_candidates(7), num_candidates(6000), num_candidates(20_000)) == (14, 10_000, 20_000)


def test_msearch_item_errors_raise_backend_errors() -> None:
    error = {"error": {"type": "search_phase_execution_exception", "reason": "boom"}, "status": 400}
    backend = OpenSearchBackend(FakeClient([error]), "products")
    with pytest.raises(BackendError, match="bm25 query failed: search_phase_execution_exception: boom"):
        backend.search([LEXICAL])


def test_opensearch_hybrid_pipeline_and_query() -> None:
    settings = SearchSettings(weights={"bm25": 1.0, "vector_image": 3.0}, combination="weighted_mean")
    assert hybrid_pipeline_body(["bm25", "vector_image"], settings) == {
        "description": "blendsearch hybrid fusion of bm25, vector_image",
        "phase_results_processors": [
            {
                "normalization-processor": {
                    "normalization": {"technique": "min_max"},
                    "combination": {"technique": "arithmetic_mean", "parameters": {"weights": [0.25, 0.75]}},
                }
            }
        ],
    }
    zscore = hybrid_pipeline_body(
        ["bm25"], SearchSettings(normalisation="zscore", combination="weighted_mean")
    )
    assert zscore["phase_results_processors"][0]["normalization-processor"]["normalization"] == {
        "technique": "z_score"
    }
    rrf = hybrid_pipeline_body(["bm25", "vector_image"], SearchSettings(combination="rrf", rrf_k=40))
    assert rrf["phase_results_processors"] == [
        {"score-ranker-processor": {"combination": {"technique": "rrf", "rank_constant": 40.0}}}
    ]
    with pytest.raises(ConfigError, match="minmax or zscore"):
        hybrid_pipeline_body(["bm25"], SearchSettings(normalisation="none", combination="weighted_mean"))
    empty = LEXICAL.model_copy(update={"clauses": [QueryClause(text="!")]})
    assert hybrid_query_body([LEXICAL, VECTOR, empty], size=5) == {
        "size": 5,
        "_source": False,
        "query": {"hybrid": {"queries": [LEXICAL_QUERY, OS_KNN, {"match_none": {}}]}},
    }


def test_elasticsearch_retriever_bodies() -> None:
    standard = {"standard": {"query": LEXICAL_QUERY}}
    assert rrf_retriever_body([LEXICAL, VECTOR], size=10, rank_window_size=50) == {
        "size": 10,
        "_source": False,
        "retriever": {
            "rrf": {"retrievers": [standard, {"knn": ES_KNN}], "rank_constant": 60, "rank_window_size": 50}
        },
    }
    assert linear_retriever_body([LEXICAL, VECTOR], {"bm25": 1.0, "vector_image": 0.5}, size=10) == {
        "size": 10,
        "_source": False,
        "retriever": {
            "linear": {
                "retrievers": [
                    {"retriever": standard, "weight": 1.0, "normalizer": "minmax"},
                    {"retriever": {"knn": ES_KNN}, "weight": 0.5, "normalizer": "minmax"},
                ],
                "rank_window_size": 100,
            }
        },
    }
    with pytest.raises(ConfigError):
        rrf_retriever_body([LEXICAL])


# -- bulk ---------------------------------------------------------------------------------------------------


class ScriptedHelpers:
    """A helpers module whose streaming_bulk answers each round from a script of statuses."""

    def __init__(self, rounds: list[list[int | Exception]]) -> None:
        self.rounds = rounds
        self.sent: list[list[str]] = []

    def streaming_bulk(self, client: object, actions: list[dict[str, Any]], **kwargs: Any) -> Iterator[Any]:
        assert kwargs["chunk_size"] == 500 and kwargs["max_chunk_bytes"] == 10 * 1024 * 1024
        assert kwargs["max_retries"] == 0 and kwargs["raise_on_error"] is False
        self.sent.append([a["_id"] for a in actions])
        for action, status in zip(actions, self.rounds.pop(0), strict=False):
            if isinstance(status, Exception):
                raise status
            item = {"_id": action["_id"], "status": status}
            if status >= 300:
                item["error"] = {
                    "type": "es_rejected_execution_exception"
                    if status == 429
                    else "mapper_parsing_exception",
                    "reason": f"status {status}",
                }
            else:
                item["result"] = "created"
            yield status < 300, {"index": item}


class Timeout(Exception):
    pass


def _actions(*ids: str) -> list[dict[str, Any]]:
    return [{"_op_type": "index", "_index": "x", "_id": i, "_source": {}} for i in ids]


def test_bulk_retries_only_retryable_items_with_capped_backoff() -> None:
    helpers = ScriptedHelpers([[201, 429, 400, 503], [429, 201], [201]])
    slept: list[float] = []
    settings = BulkSettings(initial_backoff=1.0, max_backoff=1.5)
    outcomes = bulk_write(
        None, _actions("a", "b", "c", "d"), helpers=helpers, settings=settings, sleep=slept.append
    )
    assert helpers.sent == [["a", "b", "c", "d"], ["b", "d"], ["b"]]
    assert slept == [1.0, 1.5]  # 1.0 * 2**0, then 1.0 * 2**1 capped at 1.5
    assert [(o.id, o.ok) for o in outcomes] == [("a", True), ("b", True), ("c", False), ("d", True)]
    assert outcomes[2].error == "mapper_parsing_exception: status 400"
    assert [backoff_delay(n, BulkSettings()) for n in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_bulk_gives_up_after_max_retries() -> None:
    helpers = ScriptedHelpers([[429], [429], [429]])
    outcomes = bulk_write(
        None, _actions("a"), helpers=helpers, settings=BulkSettings(max_retries=2), sleep=lambda s: None
    )
    assert len(helpers.sent) == 3
    assert (outcomes[0].ok, outcomes[0].status, outcomes[0].error) == (
        False,
        429,
        "es_rejected_execution_exception: status 429",
    )


def test_bulk_resends_what_a_transport_timeout_left_unreported() -> None:
    helpers = ScriptedHelpers([[201, Timeout("read timed out")], [201, 201]])
    outcomes = bulk_write(
        None,
        _actions("a", "b", "c"),
        helpers=helpers,
        is_retryable=lambda e: isinstance(e, Timeout),
        sleep=lambda s: None,
    )
    assert helpers.sent == [["a", "b", "c"], ["b", "c"]]
    assert all(o.ok for o in outcomes)
    with pytest.raises(ValueError, match="fatal"):
        bulk_write(
            None, _actions("a"), helpers=ScriptedHelpers([[ValueError("fatal")]]), sleep=lambda s: None
        )


class ScriptedServer:
    """A loopback HTTP server answering _bulk from a script and recording the NDJSON bodies it got."""

    def __init__(self, bulk_responses: list[tuple[int, dict[str, Any]]]) -> None:
        self.bulk_responses = bulk_responses
        self.bodies: list[list[dict[str, Any]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any] | None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_HEAD(self) -> None:  # noqa: N802 - index exists
                self._send(200, None)

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                server.bodies.append([json.loads(line) for line in raw.splitlines() if line.strip()])
                status, body = server.bulk_responses.pop(0)
                self._send(status, body)

            do_PUT = do_POST  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _docs() -> list[StoredDocument]:
    return [
        StoredDocument(id=i, title=f"item {i}", content_hash=f"h{i}", attributes={"size": "M"}) for i in "abc"
    ]


def _item(doc_id: str, status: int, error: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"_index": "products", "_id": doc_id, "status": status}
    if error:
        item["error"] = {"type": error, "reason": f"{error} on {doc_id}"}
    else:
        item["result"] = "created"
    return {"index": item}


@pytest.mark.parametrize("product", ["opensearch", "elasticsearch"])
def test_backend_bulk_ndjson_and_429_retry_over_http(product: str) -> None:
    first = {
        "took": 1,
        "errors": True,
        "items": [
            _item("a", 201),
            _item("b", 429, "es_rejected_execution_exception"),
            _item("c", 400, "mapper_parsing_exception"),
        ],
    }
    server = ScriptedServer([(200, first), (200, {"took": 1, "errors": False, "items": [_item("b", 201)]})])
    slept: list[float] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if product == "opensearch":
                from opensearchpy import OpenSearch

                backend: Any = OpenSearchBackend(
                    OpenSearch(hosts=[server.url]), "products", sleep=slept.append
                )
            else:
                from elasticsearch import Elasticsearch

                backend = ElasticsearchBackend(Elasticsearch(server.url), "products", sleep=slept.append)
            results = backend.upsert(_docs())
    finally:
        server.close()
    docs = _docs()
    expected_first = []
    for doc in docs:
        expected_first += [{"index": {"_index": "products", "_id": doc.id}}, to_source(doc)]
    assert server.bodies == [expected_first, expected_first[2:4]]
    assert slept == [0.5]
    assert [(r.id, r.ok, r.error) for r in results] == [
        ("a", True, None),
        ("b", True, None),
        ("c", False, "mapper_parsing_exception: mapper_parsing_exception on c"),
    ]


def test_opensearch_whole_request_503_is_retried() -> None:
    server = ScriptedServer(
        [(503, {"error": "overloaded"}), (200, {"took": 1, "errors": False, "items": [_item("a", 201)]})]
    )
    try:
        from opensearchpy import OpenSearch

        client = OpenSearch(hosts=[server.url], max_retries=0)
        backend = OpenSearchBackend(client, "products", sleep=lambda s: None)
        results = backend.upsert(_docs()[:1])
    finally:
        server.close()
    assert len(server.bodies) == 2 and results[0].ok


def test_unserialisable_vector_is_rejected_alone() -> None:
    server = ScriptedServer([(200, {"took": 1, "errors": False, "items": [_item("a", 201)]})])
    bad = StoredDocument(id="nan", image_vector=np.array([np.nan, 1.0], dtype=np.float32))
    try:
        from opensearchpy import OpenSearch

        backend = OpenSearchBackend(OpenSearch(hosts=[server.url]), "products")
        results = backend.upsert([_docs()[0], bad])
    finally:
        server.close()
    assert [(r.id, r.ok) for r in results] == [("a", True), ("nan", False)]
    assert "NaN" in (results[1].error or "")
    assert [line["index"]["_id"] for line in server.bodies[0][::2]] == ["a"]
