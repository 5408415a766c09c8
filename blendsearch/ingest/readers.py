"""Catalogue readers: JSON Lines, CSV/TSV and Parquet, streamed row by row, mapped to :class:`Document`.

One reader for every format, chosen by the file's suffix (a trailing ``.gz`` is read through gzip):

========================================  ==========================================
``.jsonl`` ``.ndjson`` ``.json``          one JSON object per line (a ``.json`` file that
                                          starts with ``[`` is read as one array)
``.csv`` ``.tsv``                         header row, comma / tab separated, UTF-8
``.parquet``                              read in record batches (pyarrow)
========================================  ==========================================

A row that cannot be used (missing id, a field of the wrong type, a malformed JSON line) never stops
the file: it comes out as a :class:`RawItem` with ``error`` set, so ingest can write it to the rejects
file and ``rows in == indexed + rejected`` holds. Only a file that cannot be read at all raises
:class:`~blendsearch.exceptions.CatalogError`.

Images by convention: when a row has no image value (or the mapping has no image column) and an
``images.zip`` archive lies beside the catalogue, the image reference defaults to ``"{id}.jpg"`` (a
member of that archive); with an ``images/`` folder instead it defaults to ``"images/{id}.jpg"``
(relative to the catalogue); with ``FieldMapping.image_root`` set, to ``"{id}.jpg"`` inside that root.
Without any of those, such a row simply has no image.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import gzip
import io
import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from blendsearch._types import AttributeValue, PathInput
from blendsearch.config import FieldMapping
from blendsearch.documents import Document
from blendsearch.exceptions import CatalogError, ItemError

__all__ = [
    "FORMATS",
    "RawItem",
    "catalog_format",
    "count_rows",
    "default_image_template",
    "map_record",
    "read_catalog",
]

#: Suffix (lower case, without ``.gz``) -> reader kind.
FORMATS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
}

#: CSV cell texts that mean "no value" (pandas writes NaN for missing numbers).
_CSV_MISSING = frozenset({"", "nan", "NaN", "NAN", "null", "NULL"})

_PARQUET_BATCH_ROWS = 1024


class RawItem(BaseModel):
    """One catalogue row as read: either mapped to a document, or with the reason it cannot be."""

    #: 1-based position: the line number in JSON Lines, the data row number (header not counted) in CSV
    #: and Parquet.
    position: int = Field(ge=1)
    #: The row as read, kept for the rejects file.
    raw: dict[str, Any]
    document: Document | None = None
    error: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> RawItem:
        if (self.document is None) == (self.error is None):
            raise ValueError("a RawItem has exactly one of document and error")
        return self


# -- format detection ------------------------------------------------------------------------------


def _suffixes(path: Path) -> tuple[str, bool]:
    """(format suffix, gzipped) of a path such as ``items.jsonl.gz``."""
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), gzipped


def catalog_format(path: PathInput) -> str:
    """The reader kind (``jsonl``, ``csv`` or ``parquet``) of a catalogue path, from its suffix."""
    suffix, gzipped = _suffixes(Path(path))
    kind = FORMATS.get(suffix)
    if kind is None or (gzipped and kind == "parquet"):
        valid = ", ".join(sorted(FORMATS))
        shown = suffix or "(none)"
        raise CatalogError(f"cannot read {path}: unknown catalogue format {shown!r}; valid: {valid}")
    return kind


def _open_text(path: Path) -> io.TextIOBase:
    _, gzipped = _suffixes(path)
    if gzipped:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - the caller closes it


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise CatalogError(f"catalogue file {path} does not exist")
    if not path.is_file():
        raise CatalogError(f"catalogue path {path} is not a file")


# -- mapping a row to a Document ---------------------------------------------------------------------


def _lookup(raw: Mapping[str, Any], key: str) -> Any:
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


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", tuple: "a list", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _text(field: str, value: Any) -> str:
    """A text field (title, description): text or a number; anything else is a bad type."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        raise ItemError(f"{field}: expected text, got {_type_name(value)}")
    return _number_text(value)


def _number_text(value: int | float | decimal.Decimal) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(value)


