"""Vectors are streamed from SQLite into the final float32 arrays, one field at a time."""

from __future__ import annotations

import sqlite3

import numpy as np

from blendsearch.backends.embedded import vector_rows
from blendsearch.backends.embedded.vector_rows import load_field_vectors


def _store(rows: list[tuple[int, str, np.ndarray | None, np.ndarray | None]]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE docs (doc_key INTEGER PRIMARY KEY, id TEXT, image_vector BLOB, text_vector BLOB)"
    )

    def blob(vector: np.ndarray | None) -> bytes | None:
        return None if vector is None else vector.tobytes()

    values = [(k, i, blob(a), blob(b)) for k, i, a, b in rows]
    conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", values)
    return conn


def test_fields_keep_their_own_documents_in_key_order(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(vector_rows, "_BATCH", 2)  # several batches
    vec = [np.arange(3, dtype=np.float32) + 10 * n for n in range(6)]
    conn = _store(
        [
            (5, "e", vec[4], vec[5]),
            (1, "a", vec[0], None),
            (2, "b", vec[1], vec[2]),
            (3, "c", None, vec[3]),
            (4, "d", np.zeros(4, dtype=np.float32), vec[1]),  # another dimension: left out of image
        ]
    )
    loaded = load_field_vectors(conn, 7, 3)
    image, text = loaded["image"], loaded["text"]
    assert image.keys.tolist() == [1, 2, 5] and image.ids == ["a", "b", "e"]
    assert text.keys.tolist() == [2, 3, 4, 5] and text.ids == ["b", "c", "d", "e"]
    assert image.matrix.dtype == np.float32 and image.matrix.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(image.matrix, np.stack([vec[0], vec[1], vec[4]]))
    np.testing.assert_array_equal(text.matrix, np.stack([vec[2], vec[3], vec[1], vec[5]]))
    assert image.generation == text.generation == 7


def test_fields_of_the_same_documents_share_the_ids() -> None:
    vec = np.ones(2, dtype=np.float32)
    loaded = load_field_vectors(_store([(1, "a", vec, vec), (2, "b", vec, vec)]), 1, 2)
    assert loaded["image"].ids is loaded["text"].ids
    empty = load_field_vectors(_store([]), 1, 2)
    assert empty["image"].matrix.shape == (0, 2) and empty["text"].keys.size == 0
