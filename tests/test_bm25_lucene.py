"""The embedded backend's BM25 is Lucene's, over the fields as one (BM25F): checked against the formula
written out here in plain Python."""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from pathlib import Path

import pytest

from blendsearch.backends.base import Backend, LexicalRequest, QueryClause
from blendsearch.backends.bm25f import field_weights
from blendsearch.backends.embedded import EmbeddedBackend
from blendsearch.backends.embedded.lexical import FOLDER, MARKER
from blendsearch.backends.memory import MemoryBackend
from blendsearch.documents import StoredDocument
from blendsearch.exceptions import BackendError, ConfigError, MissingDependencyError
from blendsearch.filters import TermFilter
from blendsearch.text import analyze

pytest.importorskip("tantivy", reason="tantivy is the embedded backend's Lucene BM25")

FIELDS = ("title", "description", "attributes")


#: "men" is in 5 of the 8 documents (more than half): FTS5 scores it ~0, Lucene does not.
def _doc(id_: str, title: str, description: str = "", **attributes: str) -> StoredDocument:
    return StoredDocument(id=id_, title=title, description=description, attributes=attributes)


CORPUS = [
    _doc("p1", "Navy Blue Shirt", "cotton shirt", gender="Men"),
    _doc("p2", "Boys Navy Blue Shirt", gender="Boys"),
    _doc("p3", "Men Blue Backpack", "a bag for men", gender="Men"),
    _doc("p4", "Women Handbag", "leather bag", gender="Women"),
    _doc("p5", "Men Black Shoes", gender="Men", kind="Shoes"),
    _doc("p6", "White Shirt", "linen shirt shirt", gender="Men"),
    _doc("p7", "Women Navy Dress", gender="Women"),
    _doc("p8", "Men Grey Socks", gender="Men"),
]


def _field_text(doc: StoredDocument, field: str) -> str:
    return {"title": doc.title, "description": doc.description, "attributes": doc.attributes_text()}[field]


def lucene_bm25(
    docs: list[StoredDocument], clauses: list[tuple[str, float]], boosts: dict[str, float]
) -> dict[str, float]:
    """Reference BM25F: sum over clauses and the clause's distinct terms of
    weight * ln(1 + (N - n + 0.5) / (n + 0.5)) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)),
    k1 = 1.2, b = 0.75, where tf and dl are sums over the fields of w_f times the field's term count and
    length, avgdl the mean dl over all N documents, n the documents with the term in any field, and w_f
    the boosts over the smallest, made whole (WEIGHTS)."""
    weights = WEIGHTS[tuple(sorted(boosts.items()))]
    k1, b, n_docs = 1.2, 0.75, len(docs)
    terms = {(d.id, f): Counter(analyze(_field_text(d, f))) for d in docs for f in weights}
    dl = {d.id: sum(w * sum(terms[d.id, f].values()) for f, w in weights.items()) for d in docs}
    avgdl = sum(dl.values()) / n_docs
    scores: dict[str, float] = {}
    for text, weight in clauses:
        for term in set(analyze(text)):
            tf = {d.id: sum(w * terms[d.id, f][term] for f, w in weights.items()) for d in docs}
            df = sum(1 for v in tf.values() if v)
            if not df:
                continue
            idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
            for id_, freq in tf.items():
                if freq:
                    part = freq * (k1 + 1) / (freq + k1 * (1 - b + b * dl[id_] / avgdl))
                    scores[id_] = scores.get(id_, 0.0) + weight * idf * part
    return scores


#: The integer BM25F weights of each set of boosts used here (boosts / the smallest, made whole).
WEIGHTS = {
    (("attributes", 1.0), ("description", 1.0), ("title", 2.0)): {
        "title": 2,
        "description": 1,
        "attributes": 1,
    },
    (("title", 1.0),): {"title": 1},
    (("description", 3.0), ("title", 1.0)): {"title": 1, "description": 3},
    (("attributes", 0.5), ("title", 2.0)): {"title": 4, "attributes": 1},
    (("attributes", 1.0), ("title", 2.0)): {"title": 2, "attributes": 1},
    (("description", 1.0), ("title", 2.0)): {"title": 2, "description": 1},
    (("attributes", 1.0), ("description", 0.5)): {"attributes": 2, "description": 1},
}


def test_boosts_become_integer_weights() -> None:
    for boosts, weights in WEIGHTS.items():
        assert field_weights(dict(boosts)) == weights
    assert field_weights({"title": 1.5, "tags": 1.0, "colours": 0.0}) == {"title": 3, "tags": 2}
    assert field_weights({"title": 1.0, "tags": 1 / 3}) == {"title": 3, "tags": 1}
    assert field_weights({"title": 1.0, "tags": 0.123}) == {"title": 81, "tags": 10}  # finer: rounded x10
    assert field_weights({"title": 0.0}) == {}


@pytest.fixture
def backend(tmp_path: Path):  # noqa: ANN201
    with EmbeddedBackend(tmp_path / "index", lexical="tantivy") as opened:
        opened.upsert(CORPUS)
        yield opened


