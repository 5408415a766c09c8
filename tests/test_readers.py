"""Catalogue readers: JSONL / CSV / TSV / Parquet rows mapped to Documents, bad rows rejected with reasons."""

from __future__ import annotations

import gzip
import itertools
import json
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blendsearch.config import FieldMapping
from blendsearch.exceptions import CatalogError, ItemError
from blendsearch.imageio import decode_image
from blendsearch.ingest.images import ImageSource
from blendsearch.ingest.readers import (
    RawItem,
    catalog_format,
    count_rows,
    default_image_template,
    map_record,
    read_catalog,
)

MAPPING = FieldMapping(description=["description"], numeric=["price"])


def write_jsonl(path: Path, lines: list[object]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def docs(items: list[RawItem]) -> dict[str, dict]:
    return {item.document.id: item.document.model_dump() for item in items if item.document}


def errors(items: list[RawItem]) -> dict[int, str]:
    return {item.position: item.error for item in items if item.error}


# -- map_record ------------------------------------------------------------------------------------


def test_map_record_maps_every_field() -> None:
    raw = {
        "id": 17,
        "title": " Blue Shirt ",
        "description": "Cotton",
        "notes": "slim fit",
        "image": "a/17.jpg",
        "price": "12.50",
        "colour": "Blue",
        "sizes": ["S", "", "M"],
        "empty": "",
        "missing": None,
    }
    doc = map_record(raw, FieldMapping(description=["description", "notes"], numeric=["price"]))
    assert doc.model_dump() == {
        "id": "17",
        "title": "Blue Shirt",
        "description": "Cotton. slim fit",
        "attributes": {"price": 12.5, "colour": "Blue", "sizes": ["S", "M"]},
        "image": "a/17.jpg",
    }


def test_map_record_numeric_integral_becomes_int_and_flattens_nested_objects() -> None:
    doc = map_record({"id": "a", "price": "3.0", "meta": {"brand": "Acme", "stock": 4}}, MAPPING)
    assert doc.attributes == {"price": 3, "meta.brand": "Acme", "meta.stock": 4}
    assert isinstance(doc.attributes["price"], int)


def test_map_record_explicit_attribute_columns_and_dotted_lookup() -> None:
    mapping = FieldMapping(id="sku", title="info.name", attributes=["colour", "info.brand", "absent"])
    doc = map_record(
        {"sku": "x1", "info": {"name": "Cap", "brand": "Acme"}, "colour": "Red", "extra": 1}, mapping
    )
    assert (doc.id, doc.title, doc.attributes) == ("x1", "Cap", {"colour": "Red", "info.brand": "Acme"})


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"title": "no id"}, "missing id"),
        ({"id": "  ", "title": "blank id"}, "missing id"),
        ({"id": None}, "missing id"),
        ({"id": {"a": 1}}, "id (id): expected text or an integer, got an object"),
        ({"id": True}, "id (id): expected text or an integer, got a boolean"),
        ({"id": "1", "title": {"en": "x"}}, "title (title): expected text, got an object"),
        ({"id": "1", "title": ["a", "b"]}, "title (title): expected text, got a list"),
        ({"id": "1", "description": ["a"]}, "description (description): expected text, got a list"),
        ({"id": "1", "price": "cheap"}, "price: not a number: 'cheap'"),
        ({"id": "1", "price": [1]}, "price: expected a number, got a list"),
        ({"id": "1", "price": "inf"}, "price: not a finite number: 'inf'"),
        ({"id": "1", "image": 5}, "image (image): expected a path or URL, got int"),
        ({"id": "1", "tags": [{"a": 1}]}, "tags: expected text, a number or a list of texts, got an object"),
    ],
)
def test_map_record_rejects_with_the_field_named(raw: dict, reason: str) -> None:
    with pytest.raises(ItemError) as info:
        map_record(raw, MAPPING)
    assert str(info.value) == reason


def test_integral_float_id_is_written_without_decimals() -> None:
    assert map_record({"id": 12.0}, MAPPING).id == "12"


# -- JSON Lines ------------------------------------------------------------------------------------


