"""Constants and a client factory shared by the serve tests (conftest holds the fixtures)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from blendsearch.serve import ServeSettings, create_app

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"
API_KEY = "test-key"


def make_client(index: Path, **settings: object) -> TestClient:
    """A TestClient over ``index`` with examples/shop as the image root unless overridden."""
    options: dict[str, object] = {"image_root": str(SHOP)}
    options.update(settings)
    return TestClient(create_app(index, ServeSettings(**options)))  # type: ignore[arg-type]


def hand_calibration() -> object:
    """A vector calibration written by hand: p = sigmoid(10 * cos - 5), the hash encoder's own logit."""
    from blendsearch.calibration import Calibration
    from blendsearch.calibration.vector import VectorCalibration

    vector = VectorCalibration(
        temperature=1.0, bias_shift=0.0, scale=10.0, model_bias=-5.0, n=1,
        ece_before=0.0, ece_after=0.0, brier_before=0.0, brier_after=0.0,
    )  # fmt: skip
    return Calibration(vector=vector)
