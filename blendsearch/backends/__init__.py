"""Storage and per-channel retrieval: the interface (:mod:`.base`), the in-memory reference, the embedded
SQLite + faiss default, and the OpenSearch / Elasticsearch backends (imported on use)."""

from blendsearch.backends.base import Backend, ChannelResult, LexicalRequest, UpsertResult, VectorRequest
from blendsearch.backends.memory import MemoryBackend

__all__ = ["Backend", "ChannelResult", "LexicalRequest", "MemoryBackend", "UpsertResult", "VectorRequest"]
