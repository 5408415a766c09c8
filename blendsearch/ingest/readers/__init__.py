"""Catalogue readers: JSON Lines, CSV/TSV and Parquet, streamed row by row, mapped to :class:`Document`.

One reader per format, chosen by the file's suffix (a trailing ``.gz`` is read through gzip):

========================================  ==========================================
``.jsonl`` ``.ndjson`` ``.json``          one JSON object per line (a ``.json`` file that
                                          starts with ``[`` is read as one array)
``.csv`` ``.tsv``                         header row, comma / tab separated, UTF-8
``.parquet``                              read in record batches (pyarrow)
========================================  ==========================================

A row that cannot be used never stops the file: it comes out as a :class:`RawItem` with ``error`` set,
so ingest can write it to the rejects file and ``rows in == indexed + rejected`` holds. That covers
missing ids and fields of the wrong type, and, in JSON Lines and CSV, lines that are not UTF-8 (the
reject names the byte offset of the first bad byte in the file), invalid JSON, values nested deeper
than :data:`MAX_NESTING`, an object with the same key twice, and JSON lines longer than
:data:`MAX_ROW_BYTES` (CSV fields are capped at the same size). Reading goes on with the next line.
Only a file that cannot be read at all (missing, unknown format, not Parquet, a JSON array file that
does not parse) raises :class:`~blendsearch.exceptions.CatalogError`.

Ids are kept exactly: JSON integers are parsed as Python ints, so ``9007199254740993`` stays that id
(nothing goes through a float), and integral floats / decimals become their integer text.
Blank lines are not rows; a UTF-8 byte order mark is dropped wherever a line starts with one, and
CRLF line ends are read like LF.

Images by convention: when a row has no image value (or the mapping has no image column) and an
``images.zip`` archive lies beside the catalogue, the image reference defaults to ``"{id}.jpg"`` (a
member of that archive); with an ``images/`` folder instead it defaults to ``"images/{id}.jpg"``
(relative to the catalogue); with ``FieldMapping.image_root`` set, to ``"{id}.jpg"`` inside that root.
Without any of those, such a row simply has no image.

Modules: ``rows`` (formats, limits, row types, the byte-level line reader), ``record`` (one row checked and
mapped to a Document), ``jsonl``, ``delimited`` (CSV/TSV) and ``parquet`` (the format readers), ``catalog``
(a file as RawItems, and row counts).
"""

from blendsearch.ingest.readers.catalog import count_rows, default_image_template, read_catalog
from blendsearch.ingest.readers.record import jsonable, map_record, row_id
from blendsearch.ingest.readers.rows import (
    FORMATS,
    MAX_ID_CHARS,
    MAX_NESTING,
    MAX_ROW_BYTES,
    RawItem,
    catalog_format,
)

__all__ = [
    "FORMATS",
    "MAX_ID_CHARS",
    "MAX_NESTING",
    "MAX_ROW_BYTES",
    "RawItem",
    "catalog_format",
    "count_rows",
    "default_image_template",
    "map_record",
    "jsonable",
    "read_catalog",
    "row_id",
]
