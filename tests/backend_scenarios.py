"""A small hand-made catalogue and the scenarios every cluster backend must pass like MemoryBackend.

Used by the emulator tests (osmem-server, noida-db) and the gated contract suite (a real cluster),
so the three check the same behaviour. Every document fills every lexical field, so per-field BM25
statistics (document count, average length) agree between MemoryBackend and Lucene.
"""

from __future__ import annotations

import numpy as np

from blendsearch.backends.base import Backend, LexicalRequest, QueryClause, VectorRequest
from blendsearch.backends.memory import MemoryBackend
from blendsearch.config import SearchSettings
from blendsearch.documents import Enrichment, StoredDocument
from blendsearch.filters import RangeFilter, TermFilter, TermsFilter
from blendsearch.query.feedback import retrieve
from blendsearch.query.models import HybridQuery
from blendsearch.search_fields import USER_TEXT_FIELDS, present_fields

__all__ = [
    "check_documents",
    "check_filters",
    "check_image_feedback",
    "check_lexical_parity",
    "check_vector_parity",
    "FILTER_CASES",
    "LEXICAL_CASES",
    "VECTOR_CASES",
    "catalogue",
    "everything",
    "memory_backend",
    "unit",
]

TEXT_FIELDS = {"title": 2.0, "description": 1.0, "attributes": 1.0}
META_FIELDS = {"attributes": 1.0, "colours": 1.0, "tags": 1.0, "generated": 0.5}


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


_ROWS = [
    # id, title, description, attributes, colours, tags, generated, image vector, text vector
    ("p01", "Red Running Shoes", "Lightweight shoes for road running",
     {"gender": "Men", "articleType": "Sports Shoes", "year": 2012, "size": "42", "catalogue": "demo"},
     ["red"], ["sports"], "a red shoe on white", (1, 0, 0, 0), (1, 0.1, 0, 0)),
    ("p02", "Blue Denim Jeans", "Slim fit stretch denim",
     {"gender": "Women", "articleType": "Jeans", "year": 2015, "size": "30", "catalogue": "demo"},
     ["blue"], ["casual"], "blue trousers folded", (0, 1, 0, 0), (0, 1, 0.2, 0)),
    ("p03", "Crème Leather Handbag", "Soft leather bag with a zip",
     {"gender": "Women", "articleType": "Handbags", "year": 2016, "size": "onesize", "catalogue": "demo"},
     ["beige"], ["formal"], "a cream bag", (0, 0, 1, 0), (0, 0, 1, 0.1)),
    ("p04", "Red Cotton T-Shirt", "Crew neck cotton tee",
     {"gender": "Men", "articleType": "Tshirts", "year": 2012, "size": "40", "catalogue": "demo"},
     ["red"], ["casual"], "red top on a hanger", (0.9, 0.1, 0, 0.1), (0.8, 0, 0, 0.3)),
    ("p05", "Black Formal Shoes", "Leather shoes for office wear",
     {"gender": "Men", "articleType": "Formal Shoes", "year": 2018, "size": "44", "catalogue": "demo"},
     ["black"], ["formal"], "black shoes pair", (0.5, 0, 0.5, 0.5), (0.3, 0, 0.3, 0.9)),
    ("p06", "Green Running Jacket", "Windproof jacket for running in rain",
     {"gender": "Unisex", "articleType": "Jackets", "year": 2019, "size": "38", "catalogue": "demo"},
     ["green"], ["sports"], "green jacket zipped", (0, 0.5, 0, 1), (0.1, 0.4, 0, 1)),
    ("p07", "White Canvas Sneakers", "Casual canvas shoes",
     {"gender": "Women", "articleType": "Casual Shoes", "year": 2014, "size": "37", "catalogue": "demo"},
     ["white"], ["casual"], "white shoes with laces", (0.7, 0.7, 0, 0), (0.6, 0.6, 0.1, 0)),
    ("p08", "Blue Silk Scarf", "Printed silk scarf",
     {"gender": "Women", "articleType": "Scarves", "year": 2011, "size": "onesize", "catalogue": "demo"},
     ["blue", "white"], ["accessory"], "a patterned scarf", (0, 0.6, 0.8, 0), (0, 0.7, 0.7, 0)),
    ("p09", "Brown Leather Belt", "Classic leather belt with metal buckle",
     {"gender": "Men", "articleType": "Belts", "year": 2017, "size": "34", "catalogue": "demo"},
     ["brown"], ["accessory"], "brown belt coiled", (0.2, 0, 0.9, 0.4), (0.1, 0.1, 0.9, 0.4)),
]  # fmt: skip


