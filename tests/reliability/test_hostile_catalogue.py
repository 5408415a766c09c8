"""Hostile catalogues: every row is read, then indexed or rejected with its exact reason, line and byte
offset; nothing aborts a run, ids keep every digit, and the CLI fails clearly when nothing is indexed."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hostile_rows import CASES, HostileCase, parquet_odd_types

from blendsearch.cli import main
from blendsearch.config import EngineConfig, FieldMapping
from blendsearch.engine import Engine
from blendsearch.ingest.pipeline import IngestSummary


def _config(**fields: Any) -> EngineConfig:
    return EngineConfig(fields=FieldMapping(numeric=["price"], description=["description"], **fields))


def _ingest(path: Path, config: EngineConfig, rejects: Path) -> tuple[IngestSummary, Engine]:
    engine = Engine.open(path.parent / "index", config)
    return engine.ingest(path, rejects=rejects), engine


def _reject_lines(rejects: Path) -> list[dict[str, Any]]:
    """The rejects file, read strictly: UTF-8, one JSON object per line, nothing partial."""
    data = rejects.read_bytes()
    assert not data or data.endswith(b"\n")
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_row_is_indexed_or_rejected_with_its_exact_reason(case: HostileCase, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    rejects = tmp_path / "rejects.jsonl"
    summary, engine = _ingest(path, _config(), rejects)
    with engine:
        stored_ids = set(engine.backend.iter_ids())
        stored = {doc.id: doc for doc in engine.backend.get(list(case.stored))}
    assert (summary.read, summary.indexed, summary.rejected) == (case.read, case.indexed, case.rejected)
    assert summary.read == summary.indexed + summary.rejected
    assert summary.truncated == case.truncated
    lines = _reject_lines(rejects)
    got = sorted((r["position"], r["id"], r["stage"], r["reason"], r["line"], r["offset"]) for r in lines)
    assert got == sorted(case.rejects, key=lambda r: r[0])
    if case.ids is not None:
        assert stored_ids == set(case.ids)
    for id_, fields in case.stored.items():
        for name, value in fields.items():
            assert getattr(stored[id_], name) == value, (id_, name)


def test_rejected_rows_keep_their_content_in_the_rejects_file(tmp_path: Path) -> None:
    """Non-string ids, a non-UTF-8 line and a nested row are all written, as strict JSON."""
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"id": 5, "price": "abc"}\n'
        b'{"id": "x", "title": "caf\xe9"}\n'
        b'{"id": "d", "v": ' + b"[" * 70 + b"]" * 70 + b"}\n"
        b'{"id": 12345678901234567890123, "price": "zz"}\n'
    )
    rejects = tmp_path / "rejects.jsonl"
    summary, engine = _ingest(path, _config(), rejects)
    engine.close()
    assert (summary.read, summary.indexed, summary.rejected) == (4, 0, 4)
    lines = _reject_lines(rejects)
    assert [r["raw"] for r in lines] == [
        {"id": 5, "price": "abc"},
        {"line": '{"id": "x", "title": "caf\ufffd"}'},
        {"line": '{"id": "d", "v": ' + "[" * 70 + "]" * 70 + "}"},
        {"id": 12345678901234567890123, "price": "zz"},
    ]
    assert lines[3]["id"] == "12345678901234567890123"
    assert summary.reject_reasons == {
        "price: not a number: 'abc'": 1,
        "not UTF-8 text: byte 0xe9 at byte offset 51": 1,
        "nested more than 64 levels deep": 1,
        "price: not a number: 'zz'": 1,
    }


def test_ids_above_2_53_are_stored_and_searched_exactly(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text(
        '{"id": 9007199254740993, "title": "odd sock"}\n{"id": 9007199254740992, "title": "even sock"}\n'
    )
    summary, engine = _ingest(path, _config(), tmp_path / "rejects.jsonl")
    with engine:
        hits = engine.search("odd sock").hits
    assert (summary.indexed, summary.rejected) == (2, 0)
    assert hits[0].id == "9007199254740993"


def test_parquet_with_odd_types(tmp_path: Path) -> None:
    """uint64 beyond int64, decimals, timestamps, dictionaries, structs, binary and null-type columns."""
    path = tmp_path / "odd.parquet"
    parquet_odd_types(path)
    rejects = tmp_path / "rejects.jsonl"
    summary, engine = _ingest(path, _config(), rejects)
    with engine:
        docs = {doc.id: doc for doc in engine.backend.get(["9007199254740993", "2"])}
    assert (summary.read, summary.indexed, summary.rejected) == (5, 2, 3)
    got = sorted((r["position"], r["id"], r["reason"]) for r in _reject_lines(rejects))
    assert got == [
        (3, "3", "item has neither text nor an image"),
        (4, None, "missing id"),
        (5, "5", "blob: expected text, a number or a list of texts, got bytes"),
    ]
    assert docs["9007199254740993"].attributes == {
        "serial": "18446744073709551615",
        "price": 1.1,
        "added": "2024-01-02T03:04:05",
        "size": "S",
        "dims.w": 1,
        "dims.h": 2,
    }
    assert docs["2"].attributes == {"serial": 1, "added": "2024-01-02T03:04:05", "size": "M"}
    # naming the columns to use leaves the binary one out, and row 5 is indexed
    summary, engine = _ingest(path, _config(attributes=["size", "price"]), rejects)
    engine.close()
    assert (summary.read, summary.indexed, summary.unchanged, summary.rejected) == (5, 3, 0, 2)


def test_a_truncated_gzip_keeps_what_was_read_and_rejects_the_rest_once(tmp_path: Path) -> None:
    rows = "".join(
        json.dumps({"id": f"p{i}", "title": f"item {i} " + "x" * (i % 50)}) + "\n" for i in range(2000)
    )
    data = gzip.compress(rows.encode(), mtime=0)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    rejects = tmp_path / "rejects.jsonl"
    summary, engine = _ingest(path, _config(), rejects)
    with engine:
        ids = set(engine.backend.iter_ids())
    assert 0 < summary.indexed < 2000 and (summary.read, summary.rejected) == (summary.indexed + 1, 1)
    assert ids == {f"p{i}" for i in range(summary.indexed)}
    (line,) = _reject_lines(rejects)
    assert (line["position"], line["id"], line["reason"]) == (
        summary.read,
        None,
        "the rest of the compressed file cannot be read: "
        "Compressed file ended before the end-of-stream marker was reached",
    )


def test_a_damaged_parquet_row_group_rejects_its_own_rows_only(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 3000
    table = pa.table(
        {"id": [f"p{i}" for i in range(n)], "title": [f"title number {i} " * 3 for i in range(n)]}
    )
    path = tmp_path / "damaged.parquet"
    pq.write_table(table, path, row_group_size=1000, use_dictionary=False, compression="snappy")
    column = pq.ParquetFile(path).metadata.row_group(1).column(1)
    data = bytearray(path.read_bytes())
    middle = column.data_page_offset + column.total_compressed_size // 2
    data[middle : middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    rejects = tmp_path / "rejects.jsonl"
    summary, engine = _ingest(path, _config(), rejects)
    engine.close()
    assert (summary.read, summary.indexed, summary.rejected) == (n, 2000, 1000)
    lines = _reject_lines(rejects)
    assert [r["position"] for r in lines] == list(range(1001, 2001))
    assert all(r["reason"].startswith("Parquet row group 2 of 3 cannot be read: ") for r in lines)


def test_nested_and_huge_rows_cost_little(tmp_path: Path) -> None:
    """A 100,000-deep list, 1,000-deep objects and a 1 MB title: each handled well under a second."""
    case = next(c for c in CASES if c.name == "deeply_nested")
    started = time.perf_counter()
    summary, engine = _ingest(case.write(tmp_path), _config(), tmp_path / "rejects.jsonl")
    engine.close()
    assert summary.rejected == 4 and time.perf_counter() - started < 2.0


# -- the CLI: nothing indexed is a failure with a hint ------------------------------------------------


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_cli_fails_when_the_id_column_is_missing_and_names_the_fields(tmp_path: Path) -> None:
    catalog = next(c for c in CASES if c.name == "csv_without_id_column").write(tmp_path)
    result = _cli("ingest", str(catalog), "--index", str(tmp_path / "index"), "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout.splitlines()[0])
    assert (summary["read"], summary["indexed"], summary["rejected"]) == (3, 0, 3)
    assert summary["fields_seen"] == ["sku", "name", "price"]
    assert "Error: nothing indexed: all 3 rows were rejected; most often (3): missing id" in result.stderr
    assert (
        "hint: rows are identified by the field 'id', which they lack; fields found: sku, name, price."
        " Name the id field with --id-field (e.g. --id-field sku)"
    ) in result.stderr
    index = str(tmp_path / "index")
    fixed = _cli(
        "ingest", str(catalog), "--index", index, "--id-field", "sku", "--title-field", "name", "--json"
    )
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["indexed"] == 3


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom-only"])
def test_cli_fails_on_an_empty_catalogue(content: bytes, tmp_path: Path) -> None:
    catalog = tmp_path / "empty.jsonl"
    catalog.write_bytes(content)
    result = _cli("ingest", str(catalog), "--index", str(tmp_path / "index"))
    assert result.exit_code == 1
    assert result.stdout.startswith("read 0, indexed 0 (0 written, 0 unchanged), rejected 0")
    assert f"Error: nothing indexed: {catalog} has no rows" in result.stderr


def test_library_returns_the_summary_of_an_empty_catalogue(tmp_path: Path) -> None:
    catalog = tmp_path / "empty.csv"
    catalog.write_bytes(b"")
    summary, engine = _ingest(catalog, _config(), tmp_path / "rejects.jsonl")
    engine.close()
    assert (summary.read, summary.indexed, summary.rejected) == (0, 0, 0)
    assert (tmp_path / "rejects.jsonl").read_bytes() == b""


def test_cli_notes_a_cut_title_once_on_stderr(tmp_path: Path) -> None:
    catalog = next(c for c in CASES if c.name == "one_mb_title").write(tmp_path)
    result = _cli("ingest", str(catalog), "--index", str(tmp_path / "index"))
    assert result.exit_code == 0
    assert result.stderr.count("1 items had a title over 2000 or a description over 50000 characters") == 1
    assert "title over" not in result.stdout
