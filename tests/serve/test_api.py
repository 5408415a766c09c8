"""Every endpoint of blendsearch serve, its answers and its error paths, through FastAPI's TestClient."""

from __future__ import annotations

import base64
import math
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from serve_helpers import API_KEY, SHOP, hand_calibration, make_client

from blendsearch import Engine, EngineConfig, HybridQuery

KEY = {"X-API-Key": API_KEY}
PHOTO = SHOP / "images" / "p010.png"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _ids(response) -> list[str]:  # noqa: ANN001 - a TestClient response
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["hits"]]


def _error(response, status: int, type_: str) -> str:  # noqa: ANN001
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["type"] == type_
    return body["error"]["message"]


# -- search --------------------------------------------------------------------------------------------


def test_search_matches_the_library(client: TestClient, built_index: Path) -> None:
    response = client.post("/v1/search", json={"text": "red dress", "k": 3})
    with Engine.open(built_index) as engine:
        expected = [hit.id for hit in engine.search("red dress").hits[:3]]
    assert _ids(response) == expected == ["p009", "p024", "p011"]
    hit = response.json()["hits"][0]
    assert hit["document"]["title"] == "Wrap midi dress" and hit["colours"] == ["Red"]
    assert hit["channels"] == {}  # explain off


def test_search_explain_facets_and_filters(client: TestClient) -> None:
    body = {
        "text": "red dress",
        "k": 2,
        "explain": True,
        "facets": ["gender", "colours"],
        "filters": [{"kind": "term", "field": "gender", "value": "Women"}],
    }
    result = client.post("/v1/search", json=body).json()
    assert [h["id"] for h in result["hits"]] == ["p009", "p016"]
    channels = result["hits"][0]["channels"]
    assert set(channels) == {"bm25", "metadata", "vector_image", "vector_text"}
    assert sum(c["contribution"] for c in channels.values()) == pytest.approx(result["hits"][0]["score"])
    assert result["facets"]["gender"] == {"Women": result["total_candidates"]}
    assert sum(result["facets"]["colours"].values()) >= result["total_candidates"] - 1


def test_facets_leave_the_results_as_they_are(client: TestClient) -> None:
    body = {"text": "blue", "k": 4, "offset": 2, "explain": True}
    plain = client.post("/v1/search", json=body).json()
    faceted = client.post("/v1/search", json={**body, "facets": ["articleType"]}).json()
    assert faceted["hits"] == plain["hits"]
    assert faceted["total_candidates"] == plain["total_candidates"]
    # every candidate counted once, but the four image-only products have no articleType
    assert sum(faceted["facets"]["articleType"].values()) == plain["total_candidates"] - 4


def test_search_weights_and_fusion_change_the_order(client: TestClient) -> None:
    base = {"text": "blue", "k": 5}
    lexical = _ids(client.post("/v1/search", json={**base, "weights": {"vector_image": 0, "vector_text": 0}}))
    vector = _ids(client.post("/v1/search", json={**base, "weights": {"bm25": 0, "metadata": 0}}))
    rrf = _ids(client.post("/v1/search", json={**base, "combination": "rrf"}))
    assert lexical != vector
    assert len(rrf) == 5


def test_search_image_feedback_option_reaches_the_engine(client: TestClient, built_index: Path) -> None:
    body = {"text": "red dress", "k": 5, "image_feedback": 5}
    with Engine.open(built_index) as engine:
        result = engine.search(HybridQuery(**body))
        assert result.feedback_ids  # the pinned index has it off: the request turned it on
        assert not engine.search(HybridQuery(text="red dress")).feedback_ids
    served = client.post("/v1/search", json=body)
    assert _ids(served) == [hit.id for hit in result.hits]
    assert served.json()["feedback_ids"] == result.feedback_ids


def test_search_get_with_filters(client: TestClient) -> None:
    ids = _ids(client.get("/v1/search", params={"q": "sneakers", "k": 3, "filter": ["price<60"]}))
    assert ids == ["p013", "p015", "p019"]
    _error(client.get("/v1/search", params={"q": "x", "filter": ["nonsense"]}), 422, "invalid_filter")
    _error(client.get("/v1/search"), 422, "validation_error")


