"""Image fetching (files, zips, file:// and http:// with retries) and decoding to upright RGB."""

from __future__ import annotations

import collections
import io
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from blendsearch.config import FieldMapping, IngestSettings
from blendsearch.exceptions import ImageError
from blendsearch.imageio import decode_image
from blendsearch.ingest.images import ImageSource, open_image


def png(colour: tuple[int, ...] = (255, 0, 0), size: tuple[int, int] = (4, 3), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(image: Image.Image, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **kwargs)
    return buffer.getvalue()


RED = png()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "shirts").mkdir()
    (tmp_path / "shirts" / "1.png").write_bytes(RED)
    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as archive:
        archive.writestr("top/2.png", RED)
        archive.writestr("3.png", png((0, 0, 255)))
        for i in range(40):
            archive.writestr(f"many/m{i}.png", png((i, i, i)))
    return tmp_path


# -- files and archives ----------------------------------------------------------------------------


def test_relative_absolute_and_file_url(folder: Path) -> None:
    with ImageSource(folder) as source:
        assert source.fetch("shirts/1.png") == RED
        assert source.fetch(str(folder / "shirts" / "1.png")) == RED
        assert source.fetch((folder / "shirts" / "1.png").as_uri()) == RED
        with pytest.raises(ImageError, match=r"image 'shirts/9.png' not found \(looked at .*shirts/9.png\)"):
            source.fetch("shirts/9.png")
        with pytest.raises(ImageError, match="is a directory"):
            source.fetch("shirts")
        with pytest.raises(ImageError, match="empty image reference"):
            source.fetch("  ")


def test_zip_root_members_by_name_or_unique_file_name(folder: Path) -> None:
    with ImageSource(folder / "photos.zip") as source:
        assert source.root == (folder / "photos.zip").resolve()
        assert source.fetch("top/2.png") == RED
        assert source.fetch("2.png") == RED  # unique file name inside a top-level folder
        assert source.fetch("./3.png") == png((0, 0, 255))
        with pytest.raises(ImageError, match="image '4.png' is not in archive photos.zip"):
            source.fetch("4.png")


@pytest.mark.parametrize("ref", ["photos.zip!top/2.png", "photos.zip::2.png", "PHOTOS.zip!2.png"])
def test_archive_member_references(folder: Path, ref: str) -> None:
    if ref.startswith("PHOTOS"):
        (folder / "PHOTOS.zip").write_bytes((folder / "photos.zip").read_bytes())
    with ImageSource(folder) as source:
        assert source.fetch(ref) == RED


def test_bad_archive_and_size_limits(folder: Path) -> None:
    (folder / "broken.zip").write_bytes(b"not a zip")
    settings = IngestSettings(max_image_bytes=len(RED) - 1)
    with ImageSource(folder, settings) as source:
        with pytest.raises(ImageError, match="broken.zip cannot be read"):
            source.fetch("broken.zip!a.png")
        with pytest.raises(ImageError, match="does not exist"):
            source.fetch("absent.zip!a.png")
        with pytest.raises(ImageError, match=f"is {len(RED)} bytes, over the limit of {len(RED) - 1}"):
            source.fetch("shirts/1.png")
        with pytest.raises(ImageError, match="over the limit"):
            source.fetch("photos.zip!2.png")


def test_for_catalog_prefers_image_root_then_images_zip(folder: Path) -> None:
    catalog = folder / "items.csv"
    assert ImageSource.for_catalog(catalog, FieldMapping()).root == folder.resolve()
    with_root = ImageSource.for_catalog(catalog, FieldMapping(image_root="shirts"))
    assert with_root.root == (folder / "shirts").resolve()
    (folder / "images.zip").write_bytes((folder / "photos.zip").read_bytes())
    with ImageSource.for_catalog(catalog, FieldMapping()) as source:
        assert source.root == (folder / "images.zip").resolve()
        assert source.fetch("3.png") == png((0, 0, 255))


def test_zip_reads_are_thread_safe(folder: Path) -> None:
    with ImageSource(folder / "photos.zip") as source, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: source.fetch(f"many/m{i}.png"), range(40)))
    assert results == [png((i, i, i)) for i in range(40)]


