"""Filters in the tantivy index (indexed terms and float fast fields) agree with the SQLite filter path and
the reference semantics, without a set of allowed keys; ties past the page cost nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blendsearch.backends.base import LexicalRequest, QueryClause
from blendsearch.backends.embedded import EmbeddedBackend
from blendsearch.backends.embedded import backend as backend_module
from blendsearch.backends.embedded.lexical import FOLDER, MARKER, TIE_MARGIN
from blendsearch.documents import StoredDocument
from blendsearch.filters import Filter, RangeFilter, TermFilter, TermsFilter, matches
from blendsearch.search_fields import filter_fields

pytest.importorskip("tantivy", reason="tantivy is the embedded backend's Lucene BM25")


def _doc(id_: str, **attributes: object) -> StoredDocument:
    return StoredDocument(id=id_, title=f"item {id_}", attributes=attributes)


#: Text, numbers, numeric text, bools, lists, -0.0 and a value only text equality sees.
CORPUS = [
    _doc("a", kind="Shirt", price=10, size="42", sale=True, tags=["Navy", "Cotton"]),
    _doc("b", kind="shirt", price=10.5, size=42, sale=False),
    _doc("c", kind="Shoes", price=-0.0, size="XL", year="2012"),
    _doc("d", kind="Bag", price=99.99, size=42.0, sale="true", tags=["navy"]),
    _doc("e", kind="Bag", price="12", year=2012),
    _doc("f", kind="42"),
]

FILTERS: list[list[Filter]] = [
    [TermFilter(field="kind", value="SHIRT")],
    [TermFilter(field="size", value=42)],  # 42, 42.0 (numbers) and "42" (text reads the same)
    [TermFilter(field="size", value="42")],  # text wanted: value_text "42" (and "42.0" does not read so)
    [TermFilter(field="size", value=42.0)],
    [TermFilter(field="sale", value=True)],  # True == 1 and the text "true"
    [TermFilter(field="sale", value="true")],
    [TermFilter(field="kind", value=42)],
    [TermsFilter(field="kind", values=["bag", "shoes"])],
    [TermsFilter(field="tags", values=["NAVY"])],
    [TermFilter(field="id", value="C")],
    [RangeFilter(field="price", gte=0)],  # -0.0 is in
    [RangeFilter(field="price", gt=0)],
    [RangeFilter(field="price", gte=10, lt=12)],
    [RangeFilter(field="price", gte=10, gt=10, lte=12)],
    [RangeFilter(field="price", gte=12, lte=12)],  # the text "12" reads as a number
    [RangeFilter(field="price", gte=50, lte=20)],  # empty
    [RangeFilter(field="year")],  # any number at all
    [RangeFilter(field="size", gte=42), TermFilter(field="kind", value="shirt")],
    [TermFilter(field="kind", value="bag"), RangeFilter(field="price", lt=50)],
]


@pytest.fixture
def backend(tmp_path: Path):  # noqa: ANN201
    with EmbeddedBackend(tmp_path / "index", lexical="tantivy") as opened:
        opened.upsert(CORPUS)
        yield opened


def _ids(backend: EmbeddedBackend, filters: list[Filter], text: str = "item", k: int = 50) -> list[str]:
    request = LexicalRequest(
        channel="bm25", clauses=[QueryClause(text=text)], fields={"title": 1.0}, k=k, filters=filters
    )
    return sorted(backend.search_lexical(request).ids)


def _no_key_sets(monkeypatch: pytest.MonkeyPatch, backend: EmbeddedBackend) -> None:
    def refused(*args: object) -> None:
        raise AssertionError("filtered by the allowed key set")

    monkeypatch.setattr(backend._lexical_index(), "keys_query", refused)


@pytest.mark.parametrize("filters", FILTERS, ids=[json.dumps([f.model_dump() for f in fs]) for fs in FILTERS])
def test_indexed_filters_agree_with_sqlite_and_the_reference(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch, filters: list[Filter]
) -> None:
    reference = sorted(d.id for d in CORPUS if matches(filter_fields(d), filters))
    with backend._reading({}) as conn:
        keys = backend._allowed(conn, filters).keys(conn).tolist()
        sqlite_path = sorted(backend._ids_of(conn, keys).values())
    _no_key_sets(monkeypatch, backend)
    assert _ids(backend, filters) == sqlite_path == reference


def test_expected_matches_of_the_mixed_types(backend: EmbeddedBackend) -> None:
    assert _ids(backend, [TermFilter(field="size", value=42)]) == ["a", "b", "d"]
    assert _ids(backend, [TermFilter(field="size", value="42")]) == ["a", "b"]
    assert _ids(backend, [TermFilter(field="sale", value=True)]) == ["a", "d"]
    assert _ids(backend, [RangeFilter(field="price", gte=0, lte=12)]) == ["a", "b", "c", "e"]


def test_attribute_only_changes_reach_the_index(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same title, new attributes: the filter terms are rewritten (the text is unchanged)."""
    backend.upsert([_doc("a", kind="Bag", price=500)])
    _no_key_sets(monkeypatch, backend)
    assert _ids(backend, [TermFilter(field="kind", value="bag")]) == ["a", "d", "e"]
    assert _ids(backend, [RangeFilter(field="price", gt=100)]) == ["a"]
    backend.delete(["d"])
    assert _ids(backend, [TermFilter(field="kind", value="bag")]) == ["a", "e"]


