"""The embedded (default) backend: an index directory holding SQLite + FTS5 and derived faiss indexes."""

from __future__ import annotations

from blendsearch.backends.embedded.backend import EmbeddedBackend, VectorSearchMode
from blendsearch.backends.embedded.vectors import benchmark_vector_index

__all__ = ["EmbeddedBackend", "VectorSearchMode", "benchmark_vector_index"]
