"""An index of examples/shop with the built-in hash encoder (vectors without a model download) and a
TestClient over it, with and without an API key."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="blendsearch serve needs fastapi (pip install blendsearch)")

from fastapi.testclient import TestClient  # noqa: E402
from pinned_settings import four_channel_search  # noqa: E402
from serve_helpers import API_KEY, SHOP, hand_calibration, make_client  # noqa: E402

from blendsearch import Engine, EngineConfig, FieldMapping  # noqa: E402


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/shop ingested once per session; tests copy it when they write."""
    index = tmp_path_factory.mktemp("serve") / "shop-index"
    # Fusion pinned (four channels, min-max weighted mean), not the library defaults: the expected ids,
    # explained channels and the page's sliders in tests/serve depend on it.
    config = EngineConfig(fields=FieldMapping(numeric=["price"]), search=four_channel_search())
    config.encoder.model = "hash:64"
    with Engine.open(index, config) as engine:
        summary = engine.ingest(SHOP / "catalog.jsonl")
    assert summary.indexed == 24
    return index


@pytest.fixture()
def index_copy(built_index: Path, tmp_path: Path) -> Path:
    """A private copy for tests that write."""
    target = tmp_path / "shop-index"
    shutil.copytree(built_index, target)
    return target


@pytest.fixture()
def client(built_index: Path) -> Iterator[TestClient]:
    """Read-only client (no API key configured: writes are off)."""
    with make_client(built_index) as test_client:
        yield test_client


@pytest.fixture()
def writer(index_copy: Path) -> Iterator[TestClient]:
    """Client with an API key configured, over a private copy of the index."""
    with make_client(index_copy, api_key=API_KEY) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def calibrated_index(built_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop index with :func:`hand_calibration` saved, so hits have probabilities."""
    from blendsearch.calibration import save_calibration

    target = tmp_path_factory.mktemp("calibrated") / "shop-index"
    shutil.copytree(built_index, target)
    save_calibration(target, hand_calibration())  # type: ignore[arg-type]
    return target
