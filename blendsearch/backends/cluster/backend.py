"""The backend both clusters share: every :class:`~blendsearch.backends.base.Backend` method written once
over a client, with the dialect modules (``opensearch.py``, ``elasticsearch.py``) supplying the client's
exceptions, the index body, the k-NN body and the score conversion through a handful of hooks.

Vector scores come back as cosines; nothing is fused here (fusion is :mod:`blendsearch.scoring`'s).
"""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from blendsearch.backends.base import (
    Backend,
    ChannelRequest,
    ChannelResult,
    LexicalRequest,
    UpsertResult,
    VectorRequest,
)
from blendsearch.backends.cluster.bulk import BulkOutcome, BulkSettings, bulk_write
from blendsearch.backends.cluster.client import (
    ClientDialect,
    call_client,
    client_errors,
    response_error,
)
from blendsearch.backends.cluster.migrate import alias_targets, versioned_index_name
from blendsearch.backends.cluster.queries import lexical_query, lexical_search_body
from blendsearch.documents import StoredDocument
from blendsearch.exceptions import BackendError
from blendsearch.mappings.layout import (
    DOC_FIELD,
    INDEX_VECTOR_FIELDS,
    from_source,
    to_source,
)
from blendsearch.mappings.settings import MappingSettings
from blendsearch.search_fields import LEXICAL_FIELDS, USER_TEXT_FIELDS

__all__ = ["PRESENT_FIELD_NAMES", "RemoteBackend"]

_GET_CHUNK = 1000

#: Cluster fields whose presence :meth:`RemoteBackend.present_fields` reports (cluster names = logical names).
PRESENT_FIELD_NAMES = (*LEXICAL_FIELDS, *INDEX_VECTOR_FIELDS.values())


