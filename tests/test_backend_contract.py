"""The backend contract: the same scenarios, with the same exact expectations, on every backend.

To check another backend, add a factory to ``FACTORIES`` (it gets pytest's ``tmp_path``); a backend
that needs a server should skip inside its factory when the server is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from blendsearch.backends.base import (
    Backend,
    ChannelResult,
    LexicalRequest,
    QueryClause,
    UpsertResult,
    VectorRequest,
)
from blendsearch.backends.embedded import EmbeddedBackend
from blendsearch.backends.memory import MemoryBackend
from blendsearch.documents import Enrichment, StoredDocument
from blendsearch.filters import RangeFilter, TermFilter, TermsFilter, matches
from blendsearch.search_fields import filter_fields

FACTORIES: dict[str, Callable[[Path], Backend]] = {
    "memory": lambda tmp_path: MemoryBackend(),
    "embedded": lambda tmp_path: EmbeddedBackend(tmp_path / "index"),
}

TEXT_FIELDS = {"title": 2.0, "description": 1.0, "attributes": 1.0}


@pytest.fixture(params=sorted(FACTORIES))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    with FACTORIES[request.param](tmp_path) as opened:
        yield opened


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _doc(
    id_: str,
    title: str,
    description: str = "",
    attributes: dict | None = None,
    colours: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    generated: str = "",
    image: np.ndarray | None = None,
    text: np.ndarray | None = None,
) -> StoredDocument:
    return StoredDocument(
        id=id_,
        title=title,
        description=description,
        attributes=attributes or {},
        enrichment=Enrichment(colours=list(colours), tags=list(tags), description=generated),
        content_hash=f"hash-{id_}",
        image_vector=image,
        text_vector=text,
    )


# Ten items, so that FTS5's BM25 idf (which is ~0 for a term in half the items or more) stays positive for
# every term a test queries. Images: cosine with the query (1, 0, 0, 0) is 1.0 > 0.8 > 0.6 > 0 > -0.6.
CORPUS = [
    _doc(
        "d01",
        "Red cotton shirt",
        "soft shirt for summer",
        {"gender": "Men", "year": 2011, "sizes": ["S", "M"], "rating": 4.0},
        colours=("red",),
        tags=("shirt",),
        image=_unit(0.8, 0.6, 0, 0),
        text=_unit(0, 1, 0, 0),
    ),
    _doc(
        "d02",
        "Blue denim jeans",
        "classic jeans",
        {"gender": "Women", "year": 2012, "in_stock": True},
        colours=("blue",),
        tags=("jeans",),
        image=_unit(0, 1, 0, 0),
        text=_unit(1, 0, 0, 0),
    ),
    _doc(
        "d03",
        "Blue cotton shirt",
        "a blue shirt",
        {"gender": "Men", "year": "2015", "sizes": ["L"]},
        colours=("blue", "white"),
        tags=("shirt",),
        image=_unit(1, 0, 0, 0),
    ),
    _doc(
        "d04",
        "Leather wallet",
        "compact card holder",
        {"gender": "Unisex", "year": 2013},
        colours=("brown",),
        tags=("wallet",),
        image=_unit(0.6, 0.8, 0, 0),
    ),
    _doc(
        "d05",
        "Running shoes",
        "light shoes",
        {"gender": "Women", "year": 2016, "size": "42"},
        colours=("white",),
        tags=("shoes",),
        image=_unit(-0.6, 0.8, 0, 0),
    ),
    _doc("d06", "Woollen scarf", "warm winter scarf", {"gender": "Women", "year": 2014}, colours=("grey",)),
    _doc("d07", "Crème silk scarf", "smooth", {"gender": "Women"}, generated="a pale scarf"),
    _doc("d08", "Brown belt", "genuine leather belt", {"gender": "Men", "rating": 3}, colours=("brown",)),
    _doc(
        "d09",
        "Blue striped silk tie with a pattern",
        "a long formal tie for the office",
        {"gender": "Men"},
        colours=("blue",),
    ),
    _doc("d10", "Canvas backpack", "roomy bag", {"gender": "Unisex"}, tags=("bag",)),
]
BY_ID = {doc.id: doc for doc in CORPUS}


@pytest.fixture
def loaded(backend: Backend) -> Backend:
    assert backend.upsert(CORPUS) == [UpsertResult(id=doc.id, ok=True) for doc in CORPUS]
    backend.flush()
    return backend


def lexical_result(
    backend: Backend, text: str, fields: dict[str, float] | None = None, **kwargs: object
) -> ChannelResult:
    request = LexicalRequest(
        channel="bm25", clauses=[QueryClause(text=text)], fields=fields or TEXT_FIELDS, **kwargs
    )
    return backend.search_lexical(request)


def lexical(
    backend: Backend, text: str, fields: dict[str, float] | None = None, **kwargs: object
) -> list[str]:
    return lexical_result(backend, text, fields, **kwargs).ids


def vector_ids(backend: Backend, vector: np.ndarray, field: str = "image", **kwargs: object) -> list[str]:
    return backend.search_vector(VectorRequest(channel="v", field=field, vector=vector, **kwargs)).ids


# -- storing ---------------------------------------------------------------------------------------------


def test_upsert_count_get_and_iter_ids(loaded: Backend) -> None:
    assert loaded.count() == 10
    assert sorted(loaded.iter_ids()) == sorted(BY_ID)
    got = loaded.get(["d03", "missing", "d01"])
    assert [d.id for d in got] == ["d03", "d01"]
    assert got[0].title == "Blue cotton shirt"
    assert got[0].attributes == {"gender": "Men", "year": "2015", "sizes": ["L"]}
    assert got[0].enrichment.colours == ["blue", "white"]
    assert got[0].image_vector is None and got[0].text_vector is None
    with_vectors = loaded.get(["d01", "d06"], with_vectors=True)
    np.testing.assert_array_equal(with_vectors[0].image_vector, BY_ID["d01"].image_vector)
    np.testing.assert_array_equal(with_vectors[0].text_vector, BY_ID["d01"].text_vector)
    assert with_vectors[1].image_vector is None


def test_get_keeps_attribute_types(loaded: Backend) -> None:
    (doc,) = loaded.get(["d02"])
    assert doc.attributes == {"gender": "Women", "year": 2012, "in_stock": True}
    assert isinstance(doc.attributes["year"], int) and isinstance(doc.attributes["in_stock"], bool)


def test_reupsert_is_idempotent(loaded: Backend) -> None:
    before = loaded.search_lexical(
        LexicalRequest(channel="b", clauses=[QueryClause(text="blue shirt")], fields=TEXT_FIELDS)
    )
    loaded.upsert(CORPUS)
    after = loaded.search_lexical(
        LexicalRequest(channel="b", clauses=[QueryClause(text="blue shirt")], fields=TEXT_FIELDS)
    )
    assert loaded.count() == 10
    assert after == before


def test_upsert_replaces_text_attributes_and_vectors(loaded: Backend) -> None:
    changed = _doc("d01", "Green linen kurta", attributes={"gender": "Women"}, image=_unit(0, 0, 1, 0))
    loaded.upsert([changed])
    assert loaded.count() == 10
    assert lexical(loaded, "cotton") == ["d03"]
    assert lexical(loaded, "kurta") == ["d01"]
    assert "d01" not in vector_ids(
        loaded, _unit(1, 0, 0, 0), filters=[TermFilter(field="gender", value="men")]
    )
    assert vector_ids(loaded, _unit(0, 0, 1, 0), k=1) == ["d01"]
    assert loaded.get(["d01"], with_vectors=True)[0].text_vector is None


def test_duplicate_ids_in_one_batch_keep_the_last(backend: Backend) -> None:
    results = backend.upsert([_doc("a", "first words"), _doc("a", "second words")])
    assert [r.ok for r in results] == [True, True]
    assert backend.count() == 1
    assert backend.get(["a"])[0].title == "second words"
    assert lexical(backend, "first") == []


def test_delete_counts_those_that_existed(loaded: Backend) -> None:
    assert loaded.delete(["d01", "d01", "nope"]) == 1
    assert loaded.delete([]) == 0
    assert loaded.count() == 9
    assert "d01" not in loaded.iter_ids()
    assert loaded.get(["d01"]) == []
    assert lexical(loaded, "cotton") == ["d03"]
    assert "d01" not in vector_ids(loaded, _unit(1, 0, 0, 0))
    assert loaded.content_hashes(["d01", "d02"]) == {"d02": "hash-d02"}


def test_content_hashes_of_existing_ids(loaded: Backend) -> None:
    assert loaded.content_hashes(["d05", "x", "d02"]) == {"d05": "hash-d05", "d02": "hash-d02"}
    assert loaded.content_hashes([]) == {}


# -- lexical ---------------------------------------------------------------------------------------------


def test_lexical_ranking(loaded: Backend) -> None:
    # d03 has both words; "shirt" (2 items) is rarer than "blue" (3), so d01 beats d02; d09's long
    # fields put it last.
    assert lexical(loaded, "blue shirt", fields={"title": 1.0}) == ["d03", "d01", "d02", "d09"]


def test_lexical_scores_are_positive_and_descending(loaded: Backend) -> None:
    result = lexical_result(loaded, "blue shirt", fields={"title": 1.0})
    assert result.channel == "bm25"
    assert all(s > 0 for s in result.scores)
    assert result.scores == sorted(result.scores, reverse=True)


def test_lexical_stems_and_folds_like_analyze(loaded: Backend) -> None:
    assert lexical(loaded, "runs") == ["d05"]  # porter: runs, running -> run
    assert lexical(loaded, "CREME") == ["d07"]
    assert lexical(loaded, "scarf") == ["d06", "d07"]
    assert lexical(loaded, "scarves") == []  # porter: scarves -> scarv


def test_lexical_k_limits(loaded: Backend) -> None:
    assert lexical(loaded, "blue shirt", fields={"title": 1.0}, k=2) == ["d03", "d01"]


def test_empty_or_unmatched_query_returns_nothing(loaded: Backend) -> None:
    assert lexical(loaded, "") == []
    assert lexical(loaded, "  ?! -- ") == []
    assert lexical(loaded, "zeppelin") == []
    assert lexical(loaded, 'shirt" OR "jeans') != []  # FTS syntax in the text is searched as words


def test_field_boosts_decide_the_order(loaded: Backend) -> None:
    # "leather": in d04's title only, in d08's description only.
    assert lexical(loaded, "leather", fields={"title": 5.0, "description": 1.0}) == ["d04", "d08"]
    assert lexical(loaded, "leather", fields={"title": 1.0, "description": 5.0}) == ["d08", "d04"]


def test_only_requested_fields_match(loaded: Backend) -> None:
    assert lexical(loaded, "leather", fields={"description": 1.0}) == ["d08"]
    assert lexical(loaded, "pale", fields={"title": 1.0, "description": 1.0}) == []
    assert lexical(loaded, "pale", fields={"generated": 1.0}) == ["d07"]
    assert lexical(loaded, "white", fields={"colours": 1.0}) == ["d05", "d03"]  # the shorter item first
    assert lexical(loaded, "bag", fields={"tags": 1.0}) == ["d10"]
    assert lexical(loaded, "unisex", fields={"attributes": 1.0}) == ["d10", "d04"]
    assert lexical(loaded, "shirt", fields={"unknown": 1.0}) == []


def test_clause_weights(loaded: Backend) -> None:
    def run(*clauses: tuple[str, float]) -> list[str]:
        request = LexicalRequest(
            channel="bm25", clauses=[QueryClause(text=t, weight=w) for t, w in clauses], fields={"title": 1.0}
        )
        return loaded.search_lexical(request).ids

    assert run(("wallet", 1.0), ("backpack", 0.1)) == ["d04", "d10"]
    assert run(("wallet", 0.1), ("backpack", 1.0)) == ["d10", "d04"]


def test_clause_scores_add_up_with_their_weights(loaded: Backend) -> None:
    def scores(*clauses: tuple[str, float]) -> dict[str, float]:
        request = LexicalRequest(
            channel="bm25", clauses=[QueryClause(text=t, weight=w) for t, w in clauses], fields=TEXT_FIELDS
        )
        result = loaded.search_lexical(request)
        return dict(zip(result.ids, result.scores, strict=True))

    single = scores(("blue shirt", 1.0))
    assert scores(("blue shirt", 1.0), ("blue shirt", 1.0)) == pytest.approx(
        {i: 2 * s for i, s in single.items()}
    )
    assert scores(("blue shirt", 0.5)) == pytest.approx({i: 0.5 * s for i, s in single.items()})
    both = scores(("wallet", 1.0), ("backpack", 0.5))
    assert both == pytest.approx(
        {"d04": scores(("wallet", 1.0))["d04"], "d10": scores(("backpack", 0.5))["d10"]}
    )


def test_lexical_filters(loaded: Backend) -> None:
    assert lexical(
        loaded, "blue shirt", fields={"title": 1.0}, filters=[TermFilter(field="gender", value="MEN")]
    ) == [
        "d03",
        "d01",
        "d09",
    ]
    in_range = [RangeFilter(field="year", gte=2012, lt=2016)]
    assert lexical(loaded, "blue shirt", fields={"title": 1.0}, filters=in_range) == ["d03", "d02"]


# -- filters (checked through vector search: with k large it returns every allowed item with a vector) ----

FILTER_CASES: list[tuple[list, set[str]]] = [
    ([TermFilter(field="gender", value="men")], {"d01", "d03"}),
    ([TermFilter(field="gender", value="WOMEN")], {"d02", "d05"}),
    ([TermsFilter(field="gender", values=["unisex", "Women"])], {"d02", "d04", "d05"}),
    ([TermFilter(field="colours", value="White")], {"d03", "d05"}),
    ([TermsFilter(field="colours", values=["red", "brown"])], {"d01", "d04"}),
    ([TermFilter(field="tags", value="shirt")], {"d01", "d03"}),
    ([TermFilter(field="sizes", value="m")], {"d01"}),
    ([TermFilter(field="id", value="d04")], {"d04"}),
    ([TermsFilter(field="id", values=["d04", "d05", "nope"])], {"d04", "d05"}),
    ([RangeFilter(field="year", gte=2012, lte=2015)], {"d02", "d03", "d04"}),  # "2015" is read as a number
    ([RangeFilter(field="year", gt=2015)], {"d05"}),
    ([RangeFilter(field="size", lt=43)], {"d05"}),  # the text "42" is read as a number
    ([TermFilter(field="year", value=2015)], {"d03"}),  # text "2015" equals str(2015)
    ([TermFilter(field="year", value="2011")], {"d01"}),  # number 2011 equals text "2011"
    ([TermFilter(field="rating", value=4)], {"d01"}),  # 4.0 == 4
    ([TermFilter(field="rating", value="4")], set()),  # str(4.0) is "4.0", not "4"
    ([TermFilter(field="in_stock", value=True)], {"d02"}),
    ([TermFilter(field="in_stock", value="TRUE")], {"d02"}),
    ([TermFilter(field="in_stock", value=1)], {"d02"}),
    ([TermFilter(field="missing", value="x")], set()),
    ([RangeFilter(field="gender", gte=0)], set()),
    ([TermFilter(field="gender", value="men"), RangeFilter(field="year", gte=2012)], {"d03"}),
]


@pytest.mark.parametrize(("filters", "expected"), FILTER_CASES)
def test_filters_match_the_reference(loaded: Backend, filters: list, expected: set[str]) -> None:
    with_images = {d.id for d in CORPUS if d.image_vector is not None}
    reference = {d.id for d in CORPUS if matches(filter_fields(d), filters)} & with_images
    assert reference == expected
    assert set(vector_ids(loaded, _unit(1, 0, 0, 0), filters=filters, k=100)) == expected


# -- vectors ---------------------------------------------------------------------------------------------


def test_vector_order_and_scores(loaded: Backend) -> None:
    result = loaded.search_vector(
        VectorRequest(channel="vector_image", field="image", vector=_unit(1, 0, 0, 0))
    )
    assert result.channel == "vector_image"
    assert result.ids == ["d03", "d01", "d04", "d02", "d05"]
    assert result.scores == pytest.approx([1.0, 0.8, 0.6, 0.0, -0.6], abs=1e-6)


def test_vector_k_field_and_filters(loaded: Backend) -> None:
    assert vector_ids(loaded, _unit(1, 0, 0, 0), k=2) == ["d03", "d01"]
    assert vector_ids(loaded, _unit(1, 0, 0, 0), field="text") == ["d02", "d01"]
    women = [TermFilter(field="gender", value="women")]
    assert vector_ids(loaded, _unit(1, 0, 0, 0), filters=women) == ["d02", "d05"]
    assert vector_ids(loaded, _unit(1, 0, 0, 0), filters=[TermFilter(field="gender", value="none")]) == []


def test_vector_search_on_empty_backend(backend: Backend) -> None:
    assert vector_ids(backend, _unit(1, 0, 0, 0)) == []
    assert lexical(backend, "shirt") == []
    assert backend.count() == 0
    assert backend.vocabulary() == {}


# -- vocabulary ------------------------------------------------------------------------------------------


def test_vocabulary_counts_documents_per_unstemmed_word(backend: Backend) -> None:
    backend.upsert(
        [
            _doc(
                "a",
                "Crème Shirts",
                "red shirt",
                {"gender": "Men", "year": 2011},
                colours=("red",),
                tags=("shirt",),
            ),
            _doc("b", "Red Dress", generated="a dress"),
        ]
    )
    assert backend.vocabulary() == {
        "creme": 1,
        "shirts": 1,
        "shirt": 1,
        "red": 2,
        "men": 1,
        "2011": 1,
        "dress": 1,
        "a": 1,
    }
    backend.delete(["a"])
    assert backend.vocabulary() == {"red": 1, "dress": 1, "a": 1}


def test_present_fields_of_the_shared_scenario(backend: Backend) -> None:
    import backend_scenarios as sc

    sc.load(backend)
    sc.check_present_fields(backend)


@pytest.mark.parametrize(
    "check",
    [
        "check_lexical_parity",
        "check_filters",
        "check_vector_parity",
        "check_documents",
        "check_image_feedback",
    ],
)
def test_the_shared_cluster_scenarios(backend: Backend, check: str) -> None:
    # The scenarios the cluster backends pass against MemoryBackend (tests/backend_scenarios.py), here
    # too: every backend is held to the same data set and the same checks.
    import backend_scenarios as sc

    sc.load(backend)
    getattr(sc, check)(backend)
