"""Kept so ``blendsearch.backends.url.backend_from_url`` still imports: the cluster URL parsing lives in
:mod:`blendsearch.backends.cluster.url`."""

from __future__ import annotations

from blendsearch.backends.cluster.url import backend_from_url, is_cluster_url, parse_backend_url

__all__ = ["backend_from_url", "is_cluster_url", "parse_backend_url"]