def test_search_by_photo_base64_and_upload(client: TestClient) -> None:
    assert _ids(client.post("/v1/search", json={"image_base64": _b64(PHOTO), "k": 2}))[0] == "p010"
    data_url = "data:image/png;base64," + _b64(PHOTO)
    assert _ids(client.post("/v1/search", json={"image_base64": data_url, "k": 1})) == ["p010"]
    upload = client.post(
        "/v1/search/upload",
        files={"image": ("p010.png", PHOTO.read_bytes(), "image/png")},
        data={"query": '{"k": 2}'},
    )
    assert _ids(upload)[0] == "p010"


@pytest.mark.parametrize(
    ("body", "status", "type_"),
    [
        ({"k": 3}, 422, "validation_error"),  # neither text nor image
        ({"text": "x", "k": 101}, 422, "k_too_large"),
        ({"text": "x", "offset": 5000}, 422, "offset_too_large"),
        ({"text": "x" * 513}, 422, "query_too_long"),
        ({"text": "x", "unknown_field": 1}, 422, "validation_error"),
        ({"text": "x", "image_feedback": 101}, 422, "validation_error"),
        ({"image_base64": "not base64!"}, 422, "invalid_image"),
        ({"image_base64": base64.b64encode(b"hello").decode()}, 422, "invalid_image"),
        (
            {"text": "x", "filters": [{"kind": "range", "field": "price", "gte": "a"}]},
            422,
            "validation_error",
        ),
    ],
)
def test_search_errors(client: TestClient, body: dict, status: int, type_: str) -> None:
    _error(client.post("/v1/search", json=body), status, type_)


@pytest.mark.parametrize("body", [{"text": "x", "weights": {"nope": 1}}, {"text": "x", "channels": ["nope"]}])
def test_unknown_channels(client: TestClient, body: dict) -> None:
    response = client.post("/v1/search", json=body)
    assert response.status_code in (400, 422)  # rejected by the engine (400) or the query model (422)
    assert "unknown channels ['nope']" in response.json()["error"]["message"]


def test_bad_json_and_upload_errors(client: TestClient) -> None:
    bad = client.post("/v1/search", content=b"{not json", headers={"content-type": "application/json"})
    _error(bad, 422, "validation_error")
    files = {"image": ("p.png", PHOTO.read_bytes(), "image/png")}
    _error(client.post("/v1/search/upload", files=files, data={"query": "{"}), 422, "validation_error")
    _error(client.post("/v1/search/upload", data={"query": "{}"}), 422, "validation_error")


def test_image_pixel_and_body_limits(built_index: Path) -> None:
    with make_client(built_index, max_image_pixels=100, max_body_bytes=2048) as small:
        message = _error(small.post("/v1/search", json={"image_base64": _b64(PHOTO)}), 413, "image_too_large")
        assert "over the limit of 100" in message
        _error(small.post("/v1/search", json={"text": "x" * 3000}), 413, "body_too_large")


# -- documents ------------------------------------------------------------------------------------------


def test_get_document_and_image(client: TestClient) -> None:
    body = client.get("/v1/documents/p001").json()
    assert body["document"]["title"] == "Crew neck cotton t-shirt"
    assert body["enrichment"]["colours"] == ["Red"]
    assert body["image_url"] == "/v1/documents/p001/image"
    image = client.get("/v1/documents/p001/image")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.headers["cache-control"] == "public, max-age=3600"
    assert image.content == (SHOP / "images" / "p001.png").read_bytes()
    _error(client.get("/v1/documents/nope"), 404, "not_found")
    _error(client.get("/v1/documents/nope/image"), 404, "not_found")


def test_image_confined_to_the_root(index_copy: Path) -> None:
    from blendsearch import StoredDocument

    outside = str(SHOP.parent / "make_shop.py")
    with Engine.open(index_copy) as engine:  # stored directly: ingest would try to read the images
        engine.backend.upsert(
            [
                StoredDocument(id="dotdot", title="a", image="../make_shop.py"),
                StoredDocument(id="absolute", title="b", image=outside),
                StoredDocument(id="remote", title="c", image="https://example.invalid/a.png"),
                StoredDocument(id="zip", title="d", image="other.zip!a.png"),
                StoredDocument(id="missing", title="e", image="images/none.png"),
                StoredDocument(id="noimage", title="f"),
            ]
        )
    with make_client(index_copy) as confined:
        _error(confined.get("/v1/documents/dotdot/image"), 404, "image_outside_root")
        _error(confined.get("/v1/documents/absolute/image"), 404, "image_outside_root")
        _error(confined.get("/v1/documents/remote/image"), 404, "image_not_local")
        _error(confined.get("/v1/documents/zip/image"), 404, "image_not_local")
        _error(confined.get("/v1/documents/missing/image"), 404, "image_not_found")
        _error(confined.get("/v1/documents/noimage/image"), 404, "no_image")
    with make_client(index_copy, image_root=None) as rootless:
        _error(rootless.get("/v1/documents/p001/image"), 404, "no_image_root")


