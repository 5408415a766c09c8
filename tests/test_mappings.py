# ruff: noqa: E501 - expected mappings read best one field per line
"""Index mappings, analysis settings, the document layout and the ``mappings`` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from blendsearch.backends.cluster.url import backend_from_url, is_cluster_url, parse_backend_url
from blendsearch.cli import main
from blendsearch.config import EngineConfig, ExpansionSettings, FieldMapping
from blendsearch.documents import Enrichment, StoredDocument
from blendsearch.exceptions import ConfigError
from blendsearch.mappings import (
    MappingSettings,
    build_elasticsearch_mapping,
    build_index_template,
    build_opensearch_mapping,
    from_source,
    load_synonym_rules,
    to_source,
)
from blendsearch.mappings.analysis import keep_originals

TEXT = {"type": "text", "analyzer": "blendsearch_text", "search_analyzer": "blendsearch_search"}


def test_opensearch_mapping_has_knn_vectors_text_keywords_and_numbers() -> None:
    body = build_opensearch_mapping(
        MappingSettings(dim=512, engine="lucene", m=24, ef_construction=200, shards=2)
    )
    assert body["settings"]["index"] == {"number_of_shards": 2, "knn": True}
    props = body["mappings"]["properties"]
    assert (
        props["image_vector"]
        == props["text_vector"]
        == {
            "type": "knn_vector",
            "dimension": 512,
            "method": {
                "name": "hnsw",
                "engine": "lucene",
                "space_type": "innerproduct",
                "parameters": {"m": 24, "ef_construction": 200},
            },
        }
    )
    for name in ("title", "description", "attributes", "colours", "tags", "generated"):
        assert props[name] == TEXT
    assert props["doc"] == {"type": "object", "enabled": False}
    assert props["content_hash"] == {"type": "keyword"} and props["id"] == {"type": "keyword"}
    assert body["mappings"]["dynamic"] == "strict"
    keyword_template = body["mappings"]["dynamic_templates"][0]["filter_keywords"]
    assert keyword_template["mapping"] == {"type": "keyword", "normalizer": "blendsearch_lowercase"}
    cosine = build_opensearch_mapping(MappingSettings(dim=4, similarity="cosine", ef_search=64))
    assert cosine["mappings"]["properties"]["image_vector"]["method"]["space_type"] == "cosinesimil"
    assert cosine["settings"]["index"]["knn.algo_param.ef_search"] == 64


def test_elasticsearch_mapping_has_dense_vectors() -> None:
    body = build_elasticsearch_mapping(
        MappingSettings(dim=8, text_dim=16, es_index_type="int8_hnsw", similarity="cosine")
    )
    props = body["mappings"]["properties"]
    assert props["image_vector"] == {
        "type": "dense_vector",
        "dims": 8,
        "index": True,
        "similarity": "cosine",
        "index_options": {"type": "int8_hnsw", "m": 16, "ef_construction": 128},
    }
    assert props["text_vector"]["dims"] == 16
    assert "knn" not in body["settings"]["index"]


def test_lexical_only_mapping_without_dim_and_declared_numeric_fields() -> None:
    body = build_elasticsearch_mapping(MappingSettings(numeric_fields=["price", "a.b"]))
    props = body["mappings"]["properties"]
    assert "image_vector" not in props and "text_vector" not in props
    assert props["num"]["properties"] == {"price": {"type": "double"}, "a\u2024b": {"type": "double"}}


def test_search_analyzer_inlines_synonyms_keeping_originals(tmp_path: Path) -> None:
    rules = tmp_path / "syn.txt"
    rules.write_text("# comment\n\ntee, tshirt\nslacks, chinos => trousers\n")
    assert load_synonym_rules(str(rules)) == ["tee, tshirt", "slacks, chinos => trousers"]
    analysis = build_opensearch_mapping(MappingSettings(synonyms_file=str(rules)))["settings"]["analysis"]
    assert analysis["filter"]["blendsearch_synonyms"] == {
        "type": "synonym_graph",
        "synonyms": ["tee, tshirt", "slacks => slacks, trousers", "chinos => chinos, trousers"],
        "lenient": True,
    }
    assert analysis["analyzer"]["blendsearch_search"]["filter"] == [
        "lowercase",
        "asciifolding",
        "blendsearch_synonyms",
        "porter_stem",
    ]
    assert analysis["analyzer"]["blendsearch_text"]["filter"] == ["lowercase", "asciifolding", "porter_stem"]
    plain = build_opensearch_mapping(MappingSettings(synonyms=False))["settings"]["analysis"]
    assert "filter" not in plain
    assert plain["analyzer"]["blendsearch_search"]["filter"] == ["lowercase", "asciifolding", "porter_stem"]
    assert keep_originals("a, b => b, c") == ["a => a, b, c", "b => b, c"]
    with pytest.raises(ConfigError, match="does not exist"):
        load_synonym_rules(str(tmp_path / "missing.txt"))


def test_packaged_synonym_file_is_used_by_default() -> None:
    from importlib import resources

    packaged = resources.files("blendsearch.expansion").joinpath("data/synonyms.txt")
    if not packaged.is_file():
        pytest.skip("blendsearch/expansion/data/synonyms.txt is absent")
    rules = load_synonym_rules()
    assert rules and rules == load_synonym_rules(str(packaged))


def test_index_template_wraps_the_index_body() -> None:
    body = build_opensearch_mapping(MappingSettings(dim=4))
    template = build_index_template(body, ["products-v*"], priority=200)
    assert template == {"index_patterns": ["products-v*"], "priority": 200, "template": body}
    assert template["template"] is not body
    with pytest.raises(ValueError):
        build_index_template(body, [])


def test_document_layout_round_trips() -> None:
    doc = StoredDocument(
        id="A.1",
        title="Crème Shoes",
        description="for running",
        attributes={"Size": "42", "year": 2012, "sale": True, "tags2": ["X", "y"], "price.eur": 9.5},
        enrichment=Enrichment(colours=["red"], tags=["sports"], description="a red shoe"),
        content_hash="h",
        image_vector=np.array([0.6, 0.8], dtype=np.float32),
    )
    source = to_source(doc)
    assert source["kw"] == {
        "Size": ["42"],
        "year": ["2012"],
        "sale": ["true"],
        "tags2": ["x", "y"],
        "price\u2024eur": ["9.5"],
        "colours": ["red"],
        "tags": ["sports"],
        "id": ["a.1"],
    }
    assert source["num"] == {"Size": [42.0], "year": [2012.0], "sale": [1.0], "price\u2024eur": [9.5]}
    assert source["val"] == {"year": [2012.0], "sale": [1.0], "price\u2024eur": [9.5]}
    assert source["attributes"] == "42 2012 True X y 9.5"
    assert source["words"] == [
        "creme",
        "shoes",
        "for",
        "running",
        "42",
        "2012",
        "true",
        "x",
        "y",
        "9",
        "5",
        "red",
        "sports",
        "a",
        "shoe",
    ]
    assert source["image_vector"] == pytest.approx([0.6, 0.8]) and "text_vector" not in source
    assert "image_vector" not in source["doc"]
    back = from_source(json.loads(json.dumps(source)), with_vectors=True)
    assert back.model_dump(exclude={"image_vector"}) == doc.model_dump(exclude={"image_vector"})
    np.testing.assert_allclose(back.image_vector, doc.image_vector)
    assert from_source(source).image_vector is None
    with pytest.raises(ValueError, match="NaN"):
        to_source(doc.model_copy(update={"text_vector": np.array([np.inf], dtype=np.float32)}))


def test_backend_url_parsing_and_settings() -> None:
    parsed = parse_backend_url(
        "opensearch+https://us%40r:p%3Ass@search.example:9243/shop?verify_certs=false&m=32"
    )
    assert (parsed.product, parsed.node, parsed.index) == (
        "opensearch",
        "https://search.example:9243",
        "shop",
    )
    assert (parsed.username, parsed.password) == ("us@r", "p:ss")
    assert "p:ss" not in repr(parsed)
    config = EngineConfig(fields=FieldMapping(numeric=["price"]), expansion=ExpansionSettings(synonyms=False))
    backend = backend_from_url(
        "elasticsearch+http://localhost:9200?dim=8&chunk_size=50&vectors=false", "idx", config
    )
    assert type(backend).__name__ == "ElasticsearchBackend"
    assert backend.index == "idx" and backend.supports_vectors is False  # type: ignore[attr-defined]
    assert backend.mapping.dim == 8 and backend.mapping.numeric_fields == ["price"]  # type: ignore[attr-defined]
    assert backend.mapping.synonyms is True  # type: ignore[attr-defined]  # client-side synonyms are off
    assert backend.bulk_settings.chunk_size == 50  # type: ignore[attr-defined]
    default = backend_from_url("opensearch+http://localhost/shop", "ignored")
    assert default.index == "shop" and default.mapping.synonyms is False  # type: ignore[attr-defined]
    assert is_cluster_url("opensearch+https://h") and is_cluster_url("elasticsearch+http://h:1/i")
    assert not any(is_cluster_url(v) for v in (None, "", "runs/idx", "http://h", "solr+http://h"))
    for bad in ("http://localhost:9200", "opensearch+ftp://x", "solr+http://x", "opensearch+http://x?m=1"):
        with pytest.raises(ConfigError):
            backend_from_url(bad, "i")


@pytest.mark.parametrize("product", ["opensearch", "elasticsearch"])
@pytest.mark.parametrize("extra", [[], ["--no-synonyms"], ["--template", "shop-*"]])
def test_mappings_show_cli(product: str, extra: list[str]) -> None:
    result = CliRunner().invoke(
        main, ["mappings", "show", "--backend", product, "--dim", "16", "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    mapping = body["template"]["mappings"] if "--template" in extra else body["mappings"]
    field = mapping["properties"]["image_vector"]
    assert field.get("dimension", field.get("dims")) == 16
    assert ("filter" in (body.get("template") or body)["settings"]["analysis"]) is (
        "--no-synonyms" not in extra
    )


def test_mappings_apply_cli_reports_connection_errors() -> None:
    result = CliRunner().invoke(
        main,
        ["mappings", "apply", "--backend-url", "opensearch+http://127.0.0.1:9?timeout=1", "--index", "x"],
    )
    assert result.exit_code == 1
    assert "OpenSearch index creation failed" in result.output
