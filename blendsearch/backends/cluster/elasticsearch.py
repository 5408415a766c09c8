"""The Elasticsearch 8.x backend, plus optional server-side fusion with retrievers.

Everything but k-NN is shared with OpenSearch in :mod:`blendsearch.backends.cluster.backend`.
k-NN is the top-level ``knn`` search section with ``filter`` and ``num_candidates``:
https://www.elastic.co/guide/en/elasticsearch/reference/8.15/knn-search.html

Fusion normally happens client-side in :mod:`blendsearch.scoring`. :func:`rrf_retriever_body` and
:func:`linear_retriever_body` build bodies for callers who want Elasticsearch to fuse instead:
https://www.elastic.co/docs/reference/elasticsearch/rest-apis/retrievers/rrf-retriever (8.14+)
https://www.elastic.co/docs/reference/elasticsearch/rest-apis/retrievers/linear-retriever (8.18+)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from blendsearch.backends.base import ChannelRequest, LexicalRequest, VectorRequest
from blendsearch.backends.cluster.backend import RemoteBackend
from blendsearch.backends.cluster.client import ClientDialect, load_dialect
from blendsearch.backends.cluster.queries import filter_clauses, lexical_query
from blendsearch.exceptions import ConfigError
from blendsearch.mappings.builders import build_elasticsearch_mapping
from blendsearch.mappings.layout import INDEX_VECTOR_FIELDS
from blendsearch.mappings.settings import MappingSettings

__all__ = [
    "ElasticsearchBackend",
    "knn_section",
    "linear_retriever_body",
    "num_candidates",
    "rrf_retriever_body",
]

_MAX_CANDIDATES = 10_000


def num_candidates(k: int, factor: float = 2.0) -> int:
    """HNSW candidates per shard: ``factor * k``, at least k, at most Elasticsearch's 10,000."""
    return max(k, min(_MAX_CANDIDATES, int(round(factor * k))))


def knn_section(request: VectorRequest, candidates_factor: float = 2.0) -> dict[str, Any]:
    """The ``knn`` section (or knn retriever) of a vector request, filters applied during the search."""
    section: dict[str, Any] = {
        "field": INDEX_VECTOR_FIELDS[request.field],
        "query_vector": [float(x) for x in request.vector.ravel()],
        "k": request.k,
        "num_candidates": num_candidates(request.k, candidates_factor),
    }
    if request.filters:
        section["filter"] = filter_clauses(request.filters)
    return section


class ElasticsearchBackend(RemoteBackend):
    """Backend on an Elasticsearch index; see :class:`~blendsearch.backends.cluster.backend.RemoteBackend`."""

    product = "Elasticsearch"

    def __init__(self, client: Any, index: str, *, candidates_factor: float = 2.0, **kwargs: Any) -> None:
        super().__init__(client, index, **kwargs)
        self.candidates_factor = candidates_factor

    def _load_dialect(self) -> ClientDialect:
        return load_dialect("elasticsearch")

    def index_body(self, settings: MappingSettings) -> dict[str, Any]:
        return build_elasticsearch_mapping(settings)

    def vector_search_body(self, request: VectorRequest) -> dict[str, Any]:
        return {"size": request.k, "_source": False, "knn": knn_section(request, self.candidates_factor)}

    def score_to_cosine(self, score: float) -> float:
        """Invert ``_score = (1 + cos) / 2`` (cosine and dot_product similarity of float vectors):
        https://www.elastic.co/guide/en/elasticsearch/reference/8.15/dense-vector.html#dense-vector-similarity
        """
        return 2.0 * score - 1.0

    def _probe_vectors(self) -> bool:
        return True  # dense_vector k-NN is part of every Elasticsearch 8.x


def _retrievers(requests: Sequence[ChannelRequest], candidates_factor: float) -> list[dict[str, Any]]:
    retrievers: list[dict[str, Any]] = []
    for request in requests:
        if isinstance(request, LexicalRequest):
            retrievers.append({"standard": {"query": lexical_query(request) or {"match_none": {}}}})
        else:
            retrievers.append({"knn": knn_section(request, candidates_factor)})
    return retrievers


def rrf_retriever_body(
    requests: Sequence[ChannelRequest],
    *,
    size: int = 10,
    rank_constant: int = 60,
    rank_window_size: int = 100,
    candidates_factor: float = 2.0,
) -> dict[str, Any]:
    """An ``rrf`` retriever over one sub-retriever per channel request (equal weights, as in 8.x)."""
    if len(requests) < 2:
        raise ConfigError("an rrf retriever needs at least two channel requests")
    return {
        "size": size,
        "_source": False,
        "retriever": {
            "rrf": {
                "retrievers": _retrievers(requests, candidates_factor),
                "rank_constant": rank_constant,
                "rank_window_size": max(rank_window_size, size),
            }
        },
    }


def linear_retriever_body(
    requests: Sequence[ChannelRequest],
    weights: Mapping[str, float],
    *,
    size: int = 10,
    normalizer: Literal["minmax", "none"] = "minmax",
    rank_window_size: int = 100,
    candidates_factor: float = 2.0,
) -> dict[str, Any]:
    """A ``linear`` retriever: per-channel weights (SearchSettings.weights) on min-max normalised scores."""
    if not requests:
        raise ConfigError("a linear retriever needs at least one channel request")
    components = [
        {"retriever": retriever, "weight": float(weights.get(request.channel, 0.0)), "normalizer": normalizer}
        for request, retriever in zip(requests, _retrievers(requests, candidates_factor), strict=True)
    ]
    return {
        "size": size,
        "_source": False,
        "retriever": {"linear": {"retrievers": components, "rank_window_size": max(rank_window_size, size)}},
    }
