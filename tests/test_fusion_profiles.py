"""Built-in fusion profiles: the blend an index searches with follows its share of image-only products,
unless weights were written down (config, ``tune``) or the query gives its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blendsearch.backends.memory import MemoryBackend
from blendsearch.config import EngineConfig, SearchSettings
from blendsearch.documents import Document
from blendsearch.encoders.fake import HashEncoder
from blendsearch.engine import Engine
from blendsearch.eval.tune import TunedSettings
from blendsearch.query.models import HybridQuery
from blendsearch.query.profiles import FUSION_PROFILES, profile_for, resolve_fusion


def _blend(settings: SearchSettings) -> tuple[dict[str, float], str, str, float]:
    return settings.weights, settings.normalisation, settings.combination, settings.rrf_k


def _profile_blend(name: str) -> tuple[dict[str, float], str, str, float]:
    p = next(p for p in FUSION_PROFILES if p.name == name)
    return p.weights, p.normalisation, p.combination, p.rrf_k


def test_settings_written_down_are_fixed() -> None:
    assert SearchSettings().fusion_profile == "auto"
    assert SearchSettings(candidates=50).fusion_profile == "auto"  # not a blend field
    assert SearchSettings(weights={"bm25": 1.0}).fusion_profile == "fixed"
    assert SearchSettings(combination="weighted_mean").fusion_profile == "fixed"
    assert SearchSettings(rrf_k=10, fusion_profile="auto").fusion_profile == "auto"
    # A saved config keeps what it was: the dump names fusion_profile, so saved defaults stay "auto".
    saved = EngineConfig().model_dump_json()
    assert EngineConfig.model_validate_json(saved).search.fusion_profile == "auto"
    # An index saved before profiles existed (explicit weights, no fusion_profile) keeps its blend.
    old = json.loads(saved)
    del old["search"]["fusion_profile"]
    assert EngineConfig.model_validate(old).search.fusion_profile == "fixed"
    # Tuned settings are written down.
    tuned = TunedSettings(weights={"bm25": 2.0}, normalisation="minmax", combination="rrf", rrf_k=100.0)
    assert tuned.apply(SearchSettings()).fusion_profile == "fixed"


def test_profile_is_the_nearest_kind_of_catalogue() -> None:
    assert profile_for(0.0).name == "full"
    assert profile_for(0.1).name == "full"
    assert profile_for(0.41).name == "sparse"
    assert profile_for(0.6).name == "sparse"
    assert profile_for(0.9).name == "images"
    assert profile_for(1.0).name == "images"


def test_resolve_keeps_fixed_and_unknown() -> None:
    fixed = SearchSettings(weights={"bm25": 1.0, "metadata": 1.0})
    assert resolve_fusion(fixed, 1.0) is fixed
    auto = SearchSettings()
    assert resolve_fusion(auto, None) is auto
    images = resolve_fusion(auto, 1.0)
    assert _blend(images) == _profile_blend("images")
    assert images.candidates == auto.candidates and images.text_fields == auto.text_fields


def _docs(with_text: int, image_only: int) -> list[Document]:
    docs = [
        Document(id=f"t{i}", title=f"blue cotton shirt {i}", attributes={"colour": "Blue"})
        for i in range(with_text)
    ]
    for i in range(image_only):
        docs.append(Document(id=f"i{i}", image=f"img{i % 2}.png"))
    return docs


@pytest.fixture()
def images(tmp_path: Path) -> Path:
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (32, 32), (20, 40, 200)).save(folder / "img0.png")
    Image.new("RGB", (32, 32), (200, 40, 20)).save(folder / "img1.png")
    return folder


def test_engine_blends_with_the_profile_of_its_share(tmp_path: Path, images: Path) -> None:
    config = EngineConfig()
    config.fields.image_root = str(images)
    with Engine.open(tmp_path / "idx", config, backend=MemoryBackend(), encoder=HashEncoder(dim=8)) as engine:
        assert engine.image_only_share() is None  # empty: the settings' own blend
        assert _blend(engine.search_settings()) == _blend(engine.config.search)
        engine.ingest(_docs(6, 0))
        assert engine.image_only_share() == 0.0
        assert _blend(engine.search_settings()) == _profile_blend("full")
        engine.ingest(_docs(0, 4))  # 4 of 10 image-only
        assert engine.image_only_share() == pytest.approx(0.4)
        assert _blend(engine.search_settings()) == _profile_blend("sparse")
        run = engine.plan("blue shirt")
        assert _blend(run.settings) == _profile_blend("sparse")
        # The query's own weights still win over the profile's.
        mine = engine.plan(HybridQuery(text="blue shirt", weights={"bm25": 3.0}))
        assert mine.settings.weights["bm25"] == 3.0
        assert engine.config.search.fusion_profile == "auto"  # nothing written
        stats = engine.stats()
        assert (stats.image_only_share, stats.fusion) == (0.4, "profile sparse")


def test_written_weights_are_searched_as_written(tmp_path: Path, images: Path) -> None:
    config = EngineConfig(search=SearchSettings(weights={"bm25": 1.0, "metadata": 1.0}, combination="rrf"))
    config.fields.image_root = str(images)
    with Engine.open(tmp_path / "idx", config, backend=MemoryBackend(), encoder=HashEncoder(dim=8)) as engine:
        engine.ingest(_docs(0, 4))
        assert engine.image_only_share() == 1.0
        assert engine.search_settings() is engine.config.search
        assert engine.stats().fusion == "fixed"