class RemoteBackend(Backend, abc.ABC):
    """A Backend on an OpenSearch or Elasticsearch index (or alias).

    ``index`` is the name blendsearch reads and writes. Where it does not exist yet, the first write
    creates ``<index>-v1`` with the blendsearch mapping and points the alias ``<index>`` at it, so
    :func:`blendsearch.backends.cluster.migrate.migrate` can later swap in a re-built index without downtime
    (``use_alias=False`` creates a plain index instead). ``supports_vectors`` None probes the server.
    """

    #: Product name in messages.
    product = "cluster"

    def __init__(
        self,
        client: Any,
        index: str,
        *,
        mapping: MappingSettings | None = None,
        bulk: BulkSettings | None = None,
        supports_vectors: bool | None = None,
        use_alias: bool = True,
        create: bool = True,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.client = client
        self.index = index
        self.mapping = mapping or MappingSettings()
        self.bulk_settings = bulk or BulkSettings()
        self.use_alias = use_alias
        self.create = create
        self._vectors = supports_vectors
        self._exists: bool | None = None
        #: Writes through this object: the vocabulary is cached per count (a cluster cannot cheaply tell
        #: another process's writes; ``blendsearch serve`` over a cluster re-reads it after its own).
        self._writes = 0
        self._vocabulary: tuple[int, dict[str, int]] | None = None
        self._sleep = sleep
        self._dialect_cache: ClientDialect | None = None

    # -- hooks -------------------------------------------------------------------------------------
    @abc.abstractmethod
    def _load_dialect(self) -> ClientDialect:
        """The client library's helpers and exceptions (imported lazily)."""

    @abc.abstractmethod
    def index_body(self, settings: MappingSettings) -> dict[str, Any]:
        """The ``PUT /<index>`` body for these settings."""

    @abc.abstractmethod
    def vector_search_body(self, request: VectorRequest) -> dict[str, Any]:
        """A search body answering one k-NN request."""

    @abc.abstractmethod
    def score_to_cosine(self, score: float) -> float:
        """A k-NN hit's ``_score`` back to the cosine (= dot product of unit vectors)."""

    @abc.abstractmethod
    def _probe_vectors(self) -> bool:
        """Whether the server answers k-NN requests."""

    # -- plumbing ----------------------------------------------------------------------------------
    @property
    def dialect(self) -> ClientDialect:
        if self._dialect_cache is None:
            self._dialect_cache = self._load_dialect()
        return self._dialect_cache

    @property
    def supports_vectors(self) -> bool:  # type: ignore[override]
        if self._vectors is None:
            self._vectors = self._probe_vectors()
        return self._vectors

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return call_client(self.dialect, what, fn, *args, **kwargs)

    def _is_missing(self, exc: BaseException) -> bool:
        return self.dialect.status(exc) == 404

    def exists(self) -> bool:
        """Whether the index (or alias) exists; cached once true."""
        if not self._exists:
            self._exists = bool(self._call("index check", self.client.indices.exists, index=self.index))
        return bool(self._exists)

    def ensure_index(self, dim: int | None = None, text_dim: int | None = None) -> None:
        """Create the index (behind its alias) with the blendsearch mapping unless it exists."""
        if self.exists():
            return
        if not self.create:
            raise BackendError(f"{self.product} index {self.index!r} does not exist and create=False")
        settings = self.mapping
        if settings.dim is None and dim is not None:
            settings = settings.model_copy(
                update={"dim": dim, "text_dim": text_dim if text_dim != dim else None}
            )
        body = self.index_body(settings)
        if self.use_alias:
            body = {**body, "aliases": {self.index: {"is_write_index": True}}}
            name = versioned_index_name(self.index, 1)
        else:
            name = self.index
        self._call("index creation", self.client.indices.create, index=name, body=body)
        self._exists = True

    def drop(self) -> list[str]:
        """Delete the index, or every index behind the alias, for good; returns the names deleted.

        For throwaway indices (benchmarks, tests): there is no undo.
        """
        names = alias_targets(self.client, self.index) or ([self.index] if self.exists() else [])
        for name in names:
            self._call("index deletion", self.client.indices.delete, index=name)
        self._exists = False
        self._writes += 1
        return names

    # -- writing -----------------------------------------------------------------------------------
    def _bulk(self, actions: list[dict[str, Any]]) -> list[BulkOutcome]:
        kwargs: dict[str, Any] = {}
        if self._sleep is not None:
            kwargs["sleep"] = self._sleep
        with client_errors(self.dialect, "bulk write", every=True):
            return bulk_write(
                self.client,
                actions,
                helpers=self.dialect.helpers,
                settings=self.bulk_settings,
                is_retryable=self.dialect.is_retryable,
                **kwargs,
            )

    def upsert(self, documents: Sequence[StoredDocument]) -> list[UpsertResult]:
        if not documents:
            return []
        image = next((d.image_vector for d in documents if d.image_vector is not None), None)
        text = next((d.text_vector for d in documents if d.text_vector is not None), None)
        dim = len(image) if image is not None else (len(text) if text is not None else None)
        self.ensure_index(dim, len(text) if text is not None else None)
        results: list[UpsertResult | None] = [None] * len(documents)
        actions: list[dict[str, Any]] = []
        positions: list[int] = []
        for position, doc in enumerate(documents):
            try:
                source = to_source(doc)
            except (TypeError, ValueError) as exc:
                results[position] = UpsertResult(id=doc.id, ok=False, error=f"cannot serialise: {exc}")
                continue
            actions.append({"_op_type": "index", "_index": self.index, "_id": doc.id, "_source": source})
            positions.append(position)
        for position, outcome in zip(positions, self._bulk(actions), strict=True):
            results[position] = UpsertResult(id=outcome.id, ok=outcome.ok, error=outcome.error)
        self._writes += 1
        return [r for r in results if r is not None]

    def delete(self, ids: Iterable[str]) -> int:
        actions = [{"_op_type": "delete", "_index": self.index, "_id": i} for i in dict.fromkeys(ids)]
        if not actions or not self.exists():
            return 0
        outcomes = self._bulk(actions)
        failed = [o for o in outcomes if not o.ok and o.status != 404]
        if failed:
            raise BackendError(f"{self.product} delete failed for {failed[0].id!r}: {failed[0].error}")
        self._writes += 1
        return sum(1 for o in outcomes if o.result == "deleted")

    def flush(self) -> None:
        if self.exists():
            self._call("refresh", self.client.indices.refresh, index=self.index)

    # -- reading -----------------------------------------------------------------------------------
    def _mget(self, ids: Sequence[str], includes: list[str]) -> list[dict[str, Any]]:
        """Found documents (``_id``, ``_source``) for the ids, in the order asked; realtime, unlike search."""
        if not ids or not self.exists():
            return []
        found: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _GET_CHUNK):
            chunk = unique[start : start + _GET_CHUNK]
            body = {"docs": [{"_id": i, "_source": includes} for i in chunk]}
            response = self._call("mget", self.client.mget, index=self.index, body=body)
            found.extend(d for d in response["docs"] if d.get("found"))
        by_id = {d["_id"]: d for d in found}
        return [by_id[i] for i in ids if i in by_id]

    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        return {d["_id"]: d["_source"].get("content_hash", "") for d in self._mget(ids, ["content_hash"])}

    def get(self, ids: Sequence[str], with_vectors: bool = False) -> list[StoredDocument]:
        includes = [DOC_FIELD, *INDEX_VECTOR_FIELDS.values()] if with_vectors else [DOC_FIELD]
        return [from_source(d["_source"], with_vectors) for d in self._mget(ids, includes)]

    def count(self) -> int:
        if not self.exists():
            return 0
        return int(self._call("count", self.client.count, index=self.index)["count"])

    def count_with_user_text(self) -> int:
        """One ``_count`` of the documents with a catalogue text field (empty fields are not written)."""
        if not self.exists():
            return 0
        having = [{"exists": {"field": name}} for name in USER_TEXT_FIELDS]
        query = {"bool": {"should": having, "minimum_should_match": 1}}
        return int(self._call("count", self.client.count, index=self.index, body={"query": query})["count"])

    def _scan(self, source: list[str] | bool) -> Iterator[dict[str, Any]]:
        """Every document (scroll), streamed; client errors become blendsearch errors."""
        if not self.exists():
            return
        query = {"_source": source, "query": {"match_all": {}}}
        with client_errors(self.dialect, "scroll"):
            yield from self.dialect.helpers.scan(self.client, index=self.index, query=query, size=1000)

    def iter_ids(self) -> Iterable[str]:
        return [hit["_id"] for hit in self._scan(False)]

    def vocabulary(self) -> dict[str, int]:
        """Folded words -> document frequency, from each document's ``words`` (cached per write count)."""
        if self._vocabulary is None or self._vocabulary[0] != self._writes:
            writes = self._writes
            df: Counter[str] = Counter()
            for hit in self._scan(["words"]):
                df.update(set(hit.get("_source", {}).get("words", [])))
            self._vocabulary = (writes, dict(df))
        return dict(self._vocabulary[1])

    def write_generation(self) -> int:
        return self._writes

    def present_fields(self, ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """One ``_msearch`` of ``exists`` filters over the ids, one per field, and no document bodies.

        Empty text fields are not written (:func:`~.mappings.layout.to_source`), so ``exists`` means
        "has text"; documents written by an older blendsearch with empty strings count as having
        the field, which fuses them as before (a miss, not unseen).
        """
        wanted = list(dict.fromkeys(ids))
        if not wanted or not self.exists():
            return {}
        names = ["", *PRESENT_FIELD_NAMES]  # "" = which ids exist at all
        lines: list[dict[str, Any]] = []
        for name in names:
            where: list[dict[str, Any]] = [{"ids": {"values": wanted}}]
            if name:
                where.append({"exists": {"field": name}})
            body = {"size": len(wanted), "_source": False, "query": {"bool": {"filter": where}}}
            lines.extend([{"index": self.index}, body])
        responses = self._call("present fields", self.client.msearch, body=lines)["responses"]
        having: dict[str, set[str]] = {}
        for name, response in zip(names, responses, strict=True):
            if "error" in response:
                raise BackendError(f"{self.product} field lookup failed: {response_error(response)}")
            having[name] = {hit["_id"] for hit in response["hits"]["hits"]}
        return {
            id_: frozenset(n for n in PRESENT_FIELD_NAMES if id_ in having[n])
            for id_ in wanted
            if id_ in having[""]
        }

    # -- searching ---------------------------------------------------------------------------------
    def search_lexical(self, request: LexicalRequest) -> ChannelResult:
        return self.search([request])[0]

    def search_vector(self, request: VectorRequest) -> ChannelResult:
        return self.search([request])[0]

    def search(self, requests: Sequence[ChannelRequest]) -> list[ChannelResult]:
        """All channel requests in ONE ``_msearch``; raw channel scores back, nothing fused."""
        if any(isinstance(r, VectorRequest) for r in requests) and not self.supports_vectors:
            raise BackendError(
                f"this {self.product} server does not answer k-NN queries (no vector support); "
                "run the lexical channels only"
            )
        results = [ChannelResult(channel=r.channel) for r in requests]
        lines: list[dict[str, Any]] = []
        sent: list[int] = []
        for position, request in enumerate(requests):
            body = self.request_body(request)
            if body is not None:
                lines.extend([{"index": self.index}, body])
                sent.append(position)
        if not lines or not self.exists():
            return results
        responses = self._call("msearch", self.client.msearch, body=lines)["responses"]
        for position, response in zip(sent, responses, strict=True):
            request = requests[position]
            if "error" in response:
                if response.get("status") == 404:
                    continue  # index deleted under us: nothing to find
                raise BackendError(
                    f"{self.product} {request.channel} query failed: {response_error(response)}"
                )
            hits = response["hits"]["hits"]
            convert = self.score_to_cosine if isinstance(request, VectorRequest) else float
            results[position] = ChannelResult(
                channel=request.channel,
                ids=[h["_id"] for h in hits],
                scores=[convert(float(h["_score"])) for h in hits],
            )
        return results

    def request_body(self, request: ChannelRequest) -> dict[str, Any] | None:
        """The search body of one channel request (None: nothing to ask, e.g. a query of stop characters)."""
        if isinstance(request, VectorRequest):
            return self.vector_search_body(request)
        query = lexical_query(request)
        return None if query is None else lexical_search_body(request, query)

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if callable(close):
            close()
