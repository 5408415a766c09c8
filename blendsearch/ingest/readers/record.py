"""Row validation: one catalogue row (a dict, whatever the format) checked field by field and mapped to a
:class:`~blendsearch.documents.Document`, or the :class:`~blendsearch.exceptions.ItemError` naming the bad
field; plus the row's id and values as JSON for the rejects file.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from blendsearch._types import AttributeValue
from blendsearch.config import FieldMapping
from blendsearch.documents import Document
from blendsearch.exceptions import ItemError
from blendsearch.ingest.readers.rows import MAX_ID_CHARS, MAX_NESTING, RawItem, type_name

__all__ = ["jsonable", "lookup", "map_record", "row_id"]


def lookup(raw: Mapping[str, Any], key: str) -> Any:
    """``raw[key]``, or a dotted path into nested objects (``"price.amount"``); None when absent."""
    if key in raw:
        return raw[key]
    if "." not in key:
        return None
    value: Any = raw
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return isinstance(value, list | tuple) and not value


def _text(field: str, value: Any) -> str:
    """A text field (title, description): text or a number; anything else is a bad type."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        raise ItemError(f"{field}: expected text, got {type_name(value)}")
    return _number_text(value)


def _number_text(value: int | float | decimal.Decimal) -> str:
    """A number as text, every digit kept: integral values without a fraction, never through a float."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(int(value)) if value == value.to_integral_value() else str(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _id(raw: Mapping[str, Any], column: str) -> str:
    value = lookup(raw, column)
    if _is_missing(value):
        raise ItemError("missing id")
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        raise ItemError(f"id ({column}): expected text or an integer, got {type_name(value)}")
    elif not (value.is_finite() if isinstance(value, decimal.Decimal) else math.isfinite(value)):
        raise ItemError(f"id ({column}): not a finite number")
    else:
        text = _number_text(value)
    if len(text) > MAX_ID_CHARS:
        raise ItemError(f"id ({column}): {len(text)} characters, more than {MAX_ID_CHARS}")
    return text


def _number(field: str, value: Any) -> int | float:
    """A numeric attribute: a number, or text that parses as one; int when integral."""
    if isinstance(value, bool):
        raise ItemError(f"{field}: expected a number, got a boolean")
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError as exc:
            raise ItemError(f"{field}: not a number: {value.strip()[:40]!r}") from exc
    elif isinstance(value, int | float | decimal.Decimal):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    else:
        raise ItemError(f"{field}: expected a number, got {type_name(value)}")
    if not math.isfinite(number):
        raise ItemError(f"{field}: not a finite number: {repr(value)[:40]}")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


_INT64 = 2**63


def _scalar_attribute(field: str, value: Any) -> str | int | float | bool | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):  # beyond 64 bits no store keeps it as a number: keep every digit as text
        return value if -_INT64 <= value < _INT64 else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ItemError(f"{field}: not a finite number: {value!r}")
        return value
    if isinstance(value, decimal.Decimal):
        if not value.is_finite() or not math.isfinite(float(value)):
            raise ItemError(f"{field}: not a finite number: {str(value)!r}")
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    raise ItemError(f"{field}: expected text, a number or a list of texts, got {type_name(value)}")


def _attribute(field: str, value: Any) -> AttributeValue | None:
    """An attribute value in the stored form; None means "absent" (the attribute is dropped)."""
    if isinstance(value, list | tuple):
        items = [_scalar_attribute(field, v) for v in value if not _is_missing(v)]
        texts = [str(v) for v in items if v is not None]
        return texts or None
    return _scalar_attribute(field, value)


def _flatten(raw: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys, so ``{"price": {"amount": 3}}`` gives attribute ``price.amount``."""
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def map_record(raw: Mapping[str, Any], mapping: FieldMapping, image_template: str | None = None) -> Document:
    """Map one catalogue row to a :class:`Document`; raises :class:`ItemError` naming the bad field.

    ``image_template`` (e.g. ``"{id}.jpg"``) is the image reference of a row without an image value;
    :func:`read_catalog` sets it from the files beside the catalogue (see the module docstring).
    """
    doc_id = _id(raw, mapping.id)
    title = ""
    if mapping.title:
        value = lookup(raw, mapping.title)
        title = "" if _is_missing(value) else _text(f"title ({mapping.title})", value)
    parts: list[str] = []
    for column in mapping.description:
        value = lookup(raw, column)
        if not _is_missing(value):
            part = _text(f"description ({column})", value)
            if part:
                parts.append(part)
    image: str | None = None
    if mapping.image:
        value = lookup(raw, mapping.image)
        if not _is_missing(value):
            if not isinstance(value, str):
                raise ItemError(f"image ({mapping.image}): expected a path or URL, got {type_name(value)}")
            image = value.strip()
    if image is None and image_template is not None:
        image = image_template.format(id=doc_id)

    numeric = set(mapping.numeric)
    if mapping.attributes is None:
        used = {mapping.id, mapping.title, mapping.image, *mapping.description} - {None}
        columns = {k: v for k, v in _flatten(raw).items() if k not in used}
    else:
        columns = {column: lookup(raw, column) for column in mapping.attributes}
    attributes: dict[str, AttributeValue] = {}
    for column, value in columns.items():
        if _is_missing(value):
            continue
        parsed = _number(column, value) if column in numeric else _attribute(column, value)
        if parsed is not None:
            attributes[column] = parsed
    try:
        description = ". ".join(parts)
        return Document(id=doc_id, title=title, description=description, attributes=attributes, image=image)
    except ValidationError as exc:  # defensive: every field was checked above
        raise ItemError(f"invalid item: {exc.errors()[0]['msg']}") from exc


def row_id(item: RawItem, mapping: FieldMapping) -> str | None:
    """The row's id value as text for the rejects file, whatever its type: text as is, anything else as
    its JSON text (``5`` -> ``"5"``, ``true`` -> ``"true"``, ``["x"]`` -> ``'["x"]'``); None if absent."""
    if not item.parsed:
        return None
    value = lookup(item.raw, mapping.id)
    if value is None or isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):  # a circular or absurdly deep value: any text will do
        return str(value)[:MAX_ID_CHARS]


def jsonable(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON data, losing nothing a reader can produce: exact ints, decimals as text,
    bytes as base64, dates in ISO form, NaN/infinity as text; nesting cut at :data:`MAX_NESTING` + 1."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else json.dumps(value)  # "NaN", "Infinity" as text
    if depth > MAX_NESTING:
        return "(nested too deeply)"
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        import base64

        return "base64:" + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)
