"""The OpenSearch and Elasticsearch backends: everything that talks to a search cluster.

Modules, lowest first (each imports only those above it in this list, plus ``backends.base``,
:mod:`blendsearch.search_fields` and the index bodies of :mod:`blendsearch.mappings`):

- ``bulk``: chunked, retried bulk writes (no client import);
- ``client``: a client library's helpers and exceptions (a dialect), and the one place client errors
  become blendsearch's;
- ``queries``: the lexical query and filter bodies both clusters share;
- ``migrate``: versioned indices behind an alias, swapped atomically;
- ``backend``: :class:`RemoteBackend`, every Backend method written once over a client;
- ``opensearch`` / ``elasticsearch``: the k-NN body, score conversion and server-side fusion of each;
- ``url``: a backend from an ``opensearch+https://...`` URL.

Client libraries are imported only when a backend is built.
"""

from __future__ import annotations

from blendsearch.backends.cluster.backend import RemoteBackend
from blendsearch.backends.cluster.url import backend_from_url, is_cluster_url, parse_backend_url

__all__ = ["RemoteBackend", "backend_from_url", "is_cluster_url", "parse_backend_url"]
