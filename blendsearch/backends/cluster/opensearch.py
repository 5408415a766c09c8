"""The OpenSearch backend (k-NN plugin), plus optional server-side hybrid fusion.

Everything but k-NN is shared with Elasticsearch in :mod:`blendsearch.backends.cluster.backend`.
k-NN is a ``knn`` query clause with an efficient ``filter`` (faiss and lucene engines):
https://docs.opensearch.org/latest/vector-search/filter-search-knn/efficient-knn-filtering/

Fusion normally happens client-side in :mod:`blendsearch.scoring`. :func:`create_hybrid_pipeline` and
:func:`hybrid_query_body` are for callers who want OpenSearch (>= 2.10) to fuse instead, with the
``hybrid`` query and a search pipeline holding a ``normalization-processor``:
https://docs.opensearch.org/latest/query-dsl/compound/hybrid/
https://docs.opensearch.org/latest/search-plugins/search-pipelines/normalization-processor/
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from blendsearch.backends.base import ChannelRequest, LexicalRequest, VectorRequest
from blendsearch.backends.cluster.backend import RemoteBackend
from blendsearch.backends.cluster.client import ClientDialect, load_dialect
from blendsearch.backends.cluster.queries import filter_clauses, lexical_query
from blendsearch.exceptions import ConfigError
from blendsearch.mappings.builders import build_opensearch_mapping
from blendsearch.mappings.layout import INDEX_VECTOR_FIELDS
from blendsearch.mappings.settings import MappingSettings

__all__ = [
    "FusionSettings",
    "OpenSearchBackend",
    "create_hybrid_pipeline",
    "hybrid_pipeline_body",
    "hybrid_query_body",
    "knn_query",
]


class FusionSettings(Protocol):
    """How to fuse server-side: what :class:`blendsearch.config.SearchSettings` holds (pass one).

    A protocol, so backends never import the fusion configuration: they only read these four fields.
    """

    weights: Mapping[str, float]
    combination: str
    normalisation: str
    rrf_k: float


#: FusionSettings.normalisation -> normalization-processor technique.
_NORMALIZATION = {"minmax": "min_max", "zscore": "z_score"}
#: The hybrid query takes at most 5 sub-queries (OpenSearch docs, "queries").
_MAX_SUBQUERIES = 5


def knn_query(request: VectorRequest) -> dict[str, Any]:
    """The ``knn`` query clause of a vector request, filters applied inside the k-NN search."""
    clause: dict[str, Any] = {"vector": [float(x) for x in request.vector.ravel()], "k": request.k}
    if request.filters:
        clause["filter"] = {"bool": {"filter": filter_clauses(request.filters)}}
    return {"knn": {INDEX_VECTOR_FIELDS[request.field]: clause}}


class OpenSearchBackend(RemoteBackend):
    """Backend on an OpenSearch index; see :class:`~blendsearch.backends.cluster.backend.RemoteBackend`."""

    product = "OpenSearch"

    def _load_dialect(self) -> ClientDialect:
        return load_dialect("opensearch")

    def index_body(self, settings: MappingSettings) -> dict[str, Any]:
        return build_opensearch_mapping(settings)

    def vector_search_body(self, request: VectorRequest) -> dict[str, Any]:
        return {"size": request.k, "_source": False, "query": knn_query(request)}

    def score_to_cosine(self, score: float) -> float:
        """Invert the k-NN plugin's score (https://docs.opensearch.org/latest/field-types/supported-field-types/knn-spaces/).

        innerproduct: score = 1 + ip for ip >= 0, else 1 / (1 - ip); cosinesimil: score = (1 + cos) / 2.
        """
        if self.mapping.similarity == "cosine":
            return 2.0 * score - 1.0
        return score - 1.0 if score >= 1.0 else 1.0 - 1.0 / score

    def _probe_vectors(self) -> bool:
        """k-NN is a plugin: ask ``_cat/plugins``; where that cannot be read, assume it is there."""
        try:
            plugins = self._call("plugin list", self.client.cat.plugins, format="json")
        except Exception:
            return True
        return any("knn" in str(p.get("component", "")) for p in plugins)


def _channel_weights(channels: Sequence[str], settings: FusionSettings) -> list[float]:
    weights = [float(settings.weights.get(c, 0.0)) for c in channels]
    total = sum(weights)
    if total <= 0:
        raise ConfigError(f"channels {list(channels)} have no positive weight in the search settings")
    # The processor wants weights in [0, 1] summing to 1.0; the weighted mean is unchanged by scaling.
    return [round(w / total, 6) for w in weights]


def hybrid_pipeline_body(channels: Sequence[str], settings: FusionSettings) -> dict[str, Any]:
    """A search pipeline that fuses a hybrid query's sub-queries (one per channel, in this order).

    ``weighted_mean`` -> ``normalization-processor`` (min_max / z_score, arithmetic_mean with the channel
    weights); ``rrf`` -> ``score-ranker-processor`` (OpenSearch >= 2.19,
    https://docs.opensearch.org/latest/search-plugins/search-pipelines/score-ranker-processor/).
    """
    if not channels or len(channels) > _MAX_SUBQUERIES:
        raise ConfigError(f"a hybrid query takes 1 to {_MAX_SUBQUERIES} channels, got {len(channels)}")
    if settings.combination == "rrf":
        processor = {
            "score-ranker-processor": {"combination": {"technique": "rrf", "rank_constant": settings.rrf_k}}
        }
    else:
        if settings.normalisation not in _NORMALIZATION:
            raise ConfigError(
                f"server-side fusion needs normalisation minmax or zscore, not {settings.normalisation!r}"
            )
        processor = {
            "normalization-processor": {
                "normalization": {"technique": _NORMALIZATION[settings.normalisation]},
                "combination": {
                    "technique": "arithmetic_mean",
                    "parameters": {"weights": _channel_weights(channels, settings)},
                },
            }
        }
    return {
        "description": f"blendsearch hybrid fusion of {', '.join(channels)}",
        "phase_results_processors": [processor],
    }


def create_hybrid_pipeline(
    client: Any, name: str, settings: FusionSettings, channels: Sequence[str] = ("bm25", "vector_image")
) -> dict[str, Any]:
    """``PUT /_search/pipeline/<name>`` with :func:`hybrid_pipeline_body`; returns the body sent."""
    body = hybrid_pipeline_body(channels, settings)
    client.transport.perform_request("PUT", f"/_search/pipeline/{name}", body=body)
    return body


def hybrid_query_body(requests: Sequence[ChannelRequest], size: int = 10) -> dict[str, Any]:
    """A ``hybrid`` query with one sub-query per request, in order (the pipeline's channel order).

    Search it with ``params={"search_pipeline": name}``. A lexical request without searchable words
    becomes ``match_none`` so positions still line up with the pipeline's weights.
    """
    if not requests or len(requests) > _MAX_SUBQUERIES:
        raise ConfigError(f"a hybrid query takes 1 to {_MAX_SUBQUERIES} sub-queries, got {len(requests)}")
    queries: list[dict[str, Any]] = []
    for request in requests:
        if isinstance(request, LexicalRequest):
            queries.append(lexical_query(request) or {"match_none": {}})
        else:
            queries.append(knn_query(request))
    return {"size": size, "_source": False, "query": {"hybrid": {"queries": queries}}}