def _search(backend: Backend, clauses: list[tuple[str, float]], boosts: dict[str, float], **kw):  # noqa: ANN202
    request = LexicalRequest(
        channel="bm25", clauses=[QueryClause(text=t, weight=w) for t, w in clauses], fields=boosts, **kw
    )
    return backend.search_lexical(request)


def _ranked(scores: dict[str, float], k: int = 100) -> list[str]:
    return [i for i, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))][:k]


@pytest.mark.parametrize(
    ("clauses", "boosts"),
    [
        ([("navy blue shirt men", 1.0)], {"title": 2.0, "description": 1.0, "attributes": 1.0}),
        ([("men", 1.0)], {"title": 1.0}),
        ([("shirt shirts", 1.0), ("bag", 0.5)], {"title": 1.0, "description": 3.0}),
        ([("blue", 1.0), ("navy", 0.25), ("women handbag", 0.5)], {"title": 2.0, "attributes": 0.5}),
    ],
)
def test_scores_equal_the_lucene_formula(
    backend: EmbeddedBackend, clauses: list[tuple[str, float]], boosts: dict[str, float]
) -> None:
    expected = lucene_bm25(CORPUS, clauses, boosts)
    result = _search(backend, clauses, boosts)
    assert result.ids == _ranked(expected)
    assert result.scores == pytest.approx([expected[i] for i in result.ids], abs=1e-4)


def test_a_word_in_over_half_the_documents_still_counts(backend: EmbeddedBackend, tmp_path: Path) -> None:
    boosts = {"title": 2.0, "description": 1.0, "attributes": 1.0}
    men = _search(backend, [("men", 1.0)], boosts)
    assert set(men.ids) == {"p1", "p3", "p5", "p6", "p8"} and min(men.scores) > 0.1
    # "navy blue shirt men": the men's shirt beats the boys' shirt it tied with on "navy blue shirt".
    ranked = _search(backend, [("navy blue shirt men", 1.0)], boosts).ids
    assert ranked.index("p1") < ranked.index("p2")
    # FTS5's bm25() gives the same word an IDF of ~0 (what lexical="fts5" keeps).
    backend.close()
    with EmbeddedBackend(tmp_path / "index", lexical="fts5") as fts5:
        old = _search(fts5, [("men", 1.0)], boosts)
        assert max(old.scores) < 1e-4


def test_top_k_keeps_ties_by_id_and_filters(backend: EmbeddedBackend) -> None:
    boosts = {"title": 1.0}
    expected = lucene_bm25(CORPUS, [("navy", 1.0)], boosts)
    assert expected["p1"] == expected["p7"] > expected["p2"]  # "navy" in two 3-word titles and a 4-word one
    assert _search(backend, [("navy", 1.0)], boosts, k=1).ids == ["p1"]
    assert _search(backend, [("navy", 1.0)], boosts, k=2).ids == ["p1", "p7"]
    women = [TermFilter(field="gender", value="Women")]
    filtered = _search(backend, [("navy blue", 1.0)], boosts, filters=women, k=5)
    assert filtered.ids == ["p7"] and filtered.scores == pytest.approx([expected["p7"]], abs=1e-4)


def test_writes_are_kept_in_step(backend: EmbeddedBackend) -> None:
    boosts = {"title": 1.0}
    assert backend.delete(["p2"]) == 1
    assert "p2" not in _search(backend, [("navy", 1.0)], boosts).ids
    backend.upsert([StoredDocument(id="p9", title="Navy Socks")])
    backend.upsert([CORPUS[0].model_copy(update={"title": "Linen Trousers"})])
    assert _search(backend, [("navy", 1.0)], boosts).ids == ["p9", "p7"]
    assert _search(backend, [("trousers", 1.0)], boosts).ids == ["p1"]
    marker = json.loads((backend.path / FOLDER / MARKER).read_text())
    assert marker["generation"] == backend._generation()


