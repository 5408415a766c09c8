"""A stored document as the embedded store's rows, and back: vector blobs, FTS5 texts, the ``docs`` row."""

from __future__ import annotations

import json

import numpy as np

from blendsearch.documents import Enrichment, StoredDocument
from blendsearch.search_fields import LEXICAL_FIELDS, document_fields

__all__ = ["DOC_COLUMNS", "blob", "checked_vector", "document_from_row", "field_texts"]

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
