"""Hybrid queries: what a search takes and returns (:mod:`.models`) and how it runs (:mod:`.hybrid`)."""

from blendsearch.query.hybrid import QueryRun, fuse_run
from blendsearch.query.models import ChannelScore, Hit, HybridQuery, SearchResult

__all__ = ["ChannelScore", "Hit", "HybridQuery", "QueryRun", "SearchResult", "fuse_run"]
