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
from blendsearch.backends.fields import document_fields, filter_fields, present_fields
from blendsearch.documents import StoredDocument
from blendsearch.filters import matches
from blendsearch.text import analyze, words

__all__ = ["MemoryBackend"]

_K1, _B = 1.2, 0.75  # BM25 constants, the same defaults as FTS5 and Lucene


class MemoryBackend(Backend):
    """Keeps documents in a dict and scores BM25 per field (summed with boosts) by brute force."""

    def __init__(self) -> None:
        self._docs: dict[str, StoredDocument] = {}
        self._terms: dict[str, dict[str, Counter[str]]] = {}

    def upsert(self, documents: Sequence[StoredDocument]) -> list[UpsertResult]:
        for doc in documents:
            self._docs[doc.id] = doc
            self._terms[doc.id] = {
                name: Counter(analyze(text)) for name, text in document_fields(doc).items()
            }
        return [UpsertResult(id=doc.id, ok=True) for doc in documents]

    def delete(self, ids: Iterable[str]) -> int:
        removed = 0
        for id_ in ids:
            if self._docs.pop(id_, None) is not None:
                self._terms.pop(id_, None)
                removed += 1
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

    def iter_ids(self) -> Iterable[str]:
        return list(self._docs)

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
        ids = self._allowed(request)
        n = max(len(self._docs), 1)
        scores: dict[str, float] = {}
        for field, boost in request.fields.items():
            lengths = [sum(self._terms[i].get(field, Counter()).values()) for i in self._docs]
            avg = (sum(lengths) / len(lengths)) if lengths else 0.0
            for clause in request.clauses:
                for term in set(analyze(clause.text)):
                    df = sum(1 for i in self._docs if self._terms[i].get(field, Counter())[term] > 0)
                    if df == 0:
                        continue
                    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                    for i in ids:
                        counts = self._terms[i].get(field, Counter())
                        tf = counts[term]
                        if tf == 0:
                            continue
                        length = sum(counts.values())
                        norm = tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / (avg or 1.0)))
                        scores[i] = scores.get(i, 0.0) + boost * clause.weight * idf * norm
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
