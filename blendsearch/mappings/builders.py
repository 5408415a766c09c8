"""Index bodies (settings + mappings) and composable index templates for OpenSearch and Elasticsearch.

Both share the text, keyword and number layout of :mod:`~blendsearch.mappings.layout`;
they differ in the vector field type:

- OpenSearch ``knn_vector`` with an HNSW ``method`` (engine faiss or lucene), ``index.knn: true``:
  https://docs.opensearch.org/latest/field-types/supported-field-types/knn-vector/
- Elasticsearch ``dense_vector`` with ``index_options`` (hnsw / int8_hnsw) and ``similarity``:
  https://www.elastic.co/guide/en/elasticsearch/reference/8.15/dense-vector.html
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from blendsearch.mappings.analysis import (
    INDEX_ANALYZER,
    KEYWORD_NORMALIZER,
    SEARCH_ANALYZER,
    analysis_settings,
)
from blendsearch.mappings.layout import (
    DOC_FIELD,
    INDEX_VECTOR_FIELDS,
    KEYWORD_PREFIX,
    NUMBER_PREFIX,
    VALUE_PREFIX,
    field_key,
)
from blendsearch.mappings.settings import MappingSettings
from blendsearch.search_fields import LEXICAL_FIELDS

__all__ = [
    "OPENSEARCH_SPACE_TYPES",
    "build_elasticsearch_mapping",
    "build_index_template",
    "build_opensearch_mapping",
]

#: MappingSettings.similarity -> OpenSearch space_type.
OPENSEARCH_SPACE_TYPES = {"dot_product": "innerproduct", "cosine": "cosinesimil"}


def _index_settings(settings: MappingSettings) -> dict[str, Any]:
    index: dict[str, Any] = {}
    if settings.shards is not None:
        index["number_of_shards"] = settings.shards
    if settings.replicas is not None:
        index["number_of_replicas"] = settings.replicas
    if settings.refresh_interval is not None:
        index["refresh_interval"] = settings.refresh_interval
    return index


def _common_mapping(settings: MappingSettings) -> dict[str, Any]:
    text = {"type": "text", "analyzer": INDEX_ANALYZER, "search_analyzer": SEARCH_ANALYZER}
    properties: dict[str, Any] = {"id": {"type": "keyword"}}
    properties.update({name: dict(text) for name in LEXICAL_FIELDS})
    numeric = {field_key(name): {"type": "double"} for name in settings.numeric_fields}
    properties[KEYWORD_PREFIX] = {"type": "object", "dynamic": True}
    properties[NUMBER_PREFIX] = {
        "type": "object",
        "dynamic": True,
        **({"properties": numeric} if numeric else {}),
    }
    properties[VALUE_PREFIX] = {
        "type": "object",
        "dynamic": True,
        **({"properties": numeric} if numeric else {}),
    }
    properties["words"] = {"type": "keyword", "index": False}
    properties["content_hash"] = {"type": "keyword"}
    properties[DOC_FIELD] = {"type": "object", "enabled": False}
    return {
        # Unknown top-level fields are a bug in blendsearch, not data: refuse them.
        "dynamic": "strict",
        "dynamic_templates": [
            {
                "filter_keywords": {
                    "path_match": f"{KEYWORD_PREFIX}.*",
                    "match_mapping_type": "string",
                    "mapping": {"type": "keyword", "normalizer": KEYWORD_NORMALIZER},
                }
            },
            {"filter_numbers": {"path_match": f"{NUMBER_PREFIX}.*", "mapping": {"type": "double"}}},
            {"filter_values": {"path_match": f"{VALUE_PREFIX}.*", "mapping": {"type": "double"}}},
        ],
        "properties": properties,
    }


def _vector_dims(settings: MappingSettings) -> dict[str, int]:
    if settings.dim is None:
        return {}
    return {
        INDEX_VECTOR_FIELDS["image"]: settings.dim,
        INDEX_VECTOR_FIELDS["text"]: settings.text_dim or settings.dim,
    }


def build_opensearch_mapping(settings: MappingSettings) -> dict[str, Any]:
    """The body of ``PUT /<index>`` on OpenSearch (k-NN plugin)."""
    mapping = _common_mapping(settings)
    index = _index_settings(settings)
    dims = _vector_dims(settings)
    if dims:
        index["knn"] = True
        if settings.ef_search is not None:
            index["knn.algo_param.ef_search"] = settings.ef_search
    for field, dim in dims.items():
        mapping["properties"][field] = {
            "type": "knn_vector",
            "dimension": dim,
            "method": {
                "name": "hnsw",
                "engine": settings.engine,
                "space_type": OPENSEARCH_SPACE_TYPES[settings.similarity],
                "parameters": {"m": settings.m, "ef_construction": settings.ef_construction},
            },
        }
    return {"settings": {"index": index, "analysis": analysis_settings(settings)}, "mappings": mapping}


def build_elasticsearch_mapping(settings: MappingSettings) -> dict[str, Any]:
    """The body of ``PUT /<index>`` on Elasticsearch 8.x."""
    mapping = _common_mapping(settings)
    for field, dim in _vector_dims(settings).items():
        mapping["properties"][field] = {
            "type": "dense_vector",
            "dims": dim,
            "index": True,
            "similarity": settings.similarity,
            "index_options": {
                "type": settings.es_index_type,
                "m": settings.m,
                "ef_construction": settings.ef_construction,
            },
        }
    return {
        "settings": {"index": _index_settings(settings), "analysis": analysis_settings(settings)},
        "mappings": mapping,
    }


def build_index_template(
    index_body: dict[str, Any], patterns: Sequence[str], priority: int = 100
) -> dict[str, Any]:
    """A composable index template (``PUT _index_template/<name>``, the same on both) from an index body.

    Indices created later under ``patterns`` (for example by a reindex into ``products-v2``) get the
    blendsearch mapping even when created by another tool.
    """
    if not patterns:
        raise ValueError("an index template needs at least one index pattern")
    return {
        "index_patterns": list(patterns),
        "priority": priority,
        "template": copy.deepcopy({"settings": index_body["settings"], "mappings": index_body["mappings"]}),
    }
