"""How a cluster index is laid out: one pydantic model shared by the OpenSearch and Elasticsearch builders."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["MappingSettings"]


class MappingSettings(BaseModel):
    """Index settings a user may tune; everything else in the mapping follows from blendsearch's semantics.

    ``dim`` None builds a lexical-only mapping (no vector fields); the backend fills it in from the first
    vector it writes. Vectors are L2-normalised, so ``dot_product`` (OpenSearch ``innerproduct``) and
    ``cosine`` (``cosinesimil``) rank the same; dot product skips a normalisation at query time.
    """

    model_config = ConfigDict(extra="forbid")

    dim: int | None = Field(default=None, ge=1, le=16_000)
    #: Dimension of ``text_vector`` where it differs from the image vector's.
    text_dim: int | None = Field(default=None, ge=1, le=16_000)
    #: OpenSearch k-NN engine (Elasticsearch always uses Lucene's HNSW).
    engine: Literal["faiss", "lucene"] = "faiss"
    m: int = Field(default=16, ge=2, le=512)
    ef_construction: int = Field(default=128, ge=2, le=4096)
    #: OpenSearch ``index.knn.algo_param.ef_search`` (faiss); None keeps the server default.
    ef_search: int | None = Field(default=None, ge=2)
    similarity: Literal["cosine", "dot_product"] = "dot_product"
    #: Elasticsearch ``index_options.type``: ``int8_hnsw`` quantises vectors (4x less memory).
    es_index_type: Literal["hnsw", "int8_hnsw"] = "hnsw"
    #: Search-time synonym_graph filter fed from the expansion stage's synonym file.
    synonyms: bool = True
    #: Solr-format synonym file; None means blendsearch's own (blendsearch/expansion/data/synonyms.txt).
    synonyms_file: str | None = None
    #: Attributes always mapped as numbers (``FieldMapping.numeric``); others become numbers when they parse.
    numeric_fields: list[str] = Field(default_factory=list)
    shards: int | None = Field(default=None, ge=1)
    replicas: int | None = Field(default=None, ge=0)
    refresh_interval: str | None = None
