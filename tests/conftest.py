"""Shared fixtures: an isolated blendsearch home, the shared fashion catalogue (skip where absent)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FASHION_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "fashion-products"
#: The example shop in the repository (24 products with images); tests copy it before changing anything.
SHOP = Path(__file__).resolve().parents[1] / "examples" / "shop"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the user's real cache (trained models, downloaded images)."""
    monkeypatch.setenv("BLENDSEARCH_HOME", str(tmp_path_factory.mktemp("blendsearch-home")))


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """The shared fashion catalogue; tests that need it skip with the reason where it is absent."""
    if not (FASHION_DIR / "products.csv").is_file() or not (FASHION_DIR / "images.zip").is_file():
        pytest.skip(f"shared fashion catalogue not found at {FASHION_DIR} (see README: Benchmarks)")
    return FASHION_DIR


@pytest.fixture()
def shop(tmp_path: Path) -> Path:
    """A writable copy of ``examples/shop``, so a test may add bad rows or files next to the catalogue."""
    return Path(shutil.copytree(SHOP, tmp_path / "shop"))