# -- HTTP ------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    calls: collections.Counter[str] = collections.Counter()

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        _Handler.calls[self.path] += 1
        count = _Handler.calls[self.path]
        if self.path == "/ok.png" or (self.path == "/flaky.png" and count > 1):
            self._send(200, RED)
        elif self.path in ("/flaky.png", "/down.png"):
            self._send(500, b"oops")
        elif self.path == "/big.png":
            self._send(200, b"x" * 5000)
        elif self.path == "/slow.png":
            time.sleep(0.6)
            self._send(200, RED)
        else:
            self._send(404, b"no")

    def _send(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out first
            pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def http_source() -> Iterator[ImageSource]:
    _Handler.calls.clear()
    # The server is on 127.0.0.1: these tests opt in to private addresses (tests/reliability tests refusal).
    settings = IngestSettings(
        image_timeout_s=5, image_retries=2, max_image_bytes=1000, allow_private_urls=True
    )
    with ImageSource(None, settings, retry_backoff_s=0.01) as source:
        yield source


def test_http_ok_and_404_is_not_retried(server: str, http_source: ImageSource) -> None:
    assert http_source.fetch(f"{server}/ok.png") == RED
    with pytest.raises(ImageError, match=r"/missing.png: HTTP 404"):
        http_source.fetch(f"{server}/missing.png")
    assert _Handler.calls == {"/ok.png": 1, "/missing.png": 1}


def test_http_retries_5xx_then_succeeds_or_gives_up(server: str, http_source: ImageSource) -> None:
    assert http_source.fetch(f"{server}/flaky.png") == RED
    with pytest.raises(ImageError, match=r"failed after 3 attempts: HTTP 500"):
        http_source.fetch(f"{server}/down.png")
    assert _Handler.calls == {"/flaky.png": 2, "/down.png": 3}


def test_http_size_limit_and_timeout(server: str, http_source: ImageSource) -> None:
    with pytest.raises(ImageError, match="is 5000 bytes, over the limit of 1000"):
        http_source.fetch(f"{server}/big.png")
    settings = http_source.settings.model_copy(update={"image_timeout_s": 0.2})
    started = time.perf_counter()
    with ImageSource(None, settings, retry_backoff_s=0.01) as quick:
        with pytest.raises(ImageError, match=r"/slow.png timed out \(total deadline 0.2 s\)"):
            quick.fetch(f"{server}/slow.png")
    assert time.perf_counter() - started < 1.0
    assert _Handler.calls["/slow.png"] == 1  # the deadline covers retries too: no time was left for one


def test_unreachable_host_is_an_image_error(http_source: ImageSource) -> None:
    with pytest.raises(ImageError, match="cannot be fetched"):
        http_source.fetch("http://127.0.0.1:9/x.png")  # the discard port: connection refused


# -- decoding --------------------------------------------------------------------------------------


def test_decode_modes_to_rgb() -> None:
    assert decode_image(RED).mode == "RGB" and decode_image(RED).getpixel((0, 0)) == (255, 0, 0)
    transparent = decode_image(png((0, 0, 0, 0), mode="RGBA"))
    assert transparent.mode == "RGB" and transparent.getpixel((1, 1)) == (255, 255, 255)
    assert decode_image(png(128, mode="L")).getpixel((0, 0)) == (128, 128, 128)
    palette = Image.new("P", (2, 2), 0)
    palette.putpalette([10, 20, 30] + [0, 0, 0] * 255)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG")
    assert decode_image(buffer.getvalue()).getpixel((0, 0)) == (10, 20, 30)
    cmyk = decode_image(jpeg(Image.new("CMYK", (8, 8), (0, 255, 255, 0))))
    red, green, blue = cmyk.getpixel((4, 4))
    assert cmyk.mode == "RGB" and red > 200 and green < 60 and blue < 60
    deep = Image.fromarray(np.full((2, 2), 65535, dtype=np.uint16))
    buffer = io.BytesIO()
    deep.save(buffer, format="PNG")
    assert decode_image(buffer.getvalue()).getpixel((0, 0)) == (255, 255, 255)


def test_decode_applies_exif_orientation() -> None:
    image = Image.new("RGB", (20, 10), (0, 128, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    assert decode_image(jpeg(image, exif=exif.tobytes())).size == (10, 20)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "image data is empty"),
        (b"hello, not an image", "not a recognised image format"),
        (jpeg(Image.new("RGB", (64, 64), (9, 9, 9)))[:300], "corrupt or truncated image"),
        (RED[:40], "corrupt or truncated image"),
    ],
)
def test_decode_rejects_bad_data(data: bytes, reason: str) -> None:
    with pytest.raises(ImageError, match=reason):
        decode_image(data)


def test_open_image_accepts_every_input_shape(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = folder / "shirts" / "1.png"
    monkeypatch.chdir(folder)
    for given in (str(path), path, RED, bytearray(RED), "shirts/1.png", "photos.zip!2.png", path.as_uri()):
        image = open_image(given)
        assert (image.mode, image.size, image.getpixel((0, 0))) == ("RGB", (4, 3), (255, 0, 0))
    rgba = open_image(Image.new("RGBA", (2, 2), (0, 0, 255, 255)))
    assert (rgba.mode, rgba.getpixel((0, 0))) == ("RGB", (0, 0, 255))
    with pytest.raises(ImageError, match="cannot read an image from int"):
        open_image(42)  # type: ignore[arg-type]
    with pytest.raises(ImageError, match="not found"):
        open_image("nope.png")
