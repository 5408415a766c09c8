"""HNSW graphs are streamed to and from their cache file, and built from rows streamed out of SQLite."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import faiss
import numpy as np
import pytest

from blendsearch.backends.base import VectorRequest
from blendsearch.backends.embedded import EmbeddedBackend, vector_rows
from blendsearch.backends.embedded.vector_rows import cache_file, load_field, load_field_hnsw
from blendsearch.backends.embedded.vectors import CACHE_FORMAT, HnswIndex
from blendsearch.documents import StoredDocument

HEADER = {"store_id": "s", "generation": 3, "field": "image", "dim": 8, "count": 300, "hnsw_m": 8}


def _unit(n: int, d: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, HnswIndex]:
    index = HnswIndex.build(_unit(300, 8), m=8)
    path = tmp_path / "vectors-image.faiss"
    index.save(path, HEADER)
    return path, index


def test_the_file_layout_is_unchanged(saved: tuple[Path, HnswIndex]) -> None:
    path, index = saved
    data = path.read_bytes()
    assert data[:4] == b"BSVX"
    version, length = struct.unpack("<II", data[4:12])
    assert version == CACHE_FORMAT == 1
    assert data[12 + length :] == faiss.serialize_index(index.index).tobytes()
    assert not path.with_name(path.name + ".tmp").exists()


def test_a_loaded_graph_searches_like_the_saved_one(saved: tuple[Path, HnswIndex]) -> None:
    path, index = saved
    loaded = HnswIndex.load(path, HEADER)
    assert loaded is not None and loaded.size == 300
    np.testing.assert_array_equal(loaded.vectors(), index.vectors())
    query = _unit(1, 8, seed=5)[0]
    for got, want in zip(loaded.search(query, 10, 64), index.search(query, 10, 64), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("cut", [0, 3, 11, 20, 200, -1000, -1])
def test_a_truncated_file_is_not_loaded(saved: tuple[Path, HnswIndex], cut: int) -> None:
    path, _ = saved
    path.write_bytes(path.read_bytes()[:cut])
    assert HnswIndex.load(path, HEADER) is None


def test_foreign_stale_and_missing_files_are_not_loaded(
    saved: tuple[Path, HnswIndex], tmp_path: Path
) -> None:
    path, _ = saved
    data = path.read_bytes()
    assert HnswIndex.load(path, {**HEADER, "generation": 4}) is None
    assert HnswIndex.load(tmp_path / "missing.faiss", HEADER) is None
    path.write_bytes(data[:4] + struct.pack("<II", CACHE_FORMAT + 1, 0) + data[12:])
    assert HnswIndex.load(path, HEADER) is None
    path.write_bytes(data[:12] + b"\xff" * (len(data) - 12))
    assert HnswIndex.load(path, HEADER) is None
    path.write_bytes(faiss.serialize_index(faiss.IndexFlatIP(8)).tobytes())
    assert HnswIndex.load(path, HEADER) is None
    meta = str(HEADER).replace("'", '"').encode()
    path.write_bytes(b"BSVX" + struct.pack("<II", CACHE_FORMAT, len(meta)) + meta + b"garbage" * 100)
    assert HnswIndex.load(path, HEADER) is None


def test_a_failed_save_raises_oserror_and_leaves_no_temporary(tmp_path: Path) -> None:
    index = HnswIndex.build(_unit(50, 8), m=8)
    with pytest.raises(OSError):
        index.save(tmp_path / "missing-folder" / "vectors-image.faiss", HEADER)
    assert list(tmp_path.iterdir()) == []


def test_reserved_storage_is_not_reallocated_while_rows_stream_in() -> None:
    matrix = _unit(2000, 16)
    index = HnswIndex.create(16, 8, reserve=2000)
    storage = faiss.downcast_index(index.index.storage)
    codes, links = int(storage.codes.data()), int(index.index.hnsw.neighbors.data())
    for start in range(0, 2000, 128):
        index.add(matrix[start : start + 128])
    assert int(storage.codes.data()) == codes and int(index.index.hnsw.neighbors.data()) == links
    np.testing.assert_array_equal(index.vectors(), matrix)


def _store(n: int, dim: int) -> tuple[sqlite3.Connection, np.ndarray]:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE docs (doc_key INTEGER PRIMARY KEY, id TEXT, image_vector BLOB, text_vector BLOB)"
    )
    matrix = _unit(n, dim)
    rows = [(k + 1, f"p{k}", matrix[k].tobytes(), None if k % 3 else matrix[k].tobytes()) for k in range(n)]
    conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
    return conn, matrix


def test_a_streamed_graph_holds_the_same_rows_as_the_matrix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_rows, "_BATCH", 64)  # many batches into faiss
    conn, _ = _store(500, 8)
    exact = load_field(conn, "image", 2, 8)
    header = {**HEADER, "generation": 2, "count": 500}
    cache = cache_file(tmp_path, "image")
    built = load_field_hnsw(conn, "image", 2, 8, 500, cache=cache, header=header, hnsw_m=8)
    assert cache.is_file()
    loaded = load_field_hnsw(conn, "image", 2, 8, 500, cache=cache, header=header, hnsw_m=8)
    for field in (built, loaded):
        assert (
            field.hnsw is not None and field.keys.tolist() == exact.keys.tolist() and field.ids == exact.ids
        )
        assert not field.matrix.flags.owndata  # a view of faiss's storage: the rows are held once
        np.testing.assert_array_equal(field.matrix, exact.matrix)


def _docs(n: int, dim: int) -> list[StoredDocument]:
    image, text = _unit(n, dim, seed=1), _unit(n, dim, seed=2)
    return [
        StoredDocument(id=f"p{i}", title=f"item {i}", image_vector=image[i], text_vector=text[i])
        for i in range(n)
    ]


def _request(field: str, vector: np.ndarray) -> VectorRequest:
    return VectorRequest(channel=field, field=field, vector=vector, k=5)


def test_fields_are_loaded_one_at_a_time_and_graphs_hold_their_rows(tmp_path: Path) -> None:
    docs = _docs(120, 16)
    with EmbeddedBackend(tmp_path, vector_search="hnsw", hnsw_m=8) as backend:
        backend.upsert(docs)
        assert backend.search_vector(_request("image", docs[7].image_vector)).ids[0] == "p7"
        assert [field for field, _ in backend._vectors] == ["image"]
        assert backend.search_vector(_request("text", docs[9].text_vector)).ids[0] == "p9"
        image, text = backend._vectors[("image", 16)], backend._vectors[("text", 16)]
        assert image.ids is text.ids  # the same documents share one list of ids
        assert image.hnsw is not None and not image.matrix.flags.owndata
    assert cache_file(tmp_path, "text").is_file()


def test_exact_search_keeps_its_own_matrix(tmp_path: Path) -> None:
    docs = _docs(60, 16)
    with EmbeddedBackend(tmp_path, vector_search="exact") as backend:
        backend.upsert(docs)
        found = backend.search_vector(_request("image", docs[3].image_vector))
        image = docs[3].image_vector
        want = sorted(range(60), key=lambda i: (-float(docs[i].image_vector @ image), i))[:5]
        assert found.ids == [f"p{i}" for i in want]
        vectors = backend._vectors[("image", 16)]
        assert vectors.hnsw is None and vectors.matrix.flags.owndata
    assert not cache_file(tmp_path, "image").exists()


def test_a_graph_asked_of_exactly_loaded_vectors_is_built_from_their_matrix(tmp_path: Path) -> None:
    docs = _docs(60, 16)
    with EmbeddedBackend(tmp_path, vector_search="exact") as backend:
        backend.upsert(docs)
        backend.search_vector(_request("image", docs[0].image_vector))
        backend.vector_search = "hnsw"  # the vectors in memory were loaded for exact search
        assert backend.search_vector(_request("image", docs[4].image_vector)).ids[0] == "p4"
        assert backend._vectors[("image", 16)].hnsw is not None
    assert cache_file(tmp_path, "image").is_file()