def test_similar_uses_the_stored_vector(client: TestClient) -> None:
    result = client.post("/v1/documents/p001/similar", json={"k": 3, "explain": True}).json()
    assert "p001" not in [h["id"] for h in result["hits"]] and len(result["hits"]) == 3
    assert result["channels"] == ["vector_image"]
    assert all(set(h["channels"]) == {"vector_image"} for h in result["hits"])
    women = {"k": 5, "filters": [{"kind": "term", "field": "gender", "value": "Women"}]}
    hits = client.post("/v1/documents/p001/similar", json=women).json()["hits"]
    assert hits and {h["document"]["attributes"]["gender"] for h in hits} == {"Women"}
    _error(client.post("/v1/documents/nope/similar", json={}), 404, "not_found")
    _error(client.post("/v1/documents/p001/similar", json={"k": 500}), 422, "k_too_large")


def test_writes_are_off_without_a_key(client: TestClient) -> None:
    _error(client.post("/v1/documents", content=b'{"id": "x"}\n'), 403, "writes_disabled")
    _error(client.delete("/v1/documents/p001"), 403, "writes_disabled")


def test_writes_need_the_right_key(writer: TestClient) -> None:
    _error(writer.delete("/v1/documents/p001"), 401, "unauthorized")
    _error(writer.delete("/v1/documents/p001", headers={"X-API-Key": "wrong"}), 403, "forbidden")
    bearer = {"Authorization": f"Bearer {API_KEY}"}
    assert writer.delete("/v1/documents/p001", headers=bearer).json() == {"id": "p001", "deleted": True}
    _error(writer.delete("/v1/documents/p001", headers=KEY), 404, "not_found")
    _error(writer.get("/v1/documents/p001"), 404, "not_found")


def test_ndjson_ingest_summary_and_rejects(writer: TestClient) -> None:
    body = "\n".join(
        [
            '{"id": "n1", "title": "Green wool scarf", "price": 12, "gender": "Unisex"}',
            "not json",
            '{"title": "no id here"}',
            "[1, 2]",
            '{"id": "n2", "title": "Orange beanie", "image": "images/p001.png"}',
        ]
    )
    response = writer.post("/v1/documents", content=body.encode(), headers=KEY)
    assert response.status_code == 200, response.text
    result = response.json()
    summary = result["summary"]
    assert (summary["read"], summary["indexed"], summary["rejected"]) == (5, 2, 3)
    assert [(r["position"], r["stage"]) for r in result["rejects"]] == [(2, "read"), (3, "map"), (4, "read")]
    assert result["rejects"][1]["reason"] == "missing id"
    assert _ids(writer.get("/v1/search", params={"q": "scarf"}))[0] == "n1"
    assert writer.get("/v1/documents/n2/image").status_code == 200
    assert writer.get("/v1/stats").json()["documents"] == 26
    _error(writer.post("/v1/documents", content=b"\n\n", headers=KEY), 422, "empty_body")


def test_cli_writes_become_visible_without_restart(writer: TestClient, index_copy: Path) -> None:
    assert writer.get("/v1/stats").json()["documents"] == 24
    assert writer.post("/v1/expand", json={"text": "zebra"}).json()["clauses"][0]["text"] == "zebra"
    from blendsearch import Document

    with Engine.open(index_copy) as other_process:  # another writer on the same files
        other_process.ingest([Document(id="z1", title="Zebra print scarf")])
    assert writer.get("/v1/stats").json()["documents"] == 25
    assert _ids(writer.get("/v1/search", params={"q": "zebra"}))[0] == "z1"
    # the vocabulary (typo correction) was refreshed too: "zebr" now corrects to the new word
    clauses = writer.post("/v1/expand", json={"text": "zebr"}).json()["clauses"]
    assert clauses[0]["text"] == "zebra"