def catalogue() -> list[StoredDocument]:
    """Nine products with attributes (text, int, numeric text), enrichment and unit vectors (dim 4)."""
    docs = []
    for row in _ROWS:
        doc_id, title, description, attributes, colours, tags, generated, image, text = row
        docs.append(
            StoredDocument(
                id=doc_id,
                title=title,
                description=description,
                attributes=attributes,
                enrichment=Enrichment(colours=colours, tags=tags, description=generated),
                content_hash=f"hash-{doc_id}",
                image_vector=unit(*image),
                text_vector=unit(*text),
            )
        )
    return docs


def memory_backend() -> MemoryBackend:
    backend = MemoryBackend()
    backend.upsert(catalogue())
    return backend


def lexical(text: str, channel: str = "bm25", filters: list | None = None, k: int = 10) -> LexicalRequest:
    fields = TEXT_FIELDS if channel == "bm25" else META_FIELDS
    return LexicalRequest(
        channel=channel, clauses=[QueryClause(text=text)], fields=fields, filters=filters or [], k=k
    )


def everything(filters: list) -> LexicalRequest:
    """A request every document matches (all carry ``catalogue: demo``), narrowed by the filters."""
    return lexical("demo", channel="metadata", filters=filters, k=100)


LEXICAL_CASES = {
    "running shoes": lexical("running shoes"),
    "red (metadata)": lexical("red", channel="metadata"),
    "leather bag": lexical("leather bag"),
    "accents fold": lexical("creme handbag"),
    "stems": lexical("jackets runs"),
    "weighted clauses": LexicalRequest(
        channel="bm25",
        clauses=[QueryClause(text="shoes"), QueryClause(text="leather", weight=0.5)],
        fields=TEXT_FIELDS,
        k=10,
    ),
    "filtered": lexical("shoes", filters=[TermFilter(field="gender", value="men")]),
    "no match": lexical("submarine"),
}

FILTER_CASES = {
    "term case-insensitive": [TermFilter(field="gender", value="WOMEN")],
    "terms any of": [TermsFilter(field="articleType", values=["jeans", "Belts"])],
    "range on int": [RangeFilter(field="year", gte=2015, lt=2018)],
    "range on numeric text": [RangeFilter(field="size", gt=39)],
    "term int value": [TermFilter(field="year", value=2012)],
    "term float equals int": [TermFilter(field="year", value=2012.0)],
    "term text vs int": [TermFilter(field="year", value="2012")],
    "generated colours": [TermFilter(field="colours", value="White")],
    "tags": [TermsFilter(field="tags", values=["formal", "accessory"])],
    "id": [TermFilter(field="id", value="P03")],
    "combined": [TermFilter(field="gender", value="men"), RangeFilter(field="year", lte=2013)],
    "missing field": [TermFilter(field="material", value="silk")],
}

VECTOR_CASES = {
    "image": VectorRequest(channel="vector_image", field="image", vector=unit(1, 0.1, 0, 0), k=4),
    "text": VectorRequest(channel="vector_text", field="text", vector=unit(0, 0.5, 0.5, 0), k=3),
    "image filtered": VectorRequest(
        channel="vector_image",
        field="image",
        vector=unit(1, 0.3, 0.2, 0.1),
        k=5,
        filters=[TermFilter(field="gender", value="women")],
    ),
}


def load(backend: Backend) -> None:
    """Write the catalogue and make it searchable."""
    results = backend.upsert(catalogue())
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    backend.flush()


def check_lexical_parity(backend: Backend) -> None:
    """Every lexical case returns MemoryBackend's ids in MemoryBackend's order (scores may be scaled)."""
    reference = memory_backend()
    names = list(LEXICAL_CASES)
    requests = [LEXICAL_CASES[n] for n in names]
    expected = reference.search(requests)
    got = backend.search(requests)
    for name, want, have in zip(names, expected, got, strict=True):
        assert have.channel == want.channel, name
        assert have.ids == want.ids, f"{name}: {have.ids} != {want.ids}"
        assert all(a >= b for a, b in zip(have.scores, have.scores[1:], strict=False)), name


