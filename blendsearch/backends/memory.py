"""A tiny in-memory backend: the reference semantics for tests and for parity checks of real backends."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from blendsearch.backends.base import (
    Backend,
    ChannelResult,
    LexicalRequest,
    UpsertResult,
    VectorRequest,
)
from blendsearch.backends.bm25f import K1, B, field_weights
from blendsearch.documents import StoredDocument
from blendsearch.filters import matches
from blendsearch.search_fields import USER_TEXT_FIELDS, document_fields, filter_fields, present_fields
from blendsearch.text import analyze, words

__all__ = ["MemoryBackend"]


def _is_number(value: object) -> bool:
    """Whether a range filter can read the value (``float()`` as :func:`blendsearch.filters.matches`)."""
    try:
        return not math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


class MemoryBackend(Backend):
    """Keeps documents in a dict and scores BM25F (the fields as one, weighted) by brute force."""

    def __init__(self) -> None:
        self._docs: dict[str, StoredDocument] = {}
        self._terms: dict[str, dict[str, Counter[str]]] = {}
        self._writes = 0

    def upsert(self, documents: Sequence[StoredDocument]) -> list[UpsertResult]:
        for doc in documents:
            self._docs[doc.id] = doc
            self._terms[doc.id] = {
                name: Counter(analyze(text)) for name, text in document_fields(doc).items()
            }
        self._writes += 1
        return [UpsertResult(id=doc.id, ok=True) for doc in documents]

    def delete(self, ids: Iterable[str]) -> int:
        removed = 0
        for id_ in ids:
            if self._docs.pop(id_, None) is not None:
                self._terms.pop(id_, None)
                removed += 1
        self._writes += 1
        return removed

    def content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        return {i: self._docs[i].content_hash for i in ids if i in self._docs}

    def get(self, ids: Sequence[str], with_vectors: bool = False) -> list[StoredDocument]:
        found = [self._docs[i] for i in ids if i in self._docs]
        if with_vectors:
            return [d.model_copy() for d in found]
        return [d.model_copy(update={"image_vector": None, "text_vector": None}) for d in found]

    def present_fields(self, ids: Sequence[str]) -> dict[str, frozenset[str]]:
        return {i: present_fields(self._docs[i]) for i in ids if i in self._docs}

    def count(self) -> int:
        return len(self._docs)

    def count_with_user_text(self) -> int:
        user_text = frozenset(USER_TEXT_FIELDS)
        return sum(1 for doc in self._docs.values() if present_fields(doc) & user_text)

    def iter_ids(self) -> Iterable[str]:
        return list(self._docs)

    def filter_field_kinds(self) -> dict[str, bool]:
        kinds: dict[str, bool] = {}
        for doc in self._docs.values():
            for key, value in filter_fields(doc).items():
                values = value if isinstance(value, list) else [] if value is None else [value]
                if values:
                    kinds[key] = kinds.get(key, False) or any(_is_number(v) for v in values)
        return kinds

    def write_generation(self) -> int:
        return self._writes

    def vocabulary(self) -> dict[str, int]:
        df: Counter[str] = Counter()
        for doc in self._docs.values():
            seen: set[str] = set()
            for text in document_fields(doc).values():
                seen.update(words(text))
            df.update(seen)
        return dict(df)

    def _allowed(self, request: LexicalRequest | VectorRequest) -> list[str]:
        return [i for i, d in self._docs.items() if matches(filter_fields(d), request.filters)]

    def search_lexical(self, request: LexicalRequest) -> ChannelResult:
        """BM25F over the request's fields as one combined field (:mod:`blendsearch.backends.bm25f`)."""
        weights = field_weights(request.fields)
        n = max(len(self._docs), 1)
        empty: Counter[str] = Counter()
        combined = {
            i: (terms, sum(w * sum(terms.get(f, empty).values()) for f, w in weights.items()))
            for i, terms in self._terms.items()
        }
        avg = (sum(length for _, length in combined.values()) / n) or 1.0
        allowed = set(self._allowed(request))
        scores: dict[str, float] = {}
        for clause in request.clauses:
            if clause.weight <= 0:  # as the embedded and cluster backends: the clause is not sent
                continue
            for term in set(analyze(clause.text)):
                tfs = {
                    i: tf
                    for i, (terms, _) in combined.items()
                    if (tf := sum(w * terms.get(f, empty)[term] for f, w in weights.items())) > 0
                }
                if not tfs:
                    continue
                idf = math.log(1 + (n - len(tfs) + 0.5) / (len(tfs) + 0.5))
                for i, tf in tfs.items():
                    if i in allowed:
                        norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * combined[i][1] / avg))
                        scores[i] = scores.get(i, 0.0) + clause.weight * idf * norm
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[: request.k]
        return ChannelResult(channel=request.channel, ids=[i for i, _ in best], scores=[s for _, s in best])

    def search_vector(self, request: VectorRequest) -> ChannelResult:
        attr = "image_vector" if request.field == "image" else "text_vector"
        pairs = [(i, getattr(self._docs[i], attr)) for i in self._allowed(request)]
        pairs = [(i, v) for i, v in pairs if v is not None]
        if not pairs:
            return ChannelResult(channel=request.channel)
        matrix = np.stack([v for _, v in pairs]).astype(np.float32)
        sims = matrix @ np.asarray(request.vector, dtype=np.float32)
        order = np.argsort(-sims, kind="stable")[: request.k]
        return ChannelResult(
            channel=request.channel, ids=[pairs[j][0] for j in order], scores=[float(sims[j]) for j in order]
        )