def test_jsonl_reads_rows_and_rejects_bad_lines(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "items.jsonl",
        [
            {"id": 1, "title": "Red Dress", "price": 20},
            "",
            '{"id": 2, "title": "broken"',
            {"title": "no id"},
            "[1, 2]",
            {"id": "3", "title": "Hat", "price": "9.5", "colour": "Black"},
        ],
    )
    items = list(read_catalog(path, MAPPING))
    assert [item.position for item in items] == [1, 3, 4, 5, 6]
    assert docs(items) == {
        "1": {"id": "1", "title": "Red Dress", "description": "", "attributes": {"price": 20}, "image": None},
        "3": {
            "id": "3",
            "title": "Hat",
            "description": "",
            "attributes": {"price": 9.5, "colour": "Black"},
            "image": None,
        },
    }
    assert errors(items) == {
        3: "invalid JSON: Expecting ',' delimiter (column 28)",
        4: "missing id",
        5: "line is a list, not a JSON object",
    }
    assert items[1].raw == {"line": '{"id": 2, "title": "broken"'}
    assert items[2].raw == {"title": "no id"}
    assert count_rows(path) == 5


def test_gzipped_jsonl_and_json_array(tmp_path: Path) -> None:
    gz = tmp_path / "items.ndjson.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as handle:
        handle.write('{"id": "a"}\n{"id": "b"}\n')
    assert [i.document.id for i in read_catalog(gz, MAPPING)] == ["a", "b"]
    assert count_rows(gz) == 2
    array = tmp_path / "items.json"
    array.write_text('[{"id": "x", "title": "X"}, 7]')
    items = list(read_catalog(array, MAPPING))
    assert [(i.position, i.document.id if i.document else i.error) for i in items] == [
        (1, "x"),
        (2, "element is int, not a JSON object"),
    ]
    assert count_rows(array) is None


def test_reader_streams_lazily(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "big.jsonl", [{"id": i} for i in range(5000)])
    first = list(itertools.islice(read_catalog(path, MAPPING), 3))
    assert [i.document.id for i in first] == ["0", "1", "2"]


# -- CSV / TSV -------------------------------------------------------------------------------------


def test_csv_missing_values_are_absent_and_bad_rows_rejected(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "\ufeffid,title,price,colour\n"
        "1,Blue Jeans,30,Blue\n"
        "2,Socks,NaN,\n"
        ",No id,1,Red\n"
        '4,"Shirt, white",x,White\n'
        "5,Too,many,fields,here\n"
        "\n"
        "6,Short\n"
    )
    items = list(read_catalog(path, MAPPING))
    assert docs(items) == {
        "1": {
            "id": "1",
            "title": "Blue Jeans",
            "description": "",
            "attributes": {"price": 30, "colour": "Blue"},
            "image": None,
        },
        "2": {"id": "2", "title": "Socks", "description": "", "attributes": {}, "image": None},
    }
    assert errors(items) == {
        3: "missing id",
        4: "price: not a number: 'x'",
        5: "row has 5 fields, the header has 4",
        6: "row has 2 fields, the header has 4",
    }
    assert count_rows(path) == 6


def test_tsv(tmp_path: Path) -> None:
    path = tmp_path / "items.tsv"
    path.write_text("id\ttitle\tsize\nA\tCap, wool\tM\n")
    (item,) = read_catalog(path, FieldMapping())
    assert (item.document.id, item.document.title, item.document.attributes) == (
        "A",
        "Cap, wool",
        {"size": "M"},
    )


# -- Parquet ---------------------------------------------------------------------------------------


def test_parquet_streams_batches_with_types(tmp_path: Path) -> None:
    n = 2500  # more than one record batch
    table = pa.table(
        {
            "id": list(range(n)),
            "title": [f"item {i}" if i % 7 else None for i in range(n)],
            "price": [float(i) / 2 for i in range(n)],
            "tags": [["a", "b"] if i % 2 else [] for i in range(n)],
            "in_stock": [i % 3 == 0 for i in range(n)],
        }
    )
    path = tmp_path / "items.parquet"
    pq.write_table(table, path, row_group_size=1000)
    assert count_rows(path) == n
    items = list(read_catalog(path, FieldMapping(numeric=["price"])))
    assert len(items) == n and [i.position for i in items[:2]] == [1, 2] and items[-1].position == n
    assert items[3].document.model_dump() == {
        "id": "3",
        "title": "item 3",
        "description": "",
        "attributes": {"price": 1.5, "tags": ["a", "b"], "in_stock": True},
        "image": None,
    }
    assert items[0].document.title == "" and items[0].document.attributes == {"price": 0, "in_stock": True}


