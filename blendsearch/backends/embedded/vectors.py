"""Vector indexes of the embedded backend: exact (numpy) and approximate (faiss HNSW), both derived data.

SQLite holds the vectors durably; this module only keeps a float32 matrix per field in memory or,
above a size threshold, an HNSW graph whose own storage serves as that matrix (built from rows streamed
in batches, so a field is never held twice). The graph may be cached on disk as ``vectors-<field>.faiss``:
a small header (magic, format version, JSON with the generation of the store it was built from) followed
by faiss's own serialisation, streamed both ways -- no pickle, and a stale or foreign file is simply
rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from blendsearch._types import Vector, Vectors
from blendsearch.exceptions import BackendError, MissingDependencyError

__all__ = [
    "EF_SEARCH",
    "FieldVectors",
    "HnswIndex",
    "benchmark_vector_index",
    "exact_cutoff",
    "exact_search",
    "top_k",
]

_MAGIC = b"BSVX"
#: Version of the cache file layout (header + faiss bytes); a different one is rebuilt, never read.
CACHE_FORMAT = 1
#: HNSW build-time candidate list size: a recall/build-time trade-off (faiss's default is 40).
EF_CONSTRUCTION = 80
#: HNSW search-time candidate list size. Text queries against image vectors have no close neighbours
#: (the hardest case for a graph): on 200k clustered 64-d vectors recall@10 was 0.885 at 128, 0.974 at
#: 256 and 0.999 at 512, for about 1 ms a request (``bench scale`` reports the sweep at its N).
EF_SEARCH = 512
#: Filtered HNSW requests whose allowed set is at most this large are scored exactly instead: exact on a
#: few thousand rows is faster than a graph walk that skips most nodes, and has perfect recall.
EXACT_SUBSET_MAX = 10_000
#: Filtered search cost model: exact over r allowed rows costs ~r row gathers, a filtered graph walk
#: ~ef * n / r node visits (it skips n / r nodes per allowed hit), one visit costing about this many
#: gathers: at 1M x 64-d exact over 20k scattered rows took 14 ms (0.7 us a row) and a walk ~1 us per
#: efSearch unit. Exact wins below r = sqrt(factor * ef * n) (32k rows at 1M, ef 512).
_WALK_COST = 2.0
#: Upper bound of the widened efSearch of a filtered graph walk. Measured at 1M x 64-d on the 400 dev
#: queries filtered on their product kind (`bench scale`'s index): 8192 -> p50 28.6 ms, recall@10 0.996
#: (text field); 1024 -> p50 16.7 ms, recall 0.996. A walk that still comes back short is redone exactly.
MAX_FILTERED_EF = 1024
#: Filter bitmaps kept per index (one per recent allowed set: the channels of a query share one).
_SELECTOR_CACHE = 8


def _reserve(vector: Any, count: int) -> None:
    """Allocate capacity for ``count`` items in an (empty) faiss vector: resizing back to 0 keeps the
    capacity (std::vector never shrinks on resize), so later growth up to ``count`` reallocates nothing.
    Only a memory saving: skipped where a faiss build does not expose the vector so."""
    try:
        if vector.size() == 0:
            vector.resize(count)
            vector.resize(0)
    except AttributeError:  # pragma: no cover - depends on the faiss build
        pass


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


def exact_cutoff(size: int, ef_search: int) -> int:
    """Largest allowed set that a filtered request scores exactly rather than by a filtered graph walk."""
    return max(EXACT_SUBSET_MAX, int(np.sqrt(_WALK_COST * max(ef_search, 1) * size)))


class HnswIndex:
    """A faiss ``IndexHNSWFlat`` (inner product) over the rows of one matrix; row i is faiss id i.

    Filtered requests never come back short: a selective filter is scored exactly over its rows, a
    broad one by a graph walk whose efSearch is widened by n / allowed (the walk skips the nodes the
    filter rejects), and a walk that still finds fewer than k of at least k allowed rows is redone
    exactly (``fallbacks`` counts those).
    """

    def __init__(self, index: Any) -> None:
        self.index = index
        #: Filtered walks that came back short and were answered exactly instead.
        self.fallbacks = 0
        self._selectors: OrderedDict[bytes, tuple[np.ndarray, Any]] = OrderedDict()

    @classmethod
    def build(cls, matrix: Vectors, m: int = 32, ef_construction: int = EF_CONSTRUCTION) -> HnswIndex:
        """The graph of an in-memory matrix (faiss keeps its own copy of the rows)."""
        index = cls.create(int(matrix.shape[1]), m, ef_construction, reserve=int(matrix.shape[0]))
        index.add(matrix)
        return index

    @classmethod
    def create(
        cls, dim: int, m: int = 32, ef_construction: int = EF_CONSTRUCTION, *, reserve: int = 0
    ) -> HnswIndex:
        """An empty graph to :meth:`add` rows to in batches, e.g. streamed from SQLite, so that no full
        numpy matrix exists beside faiss's copy. ``reserve``: the expected row count, allocated up front --
        growing batch by batch would reallocate, doubling the capacity, and hold the old and the new
        buffer at once (up to twice the vectors and links)."""
        faiss = _faiss()
        try:
            index = faiss.IndexHNSWFlat(int(dim), int(m), faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = int(ef_construction)
        except RuntimeError as exc:
            raise BackendError(f"cannot build the HNSW index: {exc}") from exc
        if reserve > 0:
            storage = faiss.downcast_index(index.storage)
            _reserve(storage.codes, int(reserve) * int(storage.code_size))
            # level 0 has 2m links a node; upper levels add m / (m - 1) on average
            _reserve(index.hnsw.neighbors, int(reserve) * (index.hnsw.nb_neighbors(0) + 2))
        return cls(index)

    def add(self, rows: Vectors) -> None:
        """Append ``rows`` (faiss ids continue from :attr:`size`) and link them into the graph."""
        try:
            self.index.add(np.ascontiguousarray(rows, dtype=np.float32))
        except RuntimeError as exc:
            raise BackendError(f"cannot build the HNSW index: {exc}") from exc

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def vectors(self) -> Vectors:
        """The indexed vectors as a read-only view of faiss's own storage (no copy): valid while this
        index lives, so the backend can drop its matrix and keep one copy of the vectors in memory."""
        faiss = _faiss()
        storage = faiss.downcast_index(self.index.storage)
        view = faiss.rev_swig_ptr(storage.get_xb(), self.size * int(self.index.d))
        matrix = np.asarray(view).reshape(self.size, int(self.index.d))
        matrix.flags.writeable = False
        return matrix

    def search(
        self,
        query: Vector,
        k: int,
        ef_search: int = EF_SEARCH,
        rows: np.ndarray | None = None,
        *,
        exact_below: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Approximate top-``k`` (row positions, scores), optionally restricted to ``rows`` (sorted).

        ``exact_below``: allowed sets up to this size are scored exactly (default :func:`exact_cutoff`).
        """
        k = min(k, self.size if rows is None else int(rows.size))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if rows is None:
            return self._walk(query, k, max(int(ef_search), k), None)
        cutoff = exact_cutoff(self.size, ef_search) if exact_below is None else exact_below
        if rows.size <= cutoff:
            return exact_search(self.vectors(), query, k, rows)
        widened = int(max(int(ef_search), k) * self.size / rows.size)
        positions, scores = self._walk(query, k, min(max(widened, k), MAX_FILTERED_EF), rows)
        if positions.size < k:
            self.fallbacks += 1
            return exact_search(self.vectors(), query, k, rows)
        return positions, scores

    def _walk(self, query: Vector, k: int, ef: int, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        faiss = _faiss()
        selector = None if rows is None else self._selector(rows)[1]
        params = faiss.SearchParametersHNSW(efSearch=ef, sel=selector)
        try:
            scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        except RuntimeError as exc:
            raise BackendError(f"HNSW search failed: {exc}") from exc
        keep = ids[0] >= 0  # faiss pads with -1 when it finds fewer than k
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def _selector(self, rows: np.ndarray) -> tuple[np.ndarray, Any]:
        """A faiss bitmap selector of ``rows`` (with the bits it points into, kept alive beside it),
        reused while the same allowed set comes back (a 1M-row bitmap costs a few ms to build)."""
        key = hashlib.blake2b(np.ascontiguousarray(rows, dtype=np.int64).tobytes(), digest_size=16).digest()
        found = self._selectors.pop(key, None)
        if found is None:
            faiss = _faiss()
            mask = np.zeros(self.size, dtype=bool)
            mask[rows] = True
            bits = np.packbits(mask, bitorder="little")
            found = (bits, faiss.IDSelectorBitmap(self.size, faiss.swig_ptr(bits)))
            while len(self._selectors) >= _SELECTOR_CACHE:
                self._selectors.popitem(last=False)
        self._selectors[key] = found
        return found

    def save(self, path: Path, header: dict[str, Any]) -> None:
        """Write atomically: magic, cache format, JSON header, faiss bytes -- streamed to the file, never
        a whole serialised copy in memory (at 1M x 256-d the index is 1.3 GB)."""
        faiss = _faiss()
        meta = json.dumps(header, sort_keys=True).encode()
        tmp = path.with_name(path.name + ".tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(_MAGIC + struct.pack("<II", CACHE_FORMAT, len(meta)) + meta)
                faiss.write_index(self.index, faiss.PyCallbackIOWriter(fh.write))
            os.replace(tmp, path)
        except RuntimeError as exc:  # faiss wraps the callback's own error (e.g. a full disk)
            raise OSError(f"cannot write {path}: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path, header: dict[str, Any]) -> HnswIndex | None:
        """The cached index if ``path`` exists and was built with exactly ``header``; else None (a foreign,
        stale or damaged file is rebuilt). Read straight from the file into faiss's structures."""
        try:
            with open(path, "rb") as fh:
                return cls._read(fh, header)
        except OSError:
            return None

    @classmethod
    def _read(cls, fh: BinaryIO, header: dict[str, Any]) -> HnswIndex | None:
        start = fh.read(12)
        if len(start) < 12 or start[:4] != _MAGIC:
            return None
        version, length = struct.unpack("<II", start[4:12])
        if version != CACHE_FORMAT:
            return None
        try:
            found = json.loads(fh.read(length))
        except ValueError:
            return None
        if found != json.loads(json.dumps(header, sort_keys=True)):
            return None
        faiss = _faiss()
        try:
            # read_index returns the concrete class (a downcast_index of it would not own the index)
            index = faiss.read_index(faiss.PyCallbackIOReader(fh.read))
        except (RuntimeError, MemoryError):  # truncated or damaged: faiss reports a short read
            return None
        if not isinstance(index, faiss.IndexHNSWFlat):
            return None
        return cls(index)


class FieldVectors:
    """The in-memory vectors of one field and dimension: store keys (sorted), ids, matrix, optional HNSW.

    Built from SQLite by the backend; thrown away when a write changes the store's generation. Once an
    HNSW index is attached, ``matrix`` becomes a view of the index's own copy of the vectors, so a
    large field is held once (1M x 256-d float32 is 1 GB), not twice.
    """

    def __init__(
        self,
        generation: int,
        keys: np.ndarray,
        ids: list[str],
        matrix: Vectors,
        hnsw: HnswIndex | None = None,
    ) -> None:
        self.generation = generation
        self.keys = keys
        self.ids = ids
        self.matrix = matrix
        self._hnsw: HnswIndex | None = None
        if hnsw is not None:
            self.hnsw = hnsw

    @property
    def hnsw(self) -> HnswIndex | None:
        return self._hnsw

    @hnsw.setter
    def hnsw(self, index: HnswIndex | None) -> None:
        self._hnsw = index
        if index is not None and index.size == self.size and index.size > 0:
            shared = index.vectors()
            if shared.shape == self.matrix.shape and (
                _same_buffer(shared, self.matrix) or np.array_equal(shared, self.matrix)
            ):
                self.matrix = shared

    @property
    def size(self) -> int:
        return len(self.ids)

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """Row positions (ascending) of those store keys (sorted, unique) that have a vector here."""
        if keys.size == 0 or self.keys.size == 0:
            return np.empty(0, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), self.keys.size - 1)
        return pos[self.keys[pos] == keys].astype(np.int64)


def _same_buffer(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays of one shape are views of the same memory (no need to compare 1 GB)."""
    same_start = a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    return bool(same_start and a.strides == b.strides)


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
    ef_search: int = EF_SEARCH,
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
