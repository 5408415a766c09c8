"""Filters as indexed terms in the tantivy index, so a filtered BM25 search is a term/range query.

A filter used to reach tantivy as the set of every allowed document key (a ``term_set_query`` of ~70k
keys for a common product kind at 1M products). Each document now carries its ``attrs`` rows (the
SQLite filter path's, :func:`blendsearch.backends.embedded.store.attribute_rows`) as terms of one raw
field, and its numbers in one float fast field per numeric attribute key, and a filter becomes the
query of the same SQL condition (:func:`blendsearch.backends.embedded.store.filter_sql`):

- ``t`` + key + ``value_text`` for every row: a text value wanted matches ``value_text`` (case-folded);
- ``s`` + key + ``value_text`` for rows of text values: a number or bool wanted matches a text value
  that reads the same (``str(wanted).casefold()``);
- ``n`` + key + ``repr(float(value_num))`` for rows of non-text values: a number or bool wanted matches
  a non-text value equal to it (1 == 1.0 == True, as in SQLite);
- ``num_<i>`` (a float fast field per key holding numbers at the last rebuild): range filters, over
  every value ``float()`` reads, text or not.

Numbers are compared as float64 (SQLite compares a 64-bit integer with a float exactly: the two differ
only for integers above 2**53). A range filter on a key that had no numbers at the last rebuild cannot
be answered by the index and the caller falls back to the allowed key set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from blendsearch.filters import RangeFilter, TermFilter, TermsFilter

__all__ = ["AttrRow", "FILTER_FIELD", "add_filter_terms", "filter_query", "numeric_field"]

#: The raw (untokenized) field holding a document's filter terms.
FILTER_FIELD = "filter_terms"
_SEP = "\x1f"

#: (key, value_text, value_num, is_text): an ``attrs`` row without its doc_key.
AttrRow = tuple[str, str, "int | float | None", int]


def numeric_field(position: int) -> str:
    """The float fast field of the ``position``-th numeric key (keys are recorded in the marker)."""
    return f"num_{position}"


def _number(value: float) -> float:
    return float(value) + 0.0  # -0.0 == 0.0 in SQLite; tantivy's float order puts -0.0 below 0.0


def _term(family: str, key: str, value: str) -> str:
    return f"{family}{_SEP}{key}{_SEP}{value}"


def add_filter_terms(doc: Any, attrs: Sequence[AttrRow], numeric: Mapping[str, int]) -> None:
    """Add one document's filter terms and numbers (``numeric``: key -> position) to ``doc``."""
    for key, text, number, is_text in attrs:
        doc.add_text(FILTER_FIELD, _term("t", key, text))
        if is_text:
            doc.add_text(FILTER_FIELD, _term("s", key, text))
        if number is None:
            continue
        value = _number(number)
        if math.isnan(value):
            continue
        if not is_text:
            doc.add_text(FILTER_FIELD, _term("n", key, repr(value)))
        position = numeric.get(key)
        if position is not None:
            doc.add_float(numeric_field(position), value)


def _terms_of(flt: TermFilter | TermsFilter) -> list[str]:
    wanted = [flt.value] if isinstance(flt, TermFilter) else list(flt.values)
    terms: list[str] = []
    for value in wanted:
        if isinstance(value, str):
            terms.append(_term("t", flt.field, value.casefold()))
            continue
        terms.append(_term("s", flt.field, str(value).casefold()))
        number = _number(int(value) if isinstance(value, bool) else value)
        if not math.isnan(number):
            terms.append(_term("n", flt.field, repr(number)))
    return list(dict.fromkeys(terms))


def _range_query(tantivy: Any, schema: Any, field: str, flt: RangeFilter) -> Any:
    lower, include_lower = -math.inf, True
    for bound, inclusive in ((flt.gte, True), (flt.gt, False)):
        if bound is not None and (bound > lower or (bound == lower and not inclusive)):
            lower, include_lower = _number(bound), inclusive
    upper, include_upper = math.inf, True
    for bound, inclusive in ((flt.lte, True), (flt.lt, False)):
        if bound is not None and (bound < upper or (bound == upper and not inclusive)):
            upper, include_upper = _number(bound), inclusive
    if lower > upper or (lower == upper and not (include_lower and include_upper)):
        return tantivy.Query.empty_query()
    return tantivy.Query.range_query(
        schema,
        field,
        tantivy.FieldType.Float,
        lower,
        upper,
        include_lower=include_lower,
        include_upper=include_upper,
    )


def filter_query(
    tantivy: Any,
    schema: Any,
    filters: Sequence[TermFilter | TermsFilter | RangeFilter],
    numeric: Mapping[str, int],
) -> Any | None:
    """The query of documents passing every filter, scoring 0; None when a range filter's key has no
    numeric field in this index (the caller then filters by the allowed key set)."""
    must = tantivy.Occur.Must
    parts = []
    for flt in filters:
        if isinstance(flt, RangeFilter):
            position = numeric.get(flt.field)
            if position is None:
                return None
            parts.append((must, _range_query(tantivy, schema, numeric_field(position), flt)))
        else:
            parts.append((must, tantivy.Query.term_set_query(schema, FILTER_FIELD, _terms_of(flt))))
    if not parts:
        return None
    return tantivy.Query.const_score_query(tantivy.Query.boolean_query(parts), 0.0)