def test_corrupt_parquet_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(CatalogError, match="cannot read"):
        list(read_catalog(path, MAPPING))
    assert count_rows(path) is None


# -- files -----------------------------------------------------------------------------------------


def test_missing_file_and_unknown_format_raise_at_call(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        read_catalog(tmp_path / "nope.jsonl", MAPPING)
    (tmp_path / "items.xlsx").write_text("x")
    with pytest.raises(CatalogError, match="unknown catalogue format '.xlsx'"):
        read_catalog(tmp_path / "items.xlsx", MAPPING)
    with pytest.raises(CatalogError, match="not a file"):
        read_catalog(_dir_named(tmp_path, "d.csv"), MAPPING)
    assert count_rows(tmp_path / "nope.csv") is None
    assert [catalog_format(p) for p in ("a.JSONL", "b.ndjson", "c.csv.gz", "d.TSV", "e.parquet")] == [
        "jsonl",
        "jsonl",
        "csv",
        "csv",
        "parquet",
    ]


def _dir_named(parent: Path, name: str) -> Path:
    folder = parent / name
    folder.mkdir()
    return folder


def test_non_utf8_csv_row_is_one_reject_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,title\n1,Caf\xe9\n2,Tea\n".encode("latin-1"))
    bad, good = read_catalog(path, MAPPING)
    assert (bad.position, bad.line, bad.offset) == (1, 2, 14)
    assert bad.error == "not UTF-8 text: byte 0xe9 at byte offset 14"
    assert bad.raw == {"id": "1", "title": "Caf\ufffd"} and good.document.id == "2"


# -- the image convention --------------------------------------------------------------------------


def test_image_reference_defaults_by_what_lies_beside_the_catalogue(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "items.jsonl", [{"id": 5}, {"id": 6, "image": "http://x/6.png"}])
    assert default_image_template(path, MAPPING) is None
    assert [i.document.image for i in read_catalog(path, MAPPING)] == [None, "http://x/6.png"]
    (tmp_path / "images").mkdir()
    assert [i.document.image for i in read_catalog(path, MAPPING)] == ["images/5.jpg", "http://x/6.png"]
    with zipfile.ZipFile(tmp_path / "images.zip", "w") as archive:
        archive.writestr("5.jpg", b"")
    assert [i.document.image for i in read_catalog(path, FieldMapping(image=None))] == ["5.jpg", "6.jpg"]
    assert default_image_template(path, FieldMapping(image_root="/photos")) == "{id}.jpg"


def test_raw_item_needs_exactly_one_of_document_and_error() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        RawItem(position=1, raw={})


# -- the real fashion catalogue --------------------------------------------------------------------


@pytest.mark.slow
def test_fashion_catalogue_first_rows_with_images_from_the_zip(fashion_dir: Path) -> None:
    catalog = fashion_dir / "products.csv"
    mapping = FieldMapping()
    items = list(itertools.islice(read_catalog(catalog, mapping), 50))
    assert all(item.error is None for item in items)
    first = items[0].document
    assert first.model_dump() == {
        "id": "1163",
        "title": "Nike Sahara Team India Fanwear Round Neck Jersey",
        "description": "",
        "attributes": {
            "split": "train",
            "gender": "Men",
            "masterCategory": "Apparel",
            "subCategory": "Topwear",
            "articleType": "Tshirts",
            "baseColour": "Blue",
            "season": "Summer",
            "year": "2011",
            "usage": "Sports",
        },
        "image": "1163.jpg",
    }
    with ImageSource.for_catalog(catalog, mapping) as source:
        assert source.root == (fashion_dir / "images.zip").resolve()
        sizes = {decode_image(source.fetch(item.document.image)).size for item in items}
    assert sizes <= {(60, 80), (60, 60)}
    assert count_rows(catalog) == 44072
