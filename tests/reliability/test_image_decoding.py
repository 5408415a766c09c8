"""Bounded decoding: the pixel cap is checked from the header before any pixel is decoded, images are
decoded shrunk to what enrichment and the encoders need, and every odd image is either indexed right
or rejected with a clear reason. Peak RSS of an ingest of pixel bombs is that of a normal ingest."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from blendsearch import Engine, EngineConfig
from blendsearch.config import IngestSettings
from blendsearch.exceptions import ImageError
from blendsearch.imageio import decode_image
from blendsearch.ingest.images import ImageSource


def encode(image: Image.Image, kind: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind, **options)
    return buffer.getvalue()


def pixel_bomb(side: int = 10_000) -> bytes:
    """A real, valid 1-bit PNG of side x side pixels: 100 Mpx in about 12 KB."""
    return encode(Image.new("1", (side, side)))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming ``width`` x ``height`` with a token IDAT: only the header is ever read."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def test_a_pixel_bomb_is_rejected_from_its_header() -> None:
    bomb = pixel_bomb()
    assert len(bomb) < 20_000
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not escape either
        with pytest.raises(ImageError) as rejected:
            decode_image(bomb)
    assert time.perf_counter() - started < 0.5  # 100 Mpx decoded would take seconds
    assert str(rejected.value) == (
        "image too large: 10000x10000 px (100.0 Mpx), over the limit of 40 Mpx (max_image_pixels)"
    )


def test_pillow_own_bomb_limit_is_a_reject_too() -> None:
    with pytest.raises(ImageError, match=r"^image too large: Image size \(400000000 pixels\) exceeds limit"):
        decode_image(png_header_only(20_000, 20_000), max_pixels=10**9)


def test_the_cap_is_configurable() -> None:
    image = encode(Image.new("RGB", (300, 200), (0, 0, 255)))
    with ImageSource(None, IngestSettings(max_image_pixels=50_000)) as source:
        too_large = r"^image too large: 300x200 px \(0.1 Mpx\), over the limit of 0.05 Mpx"
        with pytest.raises(ImageError, match=too_large):
            source.decode(image)
    with ImageSource(None, IngestSettings(max_image_pixels=60_000, max_image_side=64)) as source:
        decoded = source.decode(image)
    assert (decoded.size, decoded.getpixel((10, 10))) == ((64, 43), (0, 0, 255))


@pytest.mark.parametrize(
    ("kind", "size", "expected"),
    [
        ("JPEG", (4000, 3000), (512, 384)),  # JPEG draft decodes at 1/4 in the decoder, then resamples
        ("PNG", (3000, 1000), (512, 171)),
        ("PNG", (512, 100), (512, 100)),  # no larger than needed: untouched
        ("PNG", (1, 1), (1, 1)),
    ],
)
def test_images_are_decoded_shrunk_to_what_consumers_need(
    kind: str, size: tuple[int, int], expected: tuple[int, int]
) -> None:
    decoded = decode_image(encode(Image.new("RGB", size, (200, 30, 40)), kind))
    assert decoded.mode == "RGB" and decoded.size == expected
    red, green, blue = decoded.getpixel((0, 0))
    assert abs(red - 200) <= 3 and abs(green - 30) <= 3 and abs(blue - 40) <= 3


def animated_gif() -> bytes:
    frames = [Image.new("P", (8, 8), i) for i in range(2)]
    for frame in frames:
        frame.putpalette([255, 0, 0, 0, 0, 255] + [0, 0, 0] * 254)
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def palette_png() -> bytes:
    image = Image.new("P", (4, 4), 0)
    image.putpalette([10, 20, 30] + [0, 0, 0] * 255)
    return encode(image)


#: name -> (file bytes, the first pixel when indexed, or the reason when rejected).
ODD_IMAGES: dict[str, tuple[bytes, tuple[int, int, int] | str]] = {
    "rgb.png": (encode(Image.new("RGB", (4, 4), (255, 0, 0))), (255, 0, 0)),
    "one-pixel.png": (encode(Image.new("RGB", (1, 1), (0, 255, 0))), (0, 255, 0)),
    "png-named.jpg": (encode(Image.new("RGB", (4, 4), (0, 0, 255))), (0, 0, 255)),
    "cmyk.jpg": (encode(Image.new("CMYK", (8, 8), (0, 0, 0, 0)), "JPEG", quality=95), (255, 255, 255)),
    "animated.gif": (animated_gif(), (255, 0, 0)),  # the first frame
    "palette.png": (palette_png(), (10, 20, 30)),
    "la.png": (encode(Image.new("LA", (4, 4), (0, 0))), (255, 255, 255)),  # transparent: on white
    "rgba.png": (encode(Image.new("RGBA", (4, 4), (0, 128, 0, 255))), (0, 128, 0)),
    "grey16.png": (encode(Image.fromarray(np.full((4, 4), 65535, dtype=np.uint16))), (255, 255, 255)),
    "zero-bytes.jpg": (b"", "image data is empty"),
    "truncated.jpg": (
        encode(Image.new("RGB", (64, 64), (9, 9, 9)), "JPEG")[:-10],
        "corrupt or truncated image: image file is truncated (1 bytes not processed)",
    ),
    "truncated-header.png": (
        encode(Image.new("RGB", (4, 4)))[:20],
        "corrupt or truncated image: Truncated File Read",
    ),
    "page.jpg": (
        b"<!DOCTYPE html>\n<html><body>404: the image was moved</body></html>",
        "not an image: the data is an HTML/XML document",
    ),
    "notes.png": (b"root:x:0:0:root:/root:/bin/bash\n", "not a recognised image format"),
    "drawing.eps": (  # Pillow would run Ghostscript for EPS: not a format a catalogue may use
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
        "not a recognised image format",
    ),
    "bomb.png": (
        pixel_bomb(),
        "image too large: 10000x10000 px (100.0 Mpx), over the limit of 40 Mpx (max_image_pixels)",
    ),
}


@pytest.mark.parametrize("name", sorted(ODD_IMAGES))
def test_odd_images_decode_right_or_are_rejected_with_the_reason(name: str) -> None:
    data, expected = ODD_IMAGES[name]
    if isinstance(expected, str):
        with pytest.raises(ImageError) as rejected:
            decode_image(data)
        assert str(rejected.value) == expected
    else:
        decoded = decode_image(data)
        assert decoded.mode == "RGB"
        assert decoded.getpixel((0, 0)) == pytest.approx(expected, abs=2)


def test_an_ingest_of_odd_images_counts_and_explains_every_row(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    rows = []
    for i, (name, (data, _)) in enumerate(sorted(ODD_IMAGES.items())):
        (tmp_path / "images" / name).write_bytes(data)
        rows.append({"id": f"i{i}", "image": f"images/{name}"})  # image only: no text to fall back on
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text("".join(json.dumps(row) + "\n" for row in rows))
    config = EngineConfig()
    config.enrichment.tags = False
    with Engine.open(tmp_path / "index", config) as engine:
        summary = engine.ingest(catalog, rejects=tmp_path / "rejects.jsonl")
    rejected = {name: reason for name, (_, reason) in ODD_IMAGES.items() if isinstance(reason, str)}
    assert (summary.read, summary.indexed, summary.rejected) == (len(ODD_IMAGES), 9, len(rejected))
    lines = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert {line["raw"]["image"].removeprefix("images/"): line["reason"] for line in lines} == rejected


# -- peak memory ------------------------------------------------------------------------------------

_MEASURE = """
import json, resource, sys
from blendsearch import Engine, EngineConfig
config = EngineConfig()
config.enrichment.tags = False
with Engine.open(sys.argv[2], config) as engine:
    summary = engine.ingest(sys.argv[1])
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peak_mb": peak_mb, "indexed": summary.indexed, "rejected": summary.rejected}))
"""


def peak_rss(tmp_path: Path, name: str, images: list[bytes]) -> dict[str, float]:
    """Ingest ``images`` (one row each, with a title) in a fresh interpreter; its peak RSS and counts."""
    folder = tmp_path / name
    folder.mkdir()
    rows = []
    for i, data in enumerate(images):
        (folder / f"{i}.png").write_bytes(data)
        rows.append({"id": str(i), "title": f"item {i}", "image": f"{i}.png"})
    (folder / "catalog.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(folder / "catalog.jsonl"), str(folder / "index")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_peak_rss_with_six_pixel_bombs_is_that_of_a_normal_ingest(tmp_path: Path) -> None:
    small = [encode(Image.new("RGB", (64, 64), (i * 40, 0, 0))) for i in range(6)]
    normal = peak_rss(tmp_path, "normal", small)
    bombs = peak_rss(tmp_path, "bombs", [pixel_bomb()] * 6)
    assert (normal["indexed"], normal["rejected"]) == (6, 0)
    assert (bombs["indexed"], bombs["rejected"]) == (0, 6)
    # Decoding even one would add 100 MB (1 byte per pixel after Pillow's 1-bit unpack; 300 MB as RGB).
    assert bombs["peak_mb"] < normal["peak_mb"] + 30, (normal, bombs)
