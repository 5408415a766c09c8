"""A stored document as the embedded store's rows, and back: vector blobs, FTS5 texts, the ``docs`` row."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence

import numpy as np

from blendsearch.backends.base import UpsertResult
from blendsearch.backends.embedded import store
from blendsearch.backends.embedded.lexical import Row
from blendsearch.documents import Enrichment, StoredDocument
from blendsearch.search_fields import LEXICAL_FIELDS, document_fields

__all__ = [
    "DOC_COLUMNS",
    "Prepared",
    "blob",
    "checked_vector",
    "document_from_row",
    "field_texts",
    "insert_documents",
    "prepare_documents",
]

#: A document ready to write: itself, its image and text vector blobs, and its dimension.
Prepared = tuple[StoredDocument, bytes | None, bytes | None, int | None]

#: The ``docs`` columns :func:`document_from_row` reads, vectors (``image_vector, text_vector``) aside.
DOC_COLUMNS = "id, title, description, attributes, image, enrichment, content_hash"


def blob(vector: np.ndarray | None) -> bytes | None:
    """A vector as little-endian float32 bytes (the ``docs`` vector columns)."""
    return None if vector is None else np.ascontiguousarray(vector, dtype="<f4").tobytes()


def checked_vector(vector: np.ndarray | None, name: str) -> np.ndarray | None:
    """The vector as float32, or a ValueError saying why it cannot be stored (the upsert rejects it alone)."""
    if vector is None:
        return None
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d vector, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} has NaN or infinite values")
    return array


def field_texts(doc: StoredDocument) -> list[str]:
    """The FTS5 row of a document: its text per logical lexical field, in ``LEXICAL_FIELDS`` order."""
    texts = document_fields(doc)
    return [texts[name] for name in LEXICAL_FIELDS]


def document_from_row(row: tuple) -> StoredDocument:
    """A document from ``SELECT DOC_COLUMNS[, image_vector, text_vector] FROM docs``."""
    id_, title, description, attributes, image, enrichment, content_hash = row[:7]
    vectors = [None if b is None else np.frombuffer(b, dtype="<f4").astype(np.float32) for b in row[7:9]]
    return StoredDocument(
        id=id_,
        title=title,
        description=description,
        attributes=json.loads(attributes),
        image=image,
        enrichment=Enrichment.model_validate_json(enrichment),
        content_hash=content_hash,
        image_vector=vectors[0] if vectors else None,
        text_vector=vectors[1] if vectors else None,
    )


def prepare_documents(documents: Sequence[StoredDocument]) -> tuple[dict[str, Prepared], list[UpsertResult]]:
    """Check each document's vectors; one with a malformed vector is rejected alone (its result says why)."""
    results: list[UpsertResult] = []
    prepared: dict[str, Prepared] = {}
    for doc in documents:
        try:
            image = checked_vector(doc.image_vector, "image_vector")
            text = checked_vector(doc.text_vector, "text_vector")
            if image is not None and text is not None and image.size != text.size:
                raise ValueError(f"image_vector has {image.size} dimensions but text_vector {text.size}")
        except ValueError as exc:
            results.append(UpsertResult(id=doc.id, ok=False, error=str(exc)))
            continue
        dim = image.size if image is not None else (text.size if text is not None else None)
        prepared[doc.id] = (doc, blob(image), blob(text), dim)
        results.append(UpsertResult(id=doc.id, ok=True))
    return prepared, results


def insert_documents(
    conn: sqlite3.Connection, prepared: Mapping[str, Prepared], keys: Mapping[str, int], now: float
) -> list[Row]:
    """Write the ``docs``, ``fts`` and ``attrs`` rows of ``prepared`` (old rows already deleted) inside the
    caller's transaction; returns the rows the tantivy index needs (key, texts, filter values)."""
    conn.executemany(
        "INSERT OR REPLACE INTO docs (doc_key, id, title, description, attributes, image, enrichment,"
        " content_hash, image_vector, text_vector, dim, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                keys[doc.id],
                doc.id,
                doc.title,
                doc.description,
                json.dumps(doc.attributes, ensure_ascii=False),
                doc.image,
                doc.enrichment.model_dump_json(),
                doc.content_hash,
                image,
                text,
                dim,
                now,
            )
            for doc, image, text, dim in prepared.values()
        ],
    )
    # Each document's attrs rows are built once: inserted as they are, and (without the doc_key) handed on
    # to the tantivy index.
    rows: list[Row] = []
    attr_rows: list[tuple[int, str, str, int | float | None, int]] = []
    for doc, *_ in prepared.values():
        key = keys[doc.id]
        attrs = store.attribute_rows(key, doc)
        attr_rows.extend(attrs)
        rows.append((key, field_texts(doc), [row[1:] for row in attrs]))
    conn.executemany(
        f"INSERT INTO fts (rowid, {', '.join(LEXICAL_FIELDS)}) VALUES (?{', ?' * len(LEXICAL_FIELDS)})",
        [(key, *texts) for key, texts, _ in rows],
    )
    conn.executemany(
        "INSERT INTO attrs (doc_key, key, value_text, value_num, is_text) VALUES (?, ?, ?, ?, ?)", attr_rows
    )
    return rows