def test_each_set_of_weights_is_indexed_once_and_kept_by_writes(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A channel's weights get their combined field on first search (a rebuild); writes fill them all."""
    title, mixed = {"title": 1.0}, {"title": 2.0, "description": 1.0}
    _search(backend, [("navy", 1.0)], title)
    _search(backend, [("shirt", 1.0)], mixed)
    marker = json.loads((backend.path / FOLDER / MARKER).read_text())
    assert marker["profiles"] == [[["title", 1]], [["description", 1], ["title", 2]]]

    def no_rebuild(*args: object) -> None:
        raise AssertionError("rebuilt")

    monkeypatch.setattr(backend._lexical_index(), "rebuild", no_rebuild)
    added = StoredDocument(id="p9", title="Navy Shirt", description="a shirt")
    backend.upsert([added])
    for clauses, boosts in [([("shirt", 1.0)], mixed), ([("navy shirt", 1.0)], title)]:
        expected = lucene_bm25([*CORPUS, added], clauses, boosts)
        result = _search(backend, clauses, boosts)
        assert result.ids == _ranked(expected)
        assert result.scores == pytest.approx([expected[i] for i in result.ids], abs=1e-4)


def test_configured_weights_are_indexed_from_the_first_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mixed = {"title": 2.0, "description": 1.0}
    with EmbeddedBackend(tmp_path / "index", lexical="tantivy", lexical_fields=[mixed]) as opened:
        opened.upsert(CORPUS)
        monkeypatch.setattr(opened._lexical_index(), "rebuild", None)  # a rebuild would raise TypeError
        expected = lucene_bm25(CORPUS, [("navy shirt", 1.0)], mixed)
        assert _search(opened, [("navy shirt", 1.0)], mixed).ids == _ranked(expected)
        marker = json.loads((opened.path / FOLDER / MARKER).read_text())
        assert marker["profiles"] == [[["description", 1], ["title", 2]]]


def test_a_read_only_index_searches_the_weights_it_holds(tmp_path: Path) -> None:
    title, mixed = {"title": 1.0}, {"title": 2.0, "description": 1.0}
    with EmbeddedBackend(tmp_path / "index", lexical="tantivy", lexical_fields=[title]) as opened:
        opened.upsert(CORPUS)
    path, both = tmp_path / "index", [title, mixed]
    with EmbeddedBackend(path, lexical="tantivy", lexical_fields=both, read_only=True) as reader:
        expected = lucene_bm25(CORPUS, [("navy", 1.0)], title)
        assert _search(reader, [("navy", 1.0)], title).ids == _ranked(expected)
        with pytest.raises(BackendError, match="stale and cannot be rebuilt"):
            _search(reader, [("navy", 1.0)], mixed)


def test_a_missing_or_stale_index_is_rebuilt_from_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "index"
    with EmbeddedBackend(path, lexical="fts5") as fts5:  # an index built without tantivy
        fts5.upsert(CORPUS)
    assert not (path / FOLDER).exists()
    boosts = {"title": 2.0, "attributes": 1.0}
    expected = lucene_bm25(CORPUS, [("men shirt", 1.0)], boosts)
    with EmbeddedBackend(path) as auto:
        assert _search(auto, [("men shirt", 1.0)], boosts).scores == pytest.approx(
            [expected[i] for i in _ranked(expected)], abs=1e-4
        )
    with EmbeddedBackend(path, lexical="fts5") as fts5:  # a write tantivy does not see
        fts5.delete(["p1"])
    with EmbeddedBackend(path, lexical="tantivy") as again:
        ids = _search(again, [("men shirt", 1.0)], boosts).ids
        rest = [d for d in CORPUS if d.id != "p1"]
        assert ids == _ranked(lucene_bm25(rest, [("men shirt", 1.0)], boosts))


def test_modes_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="unknown lexical 'lucene'"):
        EmbeddedBackend(tmp_path / "a", lexical="lucene")  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "tantivy", None)
    with pytest.raises(MissingDependencyError, match="pip install tantivy"):
        EmbeddedBackend(tmp_path / "b", lexical="tantivy")
    with EmbeddedBackend(tmp_path / "c") as auto:  # auto without tantivy: FTS5
        auto.upsert(CORPUS)
        assert _search(auto, [("handbag", 1.0)], {"title": 1.0}).ids == ["p4"]
    assert not (tmp_path / "c" / FOLDER).exists()


def test_scores_equal_the_reference_backend(backend: EmbeddedBackend) -> None:
    """MemoryBackend is the semantics the cluster request bodies are contract-tested against."""
    memory = MemoryBackend()
    memory.upsert(CORPUS)
    for clauses, boosts in [
        ([("navy blue shirt men", 1.0), ("navi shirts", 0.5)], {"title": 2.0, "description": 1.0}),
        ([("women bag", 1.0)], {"attributes": 1.0, "description": 0.5}),
    ]:
        embedded, reference = _search(backend, clauses, boosts), _search(memory, clauses, boosts)
        assert embedded.ids == reference.ids
        assert embedded.scores == pytest.approx(reference.scores, abs=1e-4)


def test_batches_lost_before_their_commit_are_rebuilt(tmp_path: Path) -> None:
    """Batches are committed to tantivy together (before a search, on close); a process killed before
    that leaves the folder at an older generation than SQLite, and the next search rebuilds it."""
    path = tmp_path / "index"
    backend = EmbeddedBackend(path, lexical="tantivy")
    backend.upsert(CORPUS[:4])
    assert _search(backend, [("navy", 1.0)], {"title": 1.0}).ids == ["p1", "p2"]  # committed
    backend.upsert(CORPUS[4:])
    backend._lexical_index().discard()  # what a kill -9 loses: the uncommitted batch
    committed = json.loads((path / FOLDER / MARKER).read_text())["generation"]
    assert committed == backend._generation() - 1
    backend.close()
    with EmbeddedBackend(path, lexical="tantivy") as reopened:
        expected = lucene_bm25(CORPUS, [("navy", 1.0)], {"title": 1.0})
        result = _search(reopened, [("navy", 1.0)], {"title": 1.0})
        assert result.ids == _ranked(expected) == ["p1", "p7", "p2"]
        assert result.scores == pytest.approx([expected[i] for i in result.ids], abs=1e-4)