def _id(raw: Mapping[str, Any], column: str) -> str:
    value = _lookup(raw, column)
    if _is_missing(value):
        raise ItemError("missing id")
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        raise ItemError(f"id ({column}): expected text or an integer, got {_type_name(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ItemError(f"id ({column}): not a finite number")
    return _number_text(value)


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
        number = float(value)
    else:
        raise ItemError(f"{field}: expected a number, got {_type_name(value)}")
    if not math.isfinite(number):
        raise ItemError(f"{field}: not a finite number: {value!r}")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _scalar_attribute(field: str, value: Any) -> str | int | float | bool | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    raise ItemError(f"{field}: expected text, a number or a list of texts, got {_type_name(value)}")


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
        value = _lookup(raw, mapping.title)
        title = "" if _is_missing(value) else _text(f"title ({mapping.title})", value)
    parts: list[str] = []
    for column in mapping.description:
        value = _lookup(raw, column)
        if not _is_missing(value):
            part = _text(f"description ({column})", value)
            if part:
                parts.append(part)
    image: str | None = None
    if mapping.image:
        value = _lookup(raw, mapping.image)
        if not _is_missing(value):
            if not isinstance(value, str):
                raise ItemError(f"image ({mapping.image}): expected a path or URL, got {_type_name(value)}")
            image = value.strip()
    if image is None and image_template is not None:
        image = image_template.format(id=doc_id)

    numeric = set(mapping.numeric)
    if mapping.attributes is None:
        used = {mapping.id, mapping.title, mapping.image, *mapping.description} - {None}
        columns = {k: v for k, v in _flatten(raw).items() if k not in used}
    else:
        columns = {column: _lookup(raw, column) for column in mapping.attributes}
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


# -- readers ------------------------------------------------------------------------------------------


def _item(position: int, raw: dict[str, Any], mapping: FieldMapping, template: str | None) -> RawItem:
    try:
        return RawItem(position=position, raw=raw, document=map_record(raw, mapping, template))
    except ItemError as exc:
        return RawItem(position=position, raw=raw, error=str(exc))


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any], str | None]]:
    with _open_text(path) as handle:
        first = handle.read(1)
        while first and first.isspace():
            first = handle.read(1)
        if first == "[":  # a plain JSON array (not streamed: such files are small in practice)
            handle.seek(0)
            try:
                rows = json.load(handle)
            except json.JSONDecodeError as exc:
                raise CatalogError(f"cannot read {path}: invalid JSON array: {exc}") from exc
            for position, row in enumerate(rows, start=1):
                if isinstance(row, dict):
                    yield position, row, None
                else:
                    yield position, {"value": row}, f"element is {_type_name(row)}, not a JSON object"
            return
        handle.seek(0)
        for position, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            as_read = {"line": line.rstrip("\r\n")[:10_000]}
            try:
                row = json.loads(line.strip())
            except json.JSONDecodeError as exc:
                yield position, as_read, f"invalid JSON: {exc.msg} (column {exc.colno})"
                continue
            if isinstance(row, dict):
                yield position, row, None
            else:
                yield position, as_read, f"line is {_type_name(row)}, not a JSON object"


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any], str | None]]:
    suffix, _ = _suffixes(path)
    delimiter = "\t" if suffix == ".tsv" else ","
    with _open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise CatalogError(f"cannot read {path}: {exc}") from exc
        if not header:
            return
        header = [h.strip() for h in header]
        position = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                position += 1
                yield position, {}, f"malformed CSV row: {exc}"
                continue
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            position += 1
            raw = {
                name: (None if cell.strip() in _CSV_MISSING else cell)
                for name, cell in zip(header, cells, strict=False)
            }
            if len(cells) != len(header):
                raw["_cells"] = cells
                yield position, raw, f"row has {len(cells)} fields, the header has {len(header)}"
            else:
                yield position, raw, None


def _parquet_rows(path: Path) -> Iterator[tuple[int, dict[str, Any], str | None]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from exc
    position = 0
    try:
        for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS):
            for row in batch.to_pylist():
                position += 1
                yield position, row, None
    except (pa.ArrowException, OSError) as exc:
        raise CatalogError(f"cannot read {path} after row {position}: {exc}") from exc
    finally:
        parquet.close()


_READERS = {"jsonl": _jsonl_rows, "csv": _csv_rows, "parquet": _parquet_rows}


def default_image_template(path: PathInput, mapping: FieldMapping) -> str | None:
    """The image reference of a row without one, by the files beside the catalogue (module docstring)."""
    if mapping.image_root:
        return "{id}.jpg"
    folder = Path(path).parent
    if (folder / "images.zip").is_file():
        return "{id}.jpg"
    if (folder / "images").is_dir():
        return "images/{id}.jpg"
    return None


def read_catalog(path: PathInput, mapping: FieldMapping) -> Iterator[RawItem]:
    """Stream a catalogue file as :class:`RawItem` s, one per row, bad rows included (with ``error``).

    The file is opened (and a bad path or format raises :class:`CatalogError`) when this is called,
    not at the first ``next``.
    """
    file = Path(path)
    kind = catalog_format(file)
    _check_readable(file)
    template = default_image_template(file, mapping)
    rows = _READERS[kind](file)
    return _items(file, rows, mapping, template)


_Rows = Iterator[tuple[int, dict[str, Any], str | None]]


def _items(file: Path, rows: _Rows, mapping: FieldMapping, template: str | None) -> Iterator[RawItem]:
    try:
        for position, raw, error in rows:
            if error is not None:
                yield RawItem(position=position, raw=raw, error=error)
            else:
                yield _item(position, raw, mapping, template)
    except UnicodeDecodeError as exc:
        raise CatalogError(f"cannot read {file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise CatalogError(f"cannot read {file}: {exc}") from exc


def count_rows(path: PathInput) -> int | None:
    """The number of rows, for progress totals: exact for Parquet (metadata) and CSV, non-blank lines for
    JSON Lines; None where it cannot be told cheaply (unreadable file, JSON array, unknown format)."""
    file = Path(path)
    try:
        kind = catalog_format(file)
        if kind == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(file).metadata.num_rows)
        if kind == "csv":
            suffix, _ = _suffixes(file)
            with _open_text(file) as handle:
                reader = csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ",")
                rows = sum(1 for cells in reader if cells and (len(cells) > 1 or cells[0].strip()))
            return max(rows - 1, 0)
        return _count_jsonl(file)
    except Exception:  # noqa: BLE001 - unreadable, bad format, pyarrow errors: a progress total is optional
        return None


def _count_jsonl(file: Path) -> int | None:
    _, gzipped = _suffixes(file)
    opener = gzip.open if gzipped else open
    count = 0
    with opener(file, "rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf").lstrip()
        if head.startswith(b"["):
            return None
        handle.seek(0)
        for line in handle:
            if line.strip():
                count += 1
    return count
