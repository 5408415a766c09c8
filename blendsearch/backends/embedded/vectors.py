"""Vector indexes of the embedded backend: exact (numpy) and approximate (faiss HNSW), both derived data.

SQLite holds the vectors durably; this module only keeps a float32 matrix per field in memory and,
above a size threshold, an HNSW graph built from that matrix. The graph may be cached on disk as
``vectors-<field>.faiss``: a small header (magic, format version, JSON with the generation of the store
it was built from) followed by faiss's own serialisation -- no pickle, and a stale or foreign file is
simply rebuilt.
"""

from __future__ import annotations

import json
import os
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from blendsearch._types import Vector, Vectors
from blendsearch.exceptions import BackendError, MissingDependencyError

__all__ = [
    "FieldVectors",
    "HnswIndex",
    "benchmark_vector_index",
    "exact_search",
    "top_k",
]

_MAGIC = b"BSVX"
#: Version of the cache file layout (header + faiss bytes); a different one is rebuilt, never read.
CACHE_FORMAT = 1
#: HNSW build-time candidate list size: a recall/build-time trade-off (faiss's default is 40).
EF_CONSTRUCTION = 80
#: Filtered HNSW requests whose allowed set is at most this large are scored exactly instead: exact on a
#: few thousand rows is faster than a graph walk that skips most nodes, and has perfect recall.
EXACT_SUBSET_MAX = 10_000


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is a dependency
        raise MissingDependencyError("faiss-cpu", purpose="HNSW vector search") from exc
    return faiss


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first; ties keep the lower position first."""
    n = scores.shape[0]
    if k < n:
        part = np.argpartition(-scores, k - 1)[:k]
        part.sort()  # positions ascending, so the stable sort below breaks ties by position
        return part[np.argsort(-scores[part], kind="stable")]
    return np.argsort(-scores, kind="stable")


def exact_search(
    matrix: Vectors, query: Vector, k: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Dot-product top-``k`` over all rows, or over ``rows`` (sorted row positions) only.

    Returns (row positions, scores), best first.
    """
    if rows is None:
        sims = matrix @ query
        best = top_k(sims, k)
        return best, sims[best]
    if rows.size == 0:
        return rows.astype(np.int64), np.empty(0, dtype=np.float32)
    # Gathering many rows copies more memory than scoring them all and picking the allowed scores.
    sims = (matrix @ query)[rows] if rows.size * 8 > matrix.shape[0] else matrix[rows] @ query
    best = top_k(sims, k)
    return rows[best].astype(np.int64), sims[best]


class HnswIndex:
    """A faiss ``IndexHNSWFlat`` (inner product) over the rows of one matrix; row i is faiss id i."""

    def __init__(self, index: Any) -> None:
        self.index = index

    @classmethod
    def build(cls, matrix: Vectors, m: int = 32, ef_construction: int = EF_CONSTRUCTION) -> HnswIndex:
        faiss = _faiss()
        try:
            index = faiss.IndexHNSWFlat(int(matrix.shape[1]), int(m), faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = int(ef_construction)
            index.add(np.ascontiguousarray(matrix, dtype=np.float32))
        except RuntimeError as exc:
            raise BackendError(f"cannot build the HNSW index: {exc}") from exc
        return cls(index)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def search(
        self, query: Vector, k: int, ef_search: int = 128, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Approximate top-``k`` (row positions, scores), optionally restricted to ``rows``."""
        faiss = _faiss()
        k = min(k, self.size if rows is None else int(rows.size))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        selector = faiss.IDSelectorBatch(rows.astype(np.int64)) if rows is not None else None
        params = faiss.SearchParametersHNSW(efSearch=max(int(ef_search), k), sel=selector)
        try:
            scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        except RuntimeError as exc:
            raise BackendError(f"HNSW search failed: {exc}") from exc
        keep = ids[0] >= 0  # faiss pads with -1 when it finds fewer than k
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def save(self, path: Path, header: dict[str, Any]) -> None:
        """Write atomically: magic, cache format, JSON header, faiss bytes."""
        faiss = _faiss()
        meta = json.dumps(header, sort_keys=True).encode()
        payload = faiss.serialize_index(self.index)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(_MAGIC + struct.pack("<II", CACHE_FORMAT, len(meta)) + meta)
            fh.write(payload.tobytes())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, header: dict[str, Any]) -> HnswIndex | None:
        """The cached index if ``path`` exists and was built with exactly ``header``; else None."""
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if len(data) < 12 or data[:4] != _MAGIC:
            return None
        version, length = struct.unpack("<II", data[4:12])
        if version != CACHE_FORMAT:
            return None
        try:
            found = json.loads(data[12 : 12 + length])
        except ValueError:
            return None
        if found != json.loads(json.dumps(header, sort_keys=True)):
            return None
        faiss = _faiss()
        try:
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8, offset=12 + length).copy())
        except RuntimeError:
            return None
        return cls(index)


@dataclass
class FieldVectors:
    """The in-memory vectors of one field and dimension: store keys (sorted), ids, matrix, optional HNSW.

    Built from SQLite by the backend; thrown away when a write changes the store's generation.
    """

    generation: int
    keys: np.ndarray
    ids: list[str]
    matrix: Vectors
    hnsw: HnswIndex | None = field(default=None)

    @property
    def size(self) -> int:
        return len(self.ids)

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """Row positions (ascending) of those store keys (sorted, unique) that have a vector here."""
        if keys.size == 0 or self.keys.size == 0:
            return np.empty(0, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), self.keys.size - 1)
        return pos[self.keys[pos] == keys].astype(np.int64)


def _unit_rows(rng: np.random.Generator, n: int, d: int) -> Vectors:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def benchmark_vector_index(
    n: int,
    d: int,
    queries: int,
    *,
    k: int = 10,
    hnsw_m: int = 32,
    ef_search: int = 128,
    near: bool = False,
    seed: int = 0,
) -> dict[str, float | int | bool]:
    """Exact vs HNSW on ``n`` random ``d``-dim unit vectors: per-query latency and HNSW recall@k.

    Queries are random unit vectors too -- the hardest case for a graph index, since no query has
    close neighbours -- or, with ``near``, stored vectors plus noise of the same norm (cosine ~0.7 to
    their source), closer to real queries. Latencies are per single-vector search, as the engine
    issues them.
    """
    rng = np.random.default_rng(seed)
    matrix = _unit_rows(rng, n, d)
    qs = _unit_rows(rng, queries, d)
    if near:
        qs = qs + matrix[rng.integers(0, n, size=queries)]
        qs /= np.linalg.norm(qs, axis=1, keepdims=True)

    start = time.perf_counter()
    truth = [exact_search(matrix, q, k)[0] for q in qs]
    exact_ms = (time.perf_counter() - start) * 1000 / queries

    start = time.perf_counter()
    index = HnswIndex.build(matrix, m=hnsw_m)
    build_s = time.perf_counter() - start

    start = time.perf_counter()
    found = [index.search(q, k, ef_search=ef_search)[0] for q in qs]
    hnsw_ms = (time.perf_counter() - start) * 1000 / queries

    hits = [len(set(t.tolist()) & set(f.tolist())) for t, f in zip(truth, found, strict=True)]
    recall = float(np.mean(hits)) / k
    return {
        "n": n,
        "d": d,
        "queries": queries,
        "k": k,
        "hnsw_m": hnsw_m,
        "ef_search": ef_search,
        "near": near,
        "exact_ms": round(exact_ms, 3),
        "hnsw_ms": round(hnsw_ms, 3),
        "hnsw_build_s": round(build_s, 2),
        "recall_at_k": round(recall, 4),
    }