def test_a_range_on_a_key_numbered_after_the_rebuild_uses_the_key_set(backend: EmbeddedBackend) -> None:
    assert _ids(backend, [RangeFilter(field="kind", gte=0)]) == ["f"]  # "42" is a number: kind is numeric
    backend.upsert([_doc("g", weight=3)])  # a new numeric key: no float field until the next rebuild
    assert _ids(backend, [RangeFilter(field="weight", gte=1)], text="g") == ["g"]
    marker = json.loads((backend.path / FOLDER / MARKER).read_text())
    assert marker["format_version"] == 3 and "weight" not in marker["numeric"]


def test_an_index_of_the_previous_format_is_rebuilt(backend: EmbeddedBackend, tmp_path: Path) -> None:
    _ids(backend, [])
    backend.close()
    path = tmp_path / "index" / FOLDER / MARKER
    marker = json.loads(path.read_text())
    del marker["numeric"]
    path.write_text(json.dumps({**marker, "format_version": 2}))
    with EmbeddedBackend(tmp_path / "index", lexical="tantivy") as reopened:
        assert _ids(reopened, [TermFilter(field="kind", value="bag")]) == ["d", "e"]
    rebuilt = json.loads(path.read_text())
    assert rebuilt["format_version"] == 3
    assert rebuilt["numeric"] == ["kind", "price", "sale", "size", "year"]


def test_ties_past_the_page_are_bounded_and_ordered_by_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 identical titles: k=3 looks up at most 3 + TIE_MARGIN ids, in one query, and pages by id."""
    looked_up: list[int] = []
    real = backend_module.ids_of

    def counting(conn: object, keys: list[int]) -> dict[int, str]:
        looked_up.append(len(keys))
        return real(conn, keys)  # type: ignore[arg-type]

    monkeypatch.setattr(backend_module, "ids_of", counting)
    with EmbeddedBackend(tmp_path / "index", lexical="tantivy") as backend:
        backend.upsert([StoredDocument(id=f"d{n:03d}", title="blue shirt") for n in range(300)])
        request = LexicalRequest(
            channel="bm25", clauses=[QueryClause(text="shirt")], fields={"title": 1.0}, k=3
        )
        result = backend.search_lexical(request)
    assert result.ids == ["d000", "d001", "d002"]
    assert len(set(result.scores)) == 1
    assert looked_up == [3 + TIE_MARGIN]
