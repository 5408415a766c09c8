"""Image bytes to upright RGB PIL images: the one place images are decoded, for every package.

Neutral on purpose (it imports only types, config and exceptions): ingest, encoders, enrichment, the
engine and serve all decode here, while *finding* an image (catalogue references, zip members, URLs,
confinement to an image root) stays in :mod:`blendsearch.ingest.images`.

Decoding reads the header first and rejects images above ``max_pixels`` before any pixel is decoded,
then decodes shrunk (JPEG draft mode, then ``reduce``) to ``max_side``: memory per image is bounded by
the caps, not by what the file claims. Only raster photo formats are opened (:data:`FORMATS`).
"""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from blendsearch._types import ImageInput
from blendsearch.config import IngestSettings
from blendsearch.exceptions import ImageError

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__ = ["FORMATS", "decode_image", "open_image", "read_image_file", "upright_rgb"]

_DEFAULTS = IngestSettings()

#: What Pillow may open: raster photo formats only (never EPS, which runs Ghostscript, or exotic ones).
#: (Multi-picture JPEGs open through the JPEG plugin.)
FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "AVIF")

#: Leading bytes of common formats: data that starts like one but will not open is corrupt, not alien.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)

#: EXIF tag of the orientation (1: upright).
_ORIENTATION = 0x0112


def _sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return next((name for magic, name in _MAGIC if data.startswith(magic)), None)


def _formats() -> list[str]:
    """:data:`FORMATS` this Pillow build can open (AVIF and WebP are optional plugins)."""
    from PIL import Image

    Image.init()
    return [name for name in FORMATS if name in Image.OPEN]


def _is_markup(data: bytes) -> bool:
    """HTML or XML served or saved where an image should be (an error page, a login wall)."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"<svg", b"<!--"))


def _to_rgb(image: PILImage) -> PILImage:
    """RGB, with transparency composited on white (catalogue photos sit on white) and 16-bit scaled."""
    from PIL import Image

    if image.mode == "RGB":
        return image
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "RGBa", "La", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        import numpy as np

        pixels = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or pixels.max() > 255 else 255.0
        grey = np.clip(pixels / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    return image.convert("RGB")


def _prepare(image: PILImage) -> PILImage:
    from PIL import ImageOps

    return _to_rgb(ImageOps.exif_transpose(image) or image)


def upright_rgb(image: PILImage) -> PILImage:
    """A loaded PIL image as upright RGB. One already so (what :func:`decode_image` and
    :func:`open_image` return) comes back as it is, so an opened image is never prepared twice."""
    try:
        image.load()
    except OSError as exc:
        raise ImageError(f"corrupt or truncated image: {exc}") from exc
    if image.mode == "RGB" and image.getexif().get(_ORIENTATION, 1) == 1:
        return image
    return _prepare(image)


def _shrink(image: PILImage, max_side: int) -> None:
    """Decode at most what ``max_side`` needs: JPEG draft mode picks a 1/2-1/8 scale in the decoder,
    then ``thumbnail`` reduces by whole factors and resamples. A no-op for images already that small."""
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side))


def decode_image(
    data: bytes,
    *,
    max_pixels: int = _DEFAULTS.max_image_pixels,
    max_side: int = _DEFAULTS.max_image_side,
) -> PILImage:
    """Decode image bytes to an RGB PIL image, upright by its EXIF orientation, at most ``max_side``
    pixels on its longest side (aspect kept; smaller images stay as they are).

    The pixel count is checked from the header before any decoding: an image over ``max_pixels``
    (or over Pillow's own decompression-bomb limit) is rejected, so a 12 KB PNG claiming 100 Mpx costs
    nothing. Animated images give their first frame. Raises :class:`ImageError` for empty, markup,
    truncated, corrupt, unrecognised and too-large data.
    """
    from PIL import Image, ImageFile, UnidentifiedImageError

    if not data:
        raise ImageError("image data is empty")
    if _is_markup(data):
        raise ImageError("not an image: the data is an HTML/XML document")
    try:
        with warnings.catch_warnings():
            # Pillow warns above ~89 Mpx; our cap is the rule, so its warning must not reach stderr.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_formats())
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(
                    f"image too large: {width}x{height} px ({width * height / 1e6:.1f} Mpx), over the "
                    f"limit of {max_pixels / 1e6:g} Mpx (max_image_pixels)"
                )
            if width < 1 or height < 1:
                raise ImageError(f"corrupt image: {width}x{height} px")
            if type(image).verify is not ImageFile.ImageFile.verify:
                # The format checks its own structure (PNG: chunk CRCs); verify() spends the object,
                # so decode from a fresh one. Formats without a check (JPEG) are opened only once.
                image.verify()
                image = Image.open(io.BytesIO(data), formats=_formats())
            _shrink(image, max_side)
            image.load()
        return _prepare(image)
    except UnidentifiedImageError as exc:
        kind = _sniff(data)
        if kind is not None:
            raise ImageError(f"corrupt or truncated image ({kind} header unreadable)") from exc
        raise ImageError("not a recognised image format") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"image too large: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise ImageError(f"corrupt or truncated image: {exc}") from exc
    except MemoryError as exc:
        raise ImageError("image too large: out of memory while decoding") from exc


def read_image_file(path: Path, ref: str, max_bytes: int = _DEFAULTS.max_image_bytes) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; ``ref`` names it in the error.

    No confinement here: a caller reading catalogue references checks the path first (see
    :mod:`blendsearch.ingest.confine`).
    """
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ImageError(f"image {ref!r} is a directory ({path})")
        if not stat.S_ISREG(info.st_mode):
            raise ImageError(f"image {ref!r} is not a regular file ({path})")
        if info.st_size > max_bytes:
            raise ImageError(f"image {ref!r} is {info.st_size} bytes, over the limit of {max_bytes}")
        with open(path, "rb") as file:
            data = file.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise ImageError(f"image {ref!r} not found (looked at {path})") from exc
    except OSError as exc:
        raise ImageError(f"image {ref!r} cannot be read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise ImageError(f"image {ref!r} is over the limit of {max_bytes} bytes")
    return data


def open_image(image: ImageInput) -> PILImage:
    """A PIL image, bytes or local file path as an upright RGB PIL image.

    Paths are read as given (no image-root confinement: this is for images the caller names itself).
    References that need resolving (URLs, zip members, paths relative to a catalogue) are opened by
    :func:`blendsearch.ingest.images.open_image`, which fetches them and decodes here.
    """
    from PIL import Image

    if isinstance(image, Image.Image):
        return upright_rgb(image)
    if isinstance(image, bytes | bytearray | memoryview):
        return decode_image(bytes(image))
    if isinstance(image, str | os.PathLike):
        ref = os.fspath(image)
        return decode_image(read_image_file(Path(ref), ref))
    kind = type(image).__name__
    raise ImageError(f"cannot read an image from {kind}; give a path, URL, bytes or a PIL image")
