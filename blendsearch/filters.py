"""Attribute filters (term, terms, range), parsed from ``key=value`` text and applied in every channel."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from blendsearch._types import AttributeValue
from blendsearch.exceptions import ConfigError, QueryError

__all__ = [
    "Filter",
    "RangeFilter",
    "TermFilter",
    "TermsFilter",
    "check_filters",
    "matches",
    "parse_filter",
]

#: Fields that are filterable besides the catalogue's attributes (generated enrichment, multi-valued).
GENERATED_FIELDS = ("colours", "tags")


class TermFilter(BaseModel):
    """The field equals ``value`` (for multi-valued fields: contains it). Case-insensitive for text."""

    kind: Literal["term"] = "term"
    field: str
    value: str | int | float | bool


class TermsFilter(BaseModel):
    """The field equals any of ``values``."""

    kind: Literal["terms"] = "terms"
    field: str
    values: list[str | int | float | bool] = Field(min_length=1)


class RangeFilter(BaseModel):
    """The numeric field lies in the range; bounds left as None are open."""

    kind: Literal["range"] = "range"
    field: str
    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None

    @model_validator(mode="after")
    def _no_nan(self) -> RangeFilter:
        for name in ("gte", "gt", "lte", "lt"):
            bound = getattr(self, name)
            if bound is not None and math.isnan(bound):
                raise ValueError(
                    f"range filter on {self.field!r}: bound {name} is NaN; a bound must be a number"
                )
        return self


Filter = Annotated[TermFilter | TermsFilter | RangeFilter, Field(discriminator="kind")]

_RANGE = re.compile(r"^(?P<field>[\w.\-]+)\s*(?P<op>>=|<=|>|<)\s*(?P<value>.+)$")


def parse_filter(expression: str) -> TermFilter | TermsFilter | RangeFilter:
    """Parse ``key=value``, ``key=v1,v2`` (any of), ``key>=n``, ``key<n`` ... into a filter."""
    match = _RANGE.match(expression.strip())
    if match and "=" not in expression.split(match.group("op"))[0]:
        try:
            bound = float(match.group("value"))
        except ValueError as exc:
            raise ConfigError(
                f"range filter {expression!r} needs a number after {match.group('op')}"
            ) from exc
        if math.isnan(bound):
            raise ConfigError(f"range filter {expression!r}: the bound is NaN; a bound must be a number")
        key = {">=": "gte", ">": "gt", "<=": "lte", "<": "lt"}[match.group("op")]
        return RangeFilter(field=match.group("field"), **{key: bound})
    field, sep, value = expression.partition("=")
    if not sep or not field.strip() or not value.strip():
        raise ConfigError(f"filter {expression!r} is not of the form key=value, key=v1,v2 or key>=number")
    values = [v.strip() for v in value.split(",") if v.strip()]
    if len(values) == 1:
        return TermFilter(field=field.strip(), value=values[0])
    return TermsFilter(field=field.strip(), values=values)


def _as_list(value: AttributeValue | None) -> list[AttributeValue]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _equal(stored: AttributeValue, wanted: str | int | float | bool) -> bool:
    if isinstance(stored, str) or isinstance(wanted, str):
        return str(stored).casefold() == str(wanted).casefold()
    return stored == wanted


def matches(
    fields: Mapping[str, AttributeValue | None], filters: list[TermFilter | TermsFilter | RangeFilter]
) -> bool:
    """Reference semantics of every filter (all must hold); backends that filter natively must agree."""
    for flt in filters:
        values = _as_list(fields.get(flt.field))
        if isinstance(flt, TermFilter):
            ok = any(_equal(v, flt.value) for v in values)
        elif isinstance(flt, TermsFilter):
            ok = any(_equal(v, w) for v in values for w in flt.values)
        else:
            ok = False
            for v in values:
                try:
                    x = float(v)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    continue
                if (
                    (flt.gte is None or x >= flt.gte)
                    and (flt.gt is None or x > flt.gt)
                    and (flt.lte is None or x <= flt.lte)
                    and (flt.lt is None or x < flt.lt)
                ):
                    ok = True
                    break
        if not ok:
            return False
    return True


def check_filters(
    filters: Sequence[TermFilter | TermsFilter | RangeFilter],
    kinds: Mapping[str, bool],
    declared: Collection[str] = (),
    declared_numeric: Collection[str] = (),
) -> list[str]:
    """Check filters against the index's fields; returns notices, raises QueryError for a filter that can
    never match because of a mistake.

    ``kinds`` maps each field some stored document has to whether some value of it is a number.
    ``declared`` / ``declared_numeric`` are fields the configuration names (attributes, numeric): a filter
    on one that merely has no values yet gets a notice (0 hits, said why) instead of an error.
    """
    notices: list[str] = []
    known = ", ".join(sorted(kinds)) or "none: the index is empty"
    numeric = ", ".join(sorted(k for k, is_num in kinds.items() if is_num)) or "none"
    for flt in filters:
        name = flt.field
        if name not in kinds:
            if name in declared or name in declared_numeric:
                notices.append(f"filter on {name!r}: no document has a value for it yet, so nothing matches")
                continue
            raise QueryError(f"filter on unknown field {name!r}; fields in this index: {known}")
        if isinstance(flt, RangeFilter) and not kinds[name]:
            if name in declared_numeric:
                notices.append(f"range filter on {name!r}: no document has a number in it yet")
                continue
            raise QueryError(
                f"range filter on {name!r}, which holds no numbers in this index; numeric fields: {numeric}"
            )
    return notices
