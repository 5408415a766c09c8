"""Query bodies both clusters share: BM25 clauses, filter translation and the lexical search body.

Semantics follow :class:`~blendsearch.backends.memory.MemoryBackend`: per clause a ``combined_fields``
query (BM25F, :mod:`blendsearch.backends.bm25f`; the integer field weights as ``title^2``; Elasticsearch
>= 7.13, OpenSearch >= 3.2) with the clause weight as ``boost``, summed in a ``bool.should``; ties break
on the id like MemoryBackend's sort; filters are :func:`blendsearch.filters.matches` over the
``kw``/``num``/``val`` fields of :mod:`blendsearch.mappings.layout`.

Lucene's combined field takes a term's document frequency as the largest over the fields (not the
documents holding it in any field), counts only documents with the fields, and stores lengths lossily:
scores differ slightly from MemoryBackend's exact ones, ranks rarely.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blendsearch.backends.base import LexicalRequest
from blendsearch.backends.bm25f import field_weights
from blendsearch.filters import RangeFilter, TermFilter, TermsFilter
from blendsearch.mappings.layout import (
    KEYWORD_PREFIX,
    NUMBER_PREFIX,
    VALUE_PREFIX,
    field_key,
)
from blendsearch.text import stem, words

__all__ = ["filter_clauses", "lexical_query", "lexical_search_body", "query_text"]


def query_text(text: str) -> str:
    """A clause's words, folded, with repeated stems dropped.

    MemoryBackend scores each distinct term of a clause once (``set(analyze(text))``); Lucene would score
    "shoe shoes" twice, so the duplicate is removed before sending.
    """
    seen: set[str] = set()
    kept: list[str] = []
    for word in words(text):
        key = stem(word)
        if key not in seen:
            seen.add(key)
            kept.append(word)
    return " ".join(kept)


def _term_clause(field_name: str, values: Sequence[str | int | float | bool]) -> dict[str, Any]:
    """Equality as blendsearch.filters._equal: text compares casefolded, numbers/booleans by value."""
    key = field_key(field_name)
    texts = sorted({str(v).casefold() for v in values})
    numbers = sorted({float(v) for v in values if not isinstance(v, str)})
    text_clause = (
        {"term": {f"{KEYWORD_PREFIX}.{key}": texts[0]}}
        if len(texts) == 1
        else {"terms": {f"{KEYWORD_PREFIX}.{key}": texts}}
    )
    if not numbers:
        return text_clause
    number_clause = (
        {"term": {f"{VALUE_PREFIX}.{key}": numbers[0]}}
        if len(numbers) == 1
        else {"terms": {f"{VALUE_PREFIX}.{key}": numbers}}
    )
    return {"bool": {"should": [text_clause, number_clause], "minimum_should_match": 1}}


def filter_clauses(filters: Sequence[TermFilter | TermsFilter | RangeFilter]) -> list[dict[str, Any]]:
    """Filters as ``bool.filter`` clauses (all must hold), matching :func:`blendsearch.filters.matches`."""
    clauses: list[dict[str, Any]] = []
    for flt in filters:
        if isinstance(flt, TermFilter):
            clauses.append(_term_clause(flt.field, [flt.value]))
        elif isinstance(flt, TermsFilter):
            clauses.append(_term_clause(flt.field, flt.values))
        else:
            target = f"{NUMBER_PREFIX}.{field_key(flt.field)}"
            bounds = {
                k: v for k, v in flt.model_dump(include={"gte", "gt", "lte", "lt"}).items() if v is not None
            }
            clauses.append({"range": {target: bounds}} if bounds else {"exists": {"field": target}})
    return clauses


def lexical_query(request: LexicalRequest) -> dict[str, Any] | None:
    """The BM25F query of a lexical request; None when no clause has a searchable word."""
    weights = field_weights(request.fields)
    fields = [f"{name}^{weight}" for name, weight in weights.items()]
    should = []
    for clause in request.clauses:
        text = query_text(clause.text)
        if text and fields and clause.weight > 0:
            should.append({"combined_fields": {"query": text, "fields": fields, "boost": clause.weight}})
    if not should:
        return None
    query: dict[str, Any] = {"should": should, "minimum_should_match": 1}
    if request.filters:
        query["filter"] = filter_clauses(request.filters)
    return {"bool": query}


def lexical_search_body(request: LexicalRequest, query: dict[str, Any]) -> dict[str, Any]:
    """A search body for one lexical channel: ids and scores only, best first, ties by id."""
    return {
        "size": request.k,
        "_source": False,
        "track_scores": True,
        "sort": [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}],
        "query": query,
    }
