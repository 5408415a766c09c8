"""How a stored document maps onto the logical search fields every backend indexes."""

from __future__ import annotations

from blendsearch._types import AttributeValue
from blendsearch.documents import StoredDocument

__all__ = [
    "LEXICAL_FIELDS",
    "USER_TEXT_FIELDS",
    "VECTOR_FIELDS",
    "document_fields",
    "filter_fields",
    "present_fields",
]

#: Logical text fields, named in SearchSettings.text_fields / metadata_fields.
LEXICAL_FIELDS = ("title", "description", "attributes", "colours", "tags", "generated")
#: The fields of the catalogue's own text (the rest is generated from the image): a product with none of
#: them is image-only, and the share of such products picks the built-in fusion profile.
USER_TEXT_FIELDS = ("title", "description", "attributes")
#: What :func:`present_fields` calls a stored vector (a ``VectorRequest.field`` plus ``_vector``).
VECTOR_FIELDS = ("image_vector", "text_vector")


def document_fields(doc: StoredDocument) -> dict[str, str]:
    """The text of each logical lexical field of a document."""
    return {
        "title": doc.title,
        "description": doc.description,
        "attributes": doc.attributes_text(),
        "colours": " ".join(doc.enrichment.colours),
        "tags": " ".join(doc.enrichment.tags),
        "generated": doc.enrichment.description,
    }


def filter_fields(doc: StoredDocument) -> dict[str, AttributeValue | None]:
    """The values filters test: attributes plus the generated multi-valued fields and the id."""
    fields: dict[str, AttributeValue | None] = dict(doc.attributes)
    fields.setdefault("colours", list(doc.enrichment.colours))
    fields.setdefault("tags", list(doc.enrichment.tags))
    fields.setdefault("id", doc.id)
    return fields


def present_fields(doc: StoredDocument) -> frozenset[str]:
    """The lexical fields with some text and the vectors a document has: what a channel can see of it.

    Fusion tells "searched and not matched" from "nothing there to search" with it (an image-only
    product has no ``title`` for BM25 to match).
    """
    texts = [name for name, text in document_fields(doc).items() if text.strip()]
    vectors = [name for name in VECTOR_FIELDS if getattr(doc, name) is not None]
    return frozenset(texts + vectors)
