"""Judgements read a catalogue exactly as ingest does (issue 10: the two readers had diverged).

The same rows as CSV, gzipped CSV and Parquet: every format gives the catalogue ingest would index
(ids normalised, missing-value tokens missing, rejected rows left out, the first of a duplicated id).
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from blendsearch.config import FieldMapping
from blendsearch.eval.judgements import JudgedQuery, judge, read_catalog
from blendsearch.ingest.readers import read_catalog as read_items

ROWS = [
    {"id": "a1", "title": "Red shirt", "baseColour": "Red", "articleType": "Shirts"},
    {"id": "a2", "title": "Blue shirt", "baseColour": "nan", "articleType": "Shirts"},  # pandas' NaN
    {"id": "", "title": "No id", "baseColour": "Red", "articleType": "Shirts"},  # rejected by ingest
    {"id": "a3", "title": "Red watch", "baseColour": "Red", "articleType": "Watches"},
    {"id": "a1", "title": "Duplicate", "baseColour": "Blue", "articleType": "Watches"},  # first kept
]


def _write_csv(path: Path, opener=open) -> Path:  # noqa: ANN001 - open or gzip.open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ROWS[0]))
        writer.writeheader()
        writer.writerows(ROWS)
    return path


def _write_parquet(path: Path) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    columns = {key: [None if row[key] in ("", "nan") else row[key] for row in ROWS] for key in ROWS[0]}
    pq.write_table(pa.table(columns), path)
    return path


@pytest.fixture(params=["csv", "csv.gz", "parquet"])
def catalogue(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "csv":
        return _write_csv(tmp_path / "products.csv")
    if request.param == "csv.gz":
        return _write_csv(tmp_path / "products.csv.gz", gzip.open)
    return _write_parquet(tmp_path / "products.parquet")


def test_judgements_read_the_rows_ingest_indexes(catalogue: Path) -> None:
    catalog = read_catalog(catalogue)
    ingested = [item.document.id for item in read_items(catalogue, FieldMapping()) if item.document]
    assert list(dict.fromkeys(ingested)) == catalog.ids() == ["a1", "a2", "a3"]
    assert catalog.value("a1", "title") == "Red shirt"  # the first row of the duplicated id
    assert catalog.value("a2", "baseColour") is None  # "nan" is missing, not a colour called nan
    assert catalog.ids_with("baseColour", ["nan"]) == set()
    assert catalog.ids_with("baseColour", ["red"]) == {"a1", "a3"}


def test_gains_are_the_same_in_every_format(catalogue: Path) -> None:
    query = JudgedQuery(qid="q1", query="red shirt", match={"articleType": ["Shirts"], "baseColour": ["Red"]})
    (judgement,) = judge([query], read_catalog(catalogue))
    assert judgement.gains == {"a1": 2, "a2": 1}
    assert judgement.relevant == 1
