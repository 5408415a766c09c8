"""The Engine end to end on the example shop: ingest, search, explain, filters, rejects, idempotency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pinned_settings import FOUR_CHANNEL_COMBINATION, FOUR_CHANNEL_NORMALISATION, FOUR_CHANNEL_WEIGHTS

from blendsearch.backends.memory import MemoryBackend
from blendsearch.config import EngineConfig, FieldMapping
from blendsearch.encoders.fake import HashEncoder
from blendsearch.engine import Engine
from blendsearch.filters import RangeFilter, TermFilter
from blendsearch.query.models import HybridQuery
from blendsearch.query.profiles import profile_for


def _config() -> EngineConfig:
    return EngineConfig(fields=FieldMapping(numeric=["price"]))


def test_ingest_and_lexical_search_without_model(tmp_path: Path, shop: Path) -> None:
    with Engine.open(tmp_path / "idx", _config(), backend=MemoryBackend()) as engine:
        summary = engine.ingest(shop / "catalog.jsonl")
        assert (summary.read, summary.indexed, summary.rejected) == (24, 24, 0)
        result = engine.search("red dress")
        assert result.hits[0].id == "p009"  # "Wrap midi dress", colour Red
        assert result.channels == ["bm25", "metadata"]
        assert any("no model configured" in n for n in result.notices)
        top = result.hits[0]
        assert top.document is not None and top.document.title == "Wrap midi dress"
        assert top.channels["bm25"].raw is not None and top.channels["bm25"].rank == 1
        assert sum(c.contribution for c in top.channels.values()) == pytest.approx(top.score)


def test_image_only_item_found_by_generated_colour(tmp_path: Path, shop: Path) -> None:
    with Engine.open(tmp_path / "idx", _config(), backend=MemoryBackend()) as engine:
        engine.ingest(shop / "catalog.jsonl")
        hits = engine.search(HybridQuery(text="yellow", k=5)).hits
        ids = [h.id for h in hits]
        assert "p023" in ids  # image-only yellow shoe: no title, colour generated from the photo
        p023 = next(h for h in hits if h.id == "p023")
        assert "Yellow" in p023.colours
        assert p023.channels["metadata"].raw is not None


def test_filters_and_pagination(tmp_path: Path, shop: Path) -> None:
    with Engine.open(tmp_path / "idx", _config(), backend=MemoryBackend()) as engine:
        engine.ingest(shop / "catalog.jsonl")
        query = HybridQuery(
            text="sneakers shoes",
            filters=[TermFilter(field="gender", value="women"), RangeFilter(field="price", lt=60)],
            k=10,
        )
        hits = engine.search(query).hits
        assert hits and all(h.document.attributes["gender"] == "Women" for h in hits)
        assert all(h.document.attributes["price"] < 60 for h in hits)
        everything = engine.search(HybridQuery(text="shoes", k=4)).hits
        second_page = engine.search(HybridQuery(text="shoes", k=2, offset=2)).hits
        assert [h.id for h in second_page] == [h.id for h in everything[2:4]]


def test_reingest_is_idempotent_and_delete_works(tmp_path: Path, shop: Path) -> None:
    backend = MemoryBackend()
    with Engine.open(tmp_path / "idx", _config(), encoder=HashEncoder(dim=32), backend=backend) as engine:
        first = engine.ingest(shop / "catalog.jsonl")
        again = engine.ingest(shop / "catalog.jsonl")
        assert first.written == 24
        assert (again.read, again.indexed, again.written, again.unchanged) == (24, 24, 0, 24)
        assert engine.delete(["p001", "nope"]) == 1
        assert backend.count() == 23


def test_vectors_image_query_finds_the_same_picture(tmp_path: Path, shop: Path) -> None:
    with Engine.open(
        tmp_path / "idx", _config(), encoder=HashEncoder(dim=32), backend=MemoryBackend()
    ) as engine:
        engine.ingest(shop / "catalog.jsonl")
        result = engine.search(HybridQuery(image=str(shop / "images" / "p010.png"), k=3))
        assert result.channels == ["vector_image"]
        assert result.hits[0].id == "p010"
        assert result.hits[0].channels["vector_image"].raw == pytest.approx(1.0, abs=1e-5)
        # A text query on this full-text catalogue blends with the full-text fusion profile.
        assert engine.image_only_share() == 0.0  # p023 has no title, but its attributes are text
        weighted_on = {c for c, w in profile_for(0.0).weights.items() if w > 0}
        assert set(engine.search("satin gown").channels) == weighted_on
        # SearchSettings' own blend (what a query with an image uses) weights vector_text 0: it does not run.
        own = engine.config.search
        blend = {"weights": own.weights, "combination": own.combination, "rrf_k": own.rrf_k}
        text = engine.search(HybridQuery(text="satin gown", **blend))
        assert set(text.channels) == {"bm25", "metadata", "vector_image"}
        assert text.hits[0].id == "p010"
        pinned = {"combination": FOUR_CHANNEL_COMBINATION, "normalisation": FOUR_CHANNEL_NORMALISATION}
        weighted = engine.search(HybridQuery(text="satin gown", weights=FOUR_CHANNEL_WEIGHTS, **pinned))
        assert set(weighted.channels) == {"bm25", "metadata", "vector_image", "vector_text"}
        assert weighted.hits[0].id == "p010"


def test_model_change_turns_vectors_off_until_reingest(tmp_path: Path, shop: Path) -> None:
    backend = MemoryBackend()
    with Engine.open(tmp_path / "idx", _config(), encoder=HashEncoder(dim=32), backend=backend) as engine:
        engine.ingest(shop / "catalog.jsonl")
    with Engine.open(tmp_path / "idx", encoder=HashEncoder(dim=16), backend=backend) as engine:
        result = engine.search("red dress")
        assert "vector_image" not in result.channels
        assert any("re-ingested" in n for n in result.notices)


def test_bad_items_are_rejected_with_reasons(tmp_path: Path, shop: Path) -> None:
    (shop / "images" / "corrupt.png").write_bytes(b"not an image at all")
    rows = [
        {"id": "ok1", "title": "Plain tee", "image": "images/p001.png"},
        {"title": "no id here", "image": "images/p002.png"},
        {"id": "bad-img", "title": "Corrupt", "image": "images/corrupt.png"},
        {"id": "gone", "title": "Missing file", "image": "images/nope.png"},
        {"id": "typed", "title": {"not": "text"}},
        {"id": "ok1", "title": "Duplicate id"},
    ]
    catalog = shop / "bad.jsonl"
    catalog.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken json\n")
    rejects = tmp_path / "rejects.jsonl"
    with Engine.open(tmp_path / "idx", _config(), backend=MemoryBackend()) as engine:
        summary = engine.ingest(catalog, rejects=rejects)
    assert summary.read == 7
    assert summary.read == summary.indexed + summary.rejected
    assert summary.indexed == 1
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    lines.sort(key=lambda r: r["position"])
    assert len(lines) == summary.rejected == 6
    # One reject per bad row, each for its own reason (the duplicate's "id" must not stand in for the
    # missing id), carrying the row it came from.
    got = [(r["position"], r["id"], r["stage"], r["reason"].split(" (")[0].split(":")[0]) for r in lines]
    assert got == [
        (2, None, "read", "missing id"),
        (3, "bad-img", "image", "not a recognised image format"),
        (4, "gone", "image", "image 'images/nope.png' not found"),
        (5, "typed", "read", "title"),
        (6, "ok1", "read", "duplicate id"),
        (7, None, "read", "invalid JSON"),
    ]
    assert "expected text" in lines[3]["reason"]
    assert [r["raw"] for r in lines] == [*rows[1:], {"line": "{broken json"}]
