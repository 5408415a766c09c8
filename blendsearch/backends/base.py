"""The backend interface: store documents, answer per-channel candidate requests.

A backend does NOT fuse. It returns raw candidate scores per channel and
:mod:`blendsearch.query.hybrid` fuses them with :mod:`blendsearch.scoring`, so every backend shares
one scoring formula. A backend that can send several channel requests at once (OpenSearch ``_msearch``)
overrides :meth:`Backend.search`; others implement the two single-request methods.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from blendsearch.documents import StoredDocument
from blendsearch.filters import Filter

__all__ = [
    "Backend",
    "ChannelRequest",
    "ChannelResult",
    "LexicalRequest",
    "QueryClause",
    "UpsertResult",
    "VectorRequest",
]


class QueryClause(BaseModel):
    """A group of terms (OR semantics, BM25-scored) and the weight its score is multiplied by.

    The user's own words come as weight 1.0, expansions with less; a backend sums weighted clause scores.
    """

    text: str
    weight: float = Field(default=1.0, ge=0.0)


class LexicalRequest(BaseModel):
    """BM25 over the given fields (with boosts), for the ``bm25`` and ``metadata`` channels.

    Field names are logical: ``title``, ``description``, ``attributes``, ``colours``, ``tags``, ``generated``.
    """

    kind: Literal["lexical"] = "lexical"
    channel: str
    clauses: list[QueryClause]
    fields: dict[str, float]
    filters: list[Filter] = Field(default_factory=list)
    k: int = Field(default=100, ge=1)


class VectorRequest(BaseModel):
    """Nearest neighbours by cosine (vectors are unit length, so dot product) in the image or text field."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kind: Literal["vector"] = "vector"
    channel: str
    field: Literal["image", "text"]
    vector: np.ndarray
    filters: list[Filter] = Field(default_factory=list)
    k: int = Field(default=100, ge=1)


ChannelRequest = LexicalRequest | VectorRequest


class ChannelResult(BaseModel):
    """Candidates of one channel, best first: cosines for vectors, BM25 (higher is better) for lexical."""

    channel: str
    ids: list[str] = Field(default_factory=list)
    scores: list[float] = Field(default_factory=list)


class UpsertResult(BaseModel):
    """The outcome for one document of a bulk write."""

    id: str
    ok: bool
    error: str | None = None


class Backend(abc.ABC):
    """Minimal storage + retrieval interface. Use as a context manager to close it."""

    #: Whether vector requests are served (emulators without k-NN say False).
    supports_vectors: bool = True

    # -- writing ---------------------------------------------------------------
    @abc.abstractmethod
    def upsert(self, documents: Sequence[StoredDocument]) -> list[UpsertResult]:
        """Insert or replace documents by id; one result per document, in order."""

    @abc.abstractmethod
    def delete(self, ids: Iterable[str]) -> int:
        """Delete by id; returns how many existed."""

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Make writes durable/visible (commit, refresh). Default: nothing to do."""

    # -- reading ---------------------------------------------------------------
    @abc.abstractmethod
    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """Stored content hashes of those ids that exist (ingest skips unchanged items with them)."""

    @abc.abstractmethod
    def get(self, ids: Sequence[str], with_vectors: bool = False) -> list[StoredDocument]:
        """Stored documents for the ids that exist, in the order asked."""

    @abc.abstractmethod
    def count(self) -> int:
        """Number of stored documents."""

    @abc.abstractmethod
    def vocabulary(self) -> dict[str, int]:
        """Indexed words of the text and metadata fields with their document frequency (typo correction).

        A copy the caller may change. A backend that caches it keeps the cache while
        :meth:`write_generation` stays the same: the one rule for everything derived from the vocabulary.
        """

    def count_with_user_text(self) -> int | None:
        """Stored documents with some catalogue text (:data:`~blendsearch.search_fields.USER_TEXT_FIELDS`),
        the rest being image-only; None: this backend cannot tell. The built-in fusion profile is chosen by
        the image-only share (:mod:`blendsearch.query.profiles`)."""
        return None

    def write_generation(self) -> int | None:
        """A number that changes with every write this backend can see (another process's too, where the
        store records it): the vocabulary, and what the engine derives from it, are rebuilt when it
        changes. None: the backend cannot tell, so derived data is rebuilt on every use."""
        return None

    @abc.abstractmethod
    def iter_ids(self) -> Iterable[str]:
        """Every stored id."""

    def present_fields(self, ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """Per stored id, what :func:`~blendsearch.search_fields.present_fields` says it has.

        Fusion asks it for a query's candidates. This default reads whole documents with
        :meth:`get`; backends override it with a lookup of just the flags.
        """
        from blendsearch.search_fields import present_fields

        return {doc.id: present_fields(doc) for doc in self.get(ids, with_vectors=True)}

    def filter_field_kinds(self) -> dict[str, bool] | None:
        """Each field filters can test that some stored document has -> whether some value is a number.

        Queries check their filters against it (a filter on a field no document has is a mistake to
        report, not "0 hits"). None: this backend cannot tell cheaply; the engine then trusts its config.
        """
        return None

    # -- searching ---------------------------------------------------------------
    @abc.abstractmethod
    def search_lexical(self, request: LexicalRequest) -> ChannelResult:
        """Answer one BM25 request."""

    @abc.abstractmethod
    def search_vector(self, request: VectorRequest) -> ChannelResult:
        """Answer one k-NN request."""

    def search(self, requests: Sequence[ChannelRequest]) -> list[ChannelResult]:
        """Answer several channel requests; backends with multi-search send them in one round trip."""
        return [
            self.search_lexical(r) if isinstance(r, LexicalRequest) else self.search_vector(r)
            for r in requests
        ]

    # -- lifecycle -----------------------------------------------------------------
    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files, connections."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
