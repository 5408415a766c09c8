"""Index mappings for the cluster backends: one layout, two vector dialects (OpenSearch, Elasticsearch)."""

from blendsearch.mappings.analysis import load_synonym_rules
from blendsearch.mappings.builders import (
    build_elasticsearch_mapping,
    build_index_template,
    build_opensearch_mapping,
)
from blendsearch.mappings.layout import from_source, to_source
from blendsearch.mappings.settings import MappingSettings

__all__ = [
    "MappingSettings",
    "build_elasticsearch_mapping",
    "build_index_template",
    "build_opensearch_mapping",
    "from_source",
    "load_synonym_rules",
    "to_source",
]
