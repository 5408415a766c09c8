"""What a catalogue item is once read (:class:`Document`) and once indexed (:class:`StoredDocument`)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from blendsearch._types import AttributeValue

__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "MAX_TITLE_CHARS",
    "Document",
    "Enrichment",
    "StoredDocument",
    "clip_texts",
    "content_hash",
]

#: Longer titles and descriptions are cut to this many characters when ingested (see :func:`clip_texts`).
MAX_TITLE_CHARS = 2_000
MAX_DESCRIPTION_CHARS = 50_000


class Document(BaseModel):
    """One catalogue item after the field mapping: the user's own data, nothing generated."""

    id: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    #: Image reference as the catalogue gives it: a path (relative to the catalogue), a URL or a zip member.
    image: str | None = None

    def text(self) -> str:
        """The text a text encoder sees for this item (title then description)."""
        return ". ".join(part for part in (self.title.strip(), self.description.strip()) if part)


class Enrichment(BaseModel):
    """Metadata generated from the image at ingest; always marked as generated, never mixed with user data."""

    colours: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    tag_scores: dict[str, float] = Field(default_factory=dict)
    description: str = ""
    generated: bool = True


class StoredDocument(Document):
    """A document as a backend stores it: user fields, enrichment, vectors and the content hash."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    enrichment: Enrichment = Field(default_factory=Enrichment)
    content_hash: str = ""
    #: L2-normalised float32 vectors, or None where the item has no image / text or no model is configured.
    image_vector: np.ndarray | None = None
    text_vector: np.ndarray | None = None

    def attributes_text(self) -> str:
        """Attribute values as one text field for BM25 (keys are not searchable words)."""
        values: list[str] = []
        for value in self.attributes.values():
            values.extend(str(v) for v in value) if isinstance(value, list) else values.append(str(value))
        return " ".join(values)

    def public(self) -> Document:
        """The user's own fields, without vectors."""
        return Document(**self.model_dump(include={"id", "title", "description", "attributes", "image"}))


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, at the last space in the final tenth when there is one."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ", limit - limit // 10)
    return (cut[:space] if space > 0 else cut).rstrip()


def clip_texts(document: Document) -> tuple[Document, bool]:
    """The document with its title and description cut to :data:`MAX_TITLE_CHARS` and
    :data:`MAX_DESCRIPTION_CHARS`, and whether anything was cut.

    A product is still worth finding when its feed pastes a whole manual into the title; the caps bound
    what one item costs the lexical index and the text encoder (which reads only the first tokens).
    """
    title = _clip(document.title, MAX_TITLE_CHARS)
    description = _clip(document.description, MAX_DESCRIPTION_CHARS)
    if title is document.title and description is document.description:
        return document, False
    return document.model_copy(update={"title": title, "description": description}), True


def content_hash(document: Document, image_bytes: bytes | None, model_fingerprint: str) -> str:
    """Hash of everything that decides an item's stored form, so unchanged items skip re-encoding.

    The model fingerprint is part of it: switching models re-encodes everything.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps(document.model_dump(mode="json"), sort_keys=True).encode())
    digest.update(b"\0image\0")
    digest.update(hashlib.sha256(image_bytes).digest() if image_bytes is not None else b"-")
    digest.update(b"\0model\0" + model_fingerprint.encode())
    return digest.hexdigest()