def test_probabilities_and_no_good_match(writer: TestClient, index_copy: Path) -> None:
    from blendsearch.calibration import save_calibration

    assert writer.post("/v1/search", json={"text": "red dress"}).json()["hits"][0]["probability"] is None
    save_calibration(index_copy, hand_calibration())  # type: ignore[arg-type]  # fitted by another process
    result = writer.post("/v1/search", json={"text": "red dress", "k": 3, "explain": True}).json()
    best = result["hits"][0]
    cosine = best["channels"]["vector_image"]["raw"]
    assert best["probability"] == pytest.approx(1 / (1 + math.exp(-(10 * cosine - 5))))
    assert writer.get("/v1/stats").json()["calibrated"] is True
    similar = writer.post("/v1/documents/p009/similar", json={"k": 2})  # image query: no probability
    assert [h["probability"] for h in similar.json()["hits"]] == [None, None]
    strict = writer.post("/v1/search", json={"text": "red dress", "min_probability": 0.9}).json()
    assert strict["no_good_match"] is True and strict["hits"] == [] and strict["total_candidates"] == 0


def test_protected_reads(built_index: Path) -> None:
    with make_client(built_index, api_key=API_KEY, protect_reads=True) as guarded:
        _error(guarded.get("/v1/search", params={"q": "dress"}), 401, "unauthorized")
        assert guarded.get("/v1/search", params={"q": "dress"}, headers=KEY).status_code == 200
        assert guarded.get("/v1/health").status_code == 200  # liveness stays open


# -- index facts and tools -------------------------------------------------------------------------------


def test_stats_health_ready_fields(client: TestClient) -> None:
    stats = client.get("/v1/stats").json()
    assert (stats["documents"], stats["model"], stats["dim"]) == (24, "hash:64", 64)
    assert client.get("/v1/health").json() == {"status": "ok"}
    assert client.get("/v1/ready").json() == {
        "ready": True,
        "documents": 24,
        "model": "hash:64",
        "vectors": True,
    }
    fields = client.get("/v1/fields").json()
    assert fields["facets"] == ["gender", "articleType", "colour", "colours", "tags"]
    assert fields["numeric"] == ["price"]


def test_debug_scores(client: TestClient) -> None:
    report = client.post("/v1/debug-scores", json={"text": "red dress", "top": 2}).json()
    assert report["model"] == "hash:64"
    assert [c["id"] for c in report["candidates"]] == ["p009", "p024"]
    first = report["candidates"][0]
    assert first["logit"] == pytest.approx(10 * first["cosine"] - 5)
    _error(client.post("/v1/debug-scores", json={"top": 2}), 422, "validation_error")
    _error(client.post("/v1/debug-scores", json={"text": "x", "top": 0}), 422, "validation_error")


def test_debug_scores_without_a_model(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "plain", EngineConfig()) as engine:
        engine.ingest(SHOP / "catalog.jsonl")
    with make_client(tmp_path / "plain") as plain:
        message = _error(plain.post("/v1/debug-scores", json={"text": "dress"}), 400, "invalid_query")
        assert "needs a model" in message
        _error(plain.post("/v1/documents/p001/similar", json={}), 400, "invalid_query")


def test_expand(client: TestClient) -> None:
    expansion = client.post("/v1/expand", json={"text": "red dres"}).json()
    assert expansion["clauses"][0] == {"text": "red dress", "weight": 1.0}
    assert [s["name"] for s in expansion["stages"]][:2] == ["normalise", "typos"]
    _error(client.post("/v1/expand", json={"text": ""}), 422, "validation_error")


def test_unknown_route_and_method(client: TestClient) -> None:
    _error(client.get("/v1/nothing"), 404, "not_found")
    _error(client.put("/v1/search"), 405, "method_not_allowed")


def test_page_and_openapi(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/app.js">' in page.text
    assert client.get("/static/app.js").status_code == 200
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/v1/search", "/v1/documents/{doc_id}/similar", "/v1/debug-scores", "/v1/expand"} <= paths
    components = schema["components"]["schemas"]
    assert {"Hit", "SearchResponse", "IngestSummary", "IndexStats", "DebugReport", "ErrorResponse"} <= set(
        components
    )
    assert "HTTPValidationError" not in components