def check_filters(backend: Backend) -> None:
    """Every filter case selects exactly the documents blendsearch.filters.matches selects."""
    reference = memory_backend()
    for name, filters in FILTER_CASES.items():
        want = sorted(reference.search([everything(filters)])[0].ids)
        have = sorted(backend.search([everything(filters)])[0].ids)
        assert have == want, f"{name}: {have} != {want}"


def check_vector_parity(backend: Backend) -> None:
    """k-NN returns MemoryBackend's exact neighbours and their cosines."""
    reference = memory_backend()
    requests = list(VECTOR_CASES.values())
    for name, want, have in zip(
        VECTOR_CASES, reference.search(requests), backend.search(requests), strict=True
    ):
        assert have.ids == want.ids, f"{name}: {have.ids} != {want.ids}"
        np.testing.assert_allclose(have.scores, want.scores, atol=1e-5, err_msg=name)


def check_documents(backend: Backend) -> None:
    """Reads: count, ids, content hashes, documents (with and without vectors), vocabulary, deletes."""
    docs = {d.id: d for d in catalogue()}
    assert backend.count() == len(docs)
    assert sorted(backend.iter_ids()) == sorted(docs)
    assert backend.content_hashes(["p02", "nope", "p01"]) == {"p02": "hash-p02", "p01": "hash-p01"}
    got = backend.get(["p03", "nope", "p01"])
    assert [d.id for d in got] == ["p03", "p01"]
    assert got[0].title == "Crème Leather Handbag" and got[0].image_vector is None
    assert got[0].attributes == docs["p03"].attributes
    assert got[0].enrichment == docs["p03"].enrichment
    with_vectors = backend.get(["p04"], with_vectors=True)[0]
    np.testing.assert_allclose(with_vectors.image_vector, docs["p04"].image_vector, atol=1e-6)
    np.testing.assert_allclose(with_vectors.text_vector, docs["p04"].text_vector, atol=1e-6)
    assert backend.vocabulary() == memory_backend().vocabulary()
    assert backend.delete(["p01", "nope", "p01"]) == 1
    backend.flush()
    assert backend.count() == len(docs) - 1
    assert backend.content_hashes(["p01"]) == {}
    assert "p01" not in backend.search([lexical("running shoes")])[0].ids
    assert backend.vocabulary()["running"] == 1


def check_present_fields(backend: Backend) -> None:
    """Per id, the text fields and vectors it has, as :func:`blendsearch.search_fields.present_fields`
    says: an image-only product has only ``image_vector``; unknown ids are left out."""
    image_only = StoredDocument(id="p10", content_hash="hash-p10", image_vector=unit(0.5, 0.5, 0.5, 0.5))
    assert all(r.ok for r in backend.upsert([image_only]))
    backend.flush()
    docs = [*catalogue(), image_only]
    expected = {d.id: present_fields(d) for d in docs}
    assert expected["p10"] == frozenset({"image_vector"})
    assert backend.present_fields([d.id for d in docs] + ["nope"]) == expected
    assert backend.present_fields([]) == {}
    # The image-only share that picks the built-in fusion profile counts the catalogue's own text only.
    with_text = sum(1 for d in docs if present_fields(d) & set(USER_TEXT_FIELDS))
    assert with_text == len(docs) - 1
    assert backend.count_with_user_text() == with_text


def check_image_feedback(backend: Backend) -> None:
    """Image feedback takes the same word matches, blends the same vector and finds the same photos as on
    MemoryBackend: the two red products lend their photos, and an image-only red lookalike comes up."""
    lookalike = StoredDocument(id="p11", content_hash="hash-p11", image_vector=unit(1, 0.05, 0, 0.05))
    reference = memory_backend()
    for store in (reference, backend):
        assert all(r.ok for r in store.upsert([lookalike]))
        store.flush()
    photo = VectorRequest(channel="vector_image", field="image", vector=unit(0, 0, 0, 1), k=5)
    requests = [lexical("red"), lexical("red", channel="metadata"), photo]
    settings = SearchSettings(image_feedback=2, image_feedback_weight=2.0)
    want = retrieve(reference, HybridQuery(text="red"), requests, settings)
    have = retrieve(backend, HybridQuery(text="red"), requests, settings)
    assert sorted(have[2]) == sorted(want[2]) == ["p01", "p04"]
    np.testing.assert_allclose(have[1][2].vector, want[1][2].vector, atol=1e-6)
    assert have[0][2].ids == want[0][2].ids and "p11" in want[0][2].ids[:3]
