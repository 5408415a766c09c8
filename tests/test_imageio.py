"""The neutral image module: an image is prepared (made upright RGB) once, wherever it is opened from."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from blendsearch import imageio
from blendsearch.encoders.fake import HashEncoder
from blendsearch.ingest.images import open_image


def _jpeg(orientation: int | None = None) -> bytes:
    """A 4x2 JPEG, red on the left half, with an EXIF orientation tag when given."""
    image = Image.new("RGB", (4, 2), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 2, 2))
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=100, exif=exif.tobytes())
    return out.getvalue()


def test_an_upright_rgb_image_is_used_as_it_is() -> None:
    image = imageio.decode_image(_jpeg())
    assert imageio.upright_rgb(image) is image
    assert imageio.open_image(image) is image


def test_an_image_not_yet_prepared_is_turned_and_converted() -> None:
    rotated = Image.open(io.BytesIO(_jpeg(orientation=6)))  # "rotate 90 degrees clockwise to view"
    upright = imageio.upright_rgb(rotated)
    assert (upright.mode, upright.size) == ("RGB", (2, 4))
    grey = imageio.upright_rgb(Image.new("L", (3, 3), 7))
    assert (grey.mode, grey.getpixel((0, 0))) == ("RGB", (7, 7, 7))


def test_a_query_image_is_prepared_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """engine -> ingest.images.open_image -> encoder.encode_images: one decode, one preparation."""
    path = tmp_path / "query.jpg"
    path.write_bytes(_jpeg(orientation=6))
    calls: list[str] = []
    real = imageio._prepare

    def counting(image: Image.Image) -> Image.Image:
        calls.append(image.mode)
        return real(image)

    monkeypatch.setattr(imageio, "_prepare", counting)
    encoder = HashEncoder(dim=8)
    vector = encoder.encode_images([open_image(str(path))])
    assert len(calls) == 1
    direct = HashEncoder(dim=8).encode_images([str(path)])  # a local path straight to the encoder
    np.testing.assert_array_equal(vector, direct)
