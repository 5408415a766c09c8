"""How a :class:`~blendsearch.documents.StoredDocument` is laid out as a cluster document, and back.

One layout for OpenSearch and Elasticsearch, so the mapping builders and the query builders agree:

- ``id``: keyword, the document id as given (BM25 ties break on it, as in MemoryBackend)
- ``title``, ``description``, ``attributes``, ``colours``, ``tags``, ``generated``: text, one per logical
  lexical field (:data:`~blendsearch.search_fields.LEXICAL_FIELDS`)
- ``kw.<field>``: keyword, every filterable value as casefolded text (term/terms filters)
- ``num.<field>``: double, every value that parses as a number (range filters)
- ``val.<field>``: double, values that were numbers or booleans in the catalogue (non-text equality)
- ``words``: keyword, not indexed: the document's folded words (vocabulary, typo correction)
- ``image_vector``, ``text_vector``: k-NN vectors
- ``content_hash``: keyword (ingest skips unchanged items)
- ``doc``: object, not indexed: the StoredDocument as JSON minus vectors (what get() returns)

Filterable values come from :func:`blendsearch.search_fields.filter_fields`, so attributes, generated
colours/tags and the id filter exactly as :func:`blendsearch.filters.matches` says.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from blendsearch._types import AttributeValue
from blendsearch.documents import StoredDocument
from blendsearch.search_fields import document_fields, filter_fields
from blendsearch.text import words

__all__ = [
    "DOC_FIELD",
    "KEYWORD_PREFIX",
    "NUMBER_PREFIX",
    "VALUE_PREFIX",
    "INDEX_VECTOR_FIELDS",
    "field_key",
    "from_source",
    "to_source",
]

KEYWORD_PREFIX = "kw"
NUMBER_PREFIX = "num"
VALUE_PREFIX = "val"
DOC_FIELD = "doc"
#: Logical vector field (VectorRequest.field) -> index field.
INDEX_VECTOR_FIELDS = {"image": "image_vector", "text": "text_vector"}


def field_key(name: str) -> str:
    """A filter field name as an object key: dots would make nested objects, so they become U+2024."""
    return name.replace(".", "\u2024")


def _as_list(value: AttributeValue | None) -> list[AttributeValue]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _number(value: AttributeValue) -> float | None:
    """``float(value)`` as blendsearch.filters.matches computes it for range filters; None when it fails."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _vector(value: np.ndarray | None) -> list[float] | None:
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float32).ravel()
    if not np.isfinite(array).all():
        # NaN would make the whole bulk request invalid JSON; refuse the one document instead.
        raise ValueError("vector has NaN or infinite values")
    return [float(x) for x in array]


def to_source(doc: StoredDocument) -> dict[str, Any]:
    """The cluster document for a stored document."""
    # Empty text fields are left out, so an ``exists`` query means "has text" (RemoteBackend.present_fields).
    source: dict[str, Any] = {"id": doc.id, **{k: v for k, v in document_fields(doc).items() if v.strip()}}
    keywords: dict[str, list[str]] = {}
    numbers: dict[str, list[float]] = {}
    values: dict[str, list[float]] = {}
    for name, value in filter_fields(doc).items():
        items = _as_list(value)
        if not items:
            continue
        key = field_key(name)
        keywords[key] = [str(v).casefold() for v in items]
        parsed = [n for n in (_number(v) for v in items) if n is not None]
        if parsed:
            numbers[key] = parsed
        native = [n for n in (_number(v) for v in items if not isinstance(v, str)) if n is not None]
        if native:
            values[key] = native
    source[KEYWORD_PREFIX] = keywords
    source[NUMBER_PREFIX] = numbers
    source[VALUE_PREFIX] = values
    seen: dict[str, None] = {}
    for text in document_fields(doc).values():
        seen.update(dict.fromkeys(words(text)))
    source["words"] = list(seen)
    for logical, field in INDEX_VECTOR_FIELDS.items():
        vector = _vector(doc.image_vector if logical == "image" else doc.text_vector)
        if vector is not None:
            source[field] = vector
    source["content_hash"] = doc.content_hash
    source[DOC_FIELD] = doc.model_dump(mode="json", exclude={"image_vector", "text_vector"})
    return source


def from_source(source: dict[str, Any], with_vectors: bool = False) -> StoredDocument:
    """The stored document back from a cluster document's ``_source``."""
    doc = StoredDocument.model_validate(source[DOC_FIELD])
    if with_vectors:
        for logical, field in INDEX_VECTOR_FIELDS.items():
            if source.get(field) is not None:
                setattr(doc, f"{logical}_vector", np.asarray(source[field], dtype=np.float32))
    return doc
