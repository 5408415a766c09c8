"""Hostile catalogues, each with the exact outcome an ingest must give it.

Every :class:`HostileCase` is a catalogue (the bytes of a file, or a Parquet table) and what ingesting
it must give: the counts, the ids indexed, and each reject as (position, id, stage, reason, line,
offset). Byte offsets are found in the bytes themselves (``bytes.index``), not by the code under test.
Catalogues use field mapping ``numeric=["price"], description=["description"]`` and no model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blendsearch.documents import MAX_TITLE_CHARS
from blendsearch.ingest.readers import MAX_NESTING, MAX_ROW_BYTES

__all__ = ["CASES", "HostileCase", "Reject", "parquet_odd_types"]

#: (position, id, stage, reason, line, offset), as in the rejects file.
Reject = tuple[int, str | None, str, str, int | None, int | None]


@dataclass(frozen=True)
class HostileCase:
    name: str
    filename: str
    content: bytes
    read: int
    indexed: int
    rejects: list[Reject]
    #: Ids that must be in the index afterwards (None: not checked).
    ids: list[str] | None = None
    truncated: int = 0
    #: Extra checks on the stored documents by id: id -> {field: value}.
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    def write(self, folder: Path) -> Path:
        path = folder / self.filename
        path.write_bytes(self.content)
        return path


def _lines(*rows: object, end: bytes = b"\n") -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + end for r in rows)


def _offset_of_line(content: bytes, number: int) -> int:
    """Byte offset where 1-based line ``number`` starts."""
    offset = 0
    for _ in range(number - 1):
        offset = content.index(b"\n", offset) + 1
    return offset


def _non_string_ids() -> HostileCase:
    content = _lines(
        {"id": 5, "price": "abc"},
        {"id": True, "title": "yes"},
        {"id": ["x"], "title": "list"},
        {"id": {"a": 1}, "title": "object"},
        {"id": 7, "title": "seven"},
        {"id": 3.0, "title": "float three"},
        {"id": 2.5, "title": "two and a half"},
        b'{"id": NaN, "title": "not a number"}',
    )
    return HostileCase(
        "non_string_ids",
        "ids.jsonl",
        content,
        read=8,
        indexed=3,
        ids=["7", "3", "2.5"],
        rejects=[
            (1, "5", "read", "price: not a number: 'abc'", 1, None),
            (2, "true", "read", "id (id): expected text or an integer, got a boolean", 2, None),
            (3, '["x"]', "read", "id (id): expected text or an integer, got a list", 3, None),
            (4, '{"a": 1}', "read", "id (id): expected text or an integer, got an object", 4, None),
            (8, "NaN", "read", "missing id", 8, None),
        ],
    )


def _non_utf8_in_the_middle() -> HostileCase:
    good = [{"id": f"g{i}", "title": f"good item {i}", "price": i} for i in range(200)]
    bad = b'{"id": "bad", "title": "caf\xe9 cr\xe8me"}'
    content = _lines(*good[:100], bad, *good[100:])
    at = content.index(b"\xe9")
    return HostileCase(
        "non_utf8_line_101_of_201",
        "latin1.jsonl",
        content,
        read=201,
        indexed=200,
        ids=[f"g{i}" for i in range(200)],
        rejects=[
            (
                101,
                None,
                "read",
                f"not UTF-8 text: byte 0xe9 at byte offset {at}",
                101,
                at,
            )
        ],
    )


def _nested(opening: str, closing: str, depth: int, key: str = "v") -> str:
    inner = opening * depth + closing * depth
    return f'{{"id": "{key}", "title": "nested {key}", "v": {inner}}}'


def _deeply_nested() -> HostileCase:
    objects_1000 = '{"id": "o1000", "title": "t", "v": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}"
    rows = [
        _nested("[", "]", 300, "l300"),
        objects_1000,
        _nested("[", "]", 100_000, "l100k"),
        # level 1 is the row itself: 63 more levels of objects is the most allowed, and is indexed
        '{"id": "o64", "title": "at the limit", "v": '
        + '{"a": ' * (MAX_NESTING - 1)
        + "1"
        + "}" * MAX_NESTING,
        '{"id": "o65", "title": "one over", "v": ' + '{"a": ' * MAX_NESTING + "1" + "}" * (MAX_NESTING + 1),
        {"id": "ok", "title": "plain"},
    ]
    content = _lines(*(r.encode() if isinstance(r, str) else r for r in rows))
    reason = f"nested more than {MAX_NESTING} levels deep"
    rejects: list[Reject] = []
    for line, opener in ((1, b"["), (2, b"{"), (3, b"["), (5, b"{")):
        start = _offset_of_line(content, line)
        # the bracket opening level MAX_NESTING + 1: the row's own "{" is level 1
        at = start
        for _ in range(MAX_NESTING + 1 if opener == b"{" else MAX_NESTING):
            at = content.index(opener, at) + 1
        rejects.append((line, None, "read", reason, line, at - 1))
    return HostileCase(
        "deeply_nested",
        "nested.jsonl",
        content,
        read=6,
        indexed=2,
        ids=["o64", "ok"],
        rejects=rejects,
    )


def _big_ids() -> HostileCase:
    content = _lines(
        b'{"id": 9007199254740993, "title": "two to the 53 plus one"}',
        b'{"id": 9007199254740992, "title": "two to the 53"}',
        b'{"id": 18446744073709551617, "title": "two to the 64 plus one"}',
        b'{"id": -9007199254740993, "title": "negative"}',
        b'{"id": "x", "title": "huge attribute", "serial": 340282366920938463463374607431768211457}',
        b'{"id": ' + b"9" * 5000 + b', "title": "more digits than Python parses"}',
        b'{"id": "p400", "title": "price beyond a float", "price": 1' + b"0" * 400 + b"}",
    )
    try:
        json.loads("9" * 5000)
        raise AssertionError("this Python parses integers of any length")
    except ValueError as exc:
        too_long = f"invalid JSON: {exc}"
    return HostileCase(
        "ids_above_2_53",
        "big.jsonl",
        content,
        read=7,
        indexed=5,
        ids=["9007199254740993", "9007199254740992", "18446744073709551617", "-9007199254740993", "x"],
        rejects=[
            (6, None, "read", too_long, 6, _offset_of_line(content, 6)),
            (7, "p400", "read", "price: not a finite number: 1" + "0" * 39, 7, None),
        ],
        stored={"x": {"attributes": {"serial": "340282366920938463463374607431768211457"}}},
    )


def _duplicates() -> HostileCase:
    content = _lines(
        {"id": "a", "title": "first a"},
        {"id": "a", "title": "second a"},
        {"id": 1, "title": "int one"},
        {"id": "1", "title": "text one"},
        b'{"id": "k", "title": "x", "id": "k2"}',
        {"id": " a ", "title": "padded a"},
    )
    return HostileCase(
        "duplicate_ids_and_keys",
        "dupes.jsonl",
        content,
        read=6,
        indexed=2,
        ids=["a", "1"],
        rejects=[
            (2, "a", "read", "duplicate id (first read at row 1)", 2, None),
            (4, "1", "read", "duplicate id (first read at row 3)", 4, None),
            (
                5,
                None,
                "read",
                "invalid JSON: key 'id' appears twice in one object",
                5,
                _offset_of_line(content, 5),
            ),
            (6, "a", "read", "duplicate id (first read at row 1)", 6, None),
        ],
    )


def _bom_crlf_blank_lines() -> HostileCase:
    content = (
        b"\xef\xbb\xbf"
        + _lines({"id": "b1", "title": "after a BOM"}, end=b"\r\n")
        + b"\r\n   \r\n\t\n"
        + b"\xef\xbb\xbf"
        + _lines({"id": "b2", "title": "BOM mid-file"}, end=b"\r\n")
        + b'{"id": "b3", "title": "no final newline"}'
    )
    return HostileCase(
        "bom_crlf_blank_lines", "bom.jsonl", content, read=3, indexed=3, ids=["b1", "b2", "b3"], rejects=[]
    )


def _null_fields() -> HostileCase:
    content = _lines(
        {"id": None, "title": "null id"},
        {"id": "n1", "title": None, "description": None, "price": None, "colour": None},
        {"id": "n2", "title": "nulls around", "description": None, "price": None, "colour": None},
        {"id": "n3", "title": "", "description": "only a description", "colour": "Red"},
        {"id": "n4", "title": "inf price", "price": "inf"},
        b'{"id": "n5", "title": "infinite weight", "weight": Infinity}',
    )
    return HostileCase(
        "null_fields",
        "nulls.jsonl",
        content,
        read=6,
        indexed=2,
        ids=["n2", "n3"],
        rejects=[
            (1, None, "read", "missing id", 1, None),
            (2, "n1", "read", "item has neither text nor an image", 2, None),
            (5, "n4", "read", "price: not a finite number: 'inf'", 5, None),
            (6, "n5", "read", "weight: not a finite number: inf", 6, None),
        ],
        stored={"n2": {"attributes": {}}, "n3": {"attributes": {"colour": "Red"}}},
    )


def _blank_only() -> HostileCase:
    return HostileCase("blank_lines_only", "blank.jsonl", b"\n\r\n   \n", read=0, indexed=0, rejects=[])


def _empty_file() -> HostileCase:
    return HostileCase("empty_file", "empty.jsonl", b"", read=0, indexed=0, rejects=[])


def _huge_title() -> HostileCase:
    title = ("word " * 210_000)[:1_048_576]
    content = _lines(
        {"id": "huge", "title": title, "price": 1}, {"id": "next", "title": "after the huge one"}
    )
    return HostileCase(
        "one_mb_title",
        "huge.jsonl",
        content,
        read=2,
        indexed=2,
        ids=["huge", "next"],
        rejects=[],
        truncated=1,
        stored={"huge": {"title": ("word " * 400)[: MAX_TITLE_CHARS - 1]}},
    )


def _too_large_line() -> HostileCase:
    content = _lines(
        {"id": "before", "title": "before"},
        {"id": "big", "title": "x" * MAX_ROW_BYTES},
        {"id": "after", "title": "after"},
    )
    return HostileCase(
        "line_over_the_row_cap",
        "toolarge.jsonl",
        content,
        read=3,
        indexed=2,
        ids=["before", "after"],
        rejects=[
            (2, None, "read", f"line longer than {MAX_ROW_BYTES} bytes", 2, _offset_of_line(content, 2))
        ],
    )


def _invalid_json() -> HostileCase:
    lines = [
        b'{"id": "t1", "title": "truncated"',
        b'{"id": "t2"} trailing',
        b"{'id': 't3'}",
        b"[1, 2]",
        b'"just a string"',
        b'{"id": "ok", "title": "fine"}',
    ]
    content = _lines(*lines)
    start = [_offset_of_line(content, n) for n in range(1, 6)]
    return HostileCase(
        "invalid_json",
        "invalid.jsonl",
        content,
        read=6,
        indexed=1,
        ids=["ok"],
        rejects=[
            (
                1,
                None,
                "read",
                "invalid JSON: Expecting ',' delimiter (column 34)",
                1,
                start[0] + len(lines[0]),
            ),
            (
                2,
                None,
                "read",
                "invalid JSON: Extra data (column 14)",
                2,
                start[1] + lines[1].index(b"trailing"),
            ),
            (
                3,
                None,
                "read",
                "invalid JSON: Expecting property name enclosed in double quotes (column 2)",
                3,
                start[2] + 1,
            ),
            (4, None, "read", "line is a list, not a JSON object", 4, start[3]),
            (5, None, "read", "line is str, not a JSON object", 5, start[4]),
        ],
    )


def _csv_missing_id_column() -> HostileCase:
    content = b"sku,name,price\r\nA1,Red dress,20\r\nA2,Blue shirt,15\r\nA3,Hat,9\r\n"
    return HostileCase(
        "csv_without_id_column",
        "noid.csv",
        content,
        read=3,
        indexed=0,
        rejects=[(n, None, "read", "missing id", n + 1, None) for n in (1, 2, 3)],
    )


def _csv_hostile() -> HostileCase:
    big = "y" * 1_048_576
    content = (
        b"\xef\xbb\xbfid,title,price\r\n"
        + b"c1,plain,1\r\n"
        + b'c2,"multi\r\nline title",2\r\n'
        + b"\r\n"
        + b"c3,caf\xe9,3\r\n"
        + f'c4,"{big}",4\r\n'.encode()
        + b"c5,,\r\n"
        + b"c6,too,many,cells\r\n"
        + b"c7,last,7"
    )
    bad = content.index(b"\xe9")
    return HostileCase(
        "csv_bom_crlf_multiline_latin1_big_field",
        "hostile.csv",
        content,
        read=7,
        indexed=4,
        ids=["c1", "c2", "c4", "c7"],
        truncated=1,
        rejects=[
            (3, "c3", "read", f"not UTF-8 text: byte 0xe9 at byte offset {bad}", 6, bad),
            (5, "c5", "read", "item has neither text nor an image", 8, None),
            (6, "c6", "read", "row has 4 fields, the header has 3", 9, None),
        ],
        stored={"c2": {"title": "multi\r\nline title"}},
    )


def _csv_header_only() -> HostileCase:
    return HostileCase("csv_header_only", "header.csv", b"id,title\r\n", read=0, indexed=0, rejects=[])


CASES: list[HostileCase] = [
    _non_string_ids(),
    _non_utf8_in_the_middle(),
    _deeply_nested(),
    _big_ids(),
    _duplicates(),
    _bom_crlf_blank_lines(),
    _null_fields(),
    _blank_only(),
    _empty_file(),
    _huge_title(),
    _too_large_line(),
    _invalid_json(),
    _csv_missing_id_column(),
    _csv_hostile(),
    _csv_header_only(),
]


def parquet_odd_types(path: Path) -> Callable[[], None] | None:
    """Write a Parquet file of odd column types (see the test for the outcome); pyarrow is a dependency."""
    import datetime as dt
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": pa.array([9007199254740993, 2, 3, None, 5], type=pa.int64()),
            "title": pa.array(["big id", "two", None, "no id", "five"]),
            "serial": pa.array([2**64 - 1, 1, 2, 3, 4], type=pa.uint64()),
            "price": pa.array(
                [decimal.Decimal("1.10"), None, decimal.Decimal("3"), None, decimal.Decimal("5.5")],
                type=pa.decimal128(10, 2),
            ),
            "added": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5)] * 5, type=pa.timestamp("ms")),
            "size": pa.array(["S", "M", "S", "L", "M"]).dictionary_encode(),
            "dims": pa.array([{"w": 1, "h": 2}, None, {"w": 3, "h": None}, None, {"w": 5, "h": 6}]),
            "blob": pa.array([None, None, None, None, b"\xff\x00"], type=pa.binary()),
            "nothing": pa.array([None] * 5, type=pa.null()),
        }
    )
    pq.write_table(table, path, row_group_size=2)
    return None
