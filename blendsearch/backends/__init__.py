"""Storage and per-channel retrieval: the interface (:mod:`.base`), the in-memory reference, the embedded
SQLite + faiss default (:mod:`.embedded`), and the OpenSearch / Elasticsearch backends (:mod:`.cluster`,
imported on use). The logical fields every backend indexes live in :mod:`blendsearch.search_fields`, the
cluster index bodies in :mod:`blendsearch.mappings` (both below this package)."""

from blendsearch.backends.base import Backend, ChannelResult, LexicalRequest, UpsertResult, VectorRequest
from blendsearch.backends.memory import MemoryBackend

__all__ = ["Backend", "ChannelResult", "LexicalRequest", "MemoryBackend", "UpsertResult", "VectorRequest"]
