"""Fetching catalogue images (files, zip members, URLs) and decoding them to RGB PIL images.

Reference forms :meth:`ImageSource.fetch` accepts:

==================================  ====================================================================
``shirts/123.jpg``                  relative: inside the root folder, or a member of the root ``.zip``
``/data/img/123.jpg``               absolute path
``file:///data/img/123.jpg``        file URL
``https://cdn.example/123.jpg``     downloaded with a timeout, retried with backoff on 5xx / 429 /
                                    timeouts (never on other 4xx), refused above ``max_image_bytes``
``photos.zip!123.jpg``              a member of another archive (relative to the root's folder, or
``photos.zip::123.jpg``             absolute)
==================================  ====================================================================

A zip member is looked up by its exact name first, then by file name alone when that is unique in the
archive (archives often wrap everything in one top-level folder). Archives are opened once and read
under a lock, so one source can serve several threads.
"""

from __future__ import annotations

import http.client
import io
import os
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from blendsearch._types import ImageInput, PathInput
from blendsearch.config import FieldMapping, IngestSettings
from blendsearch.exceptions import ImageError

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__ = ["ImageSource", "decode_image", "open_image"]

_USER_AGENT = "blendsearch/0.1 (+image fetch)"
_MAX_BACKOFF_S = 8.0
#: Where a zip member reference splits into archive and member.
_ZIP_SEPARATORS = ("::", "!")


class _Archive:
    """One open zip file: a name index and a lock around reads."""

    def __init__(self, path: Path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except FileNotFoundError as exc:
            raise ImageError(f"image archive {path} does not exist") from exc
        except (zipfile.BadZipFile, OSError) as exc:
            raise ImageError(f"image archive {path} cannot be read: {exc}") from exc
        self.path = path
        self.lock = threading.Lock()
        self.names = {info.filename: info for info in self.zip.infolist() if not info.is_dir()}
        by_base: dict[str, list[str]] = {}
        for name in self.names:
            by_base.setdefault(name.rsplit("/", 1)[-1], []).append(name)
        self.by_base = {base: names[0] for base, names in by_base.items() if len(names) == 1}

    def read(self, member: str, max_bytes: int) -> bytes:
        name = member.replace("\\", "/").lstrip("/")
        while name.startswith("./"):
            name = name[2:]
        info = self.names.get(name)
        if info is None and name.rsplit("/", 1)[-1] in self.by_base:
            info = self.names[self.by_base[name.rsplit("/", 1)[-1]]]
        if info is None:
            raise ImageError(f"image {member!r} is not in archive {self.path.name}")
        if info.file_size > max_bytes:
            raise ImageError(f"image {member!r} is {info.file_size} bytes, over the limit of {max_bytes}")
        try:
            with self.lock:
                return self.zip.read(info)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ImageError(f"image {member!r} in {self.path.name} cannot be read: {exc}") from exc

    def close(self) -> None:
        self.zip.close()


class _RetryableHTTP(Exception):
    """A download failure worth another try (5xx, 429, timeout, dropped connection)."""


class ImageSource:
    """Resolves and reads image references of one catalogue (see the module docstring for the forms).

    ``root`` is a folder or a ``.zip`` archive that relative references resolve against; None means
    the current directory. Use as a context manager, or call :meth:`close`, to release open archives.
    """

    def __init__(
        self,
        root: PathInput | None = None,
        settings: IngestSettings | None = None,
        *,
        retry_backoff_s: float = 0.5,
    ) -> None:
        self.settings = settings if settings is not None else IngestSettings()
        self.retry_backoff_s = retry_backoff_s
        path = Path(root) if root is not None else Path.cwd()
        self._root_zip: Path | None = None
        if path.suffix.lower() == ".zip" and not path.is_dir():
            self._root_zip = path.resolve()
            self.folder = self._root_zip.parent
        else:
            self.folder = path.resolve()
        self._archives: dict[Path, _Archive] = {}
        self._archives_lock = threading.Lock()

    @classmethod
    def for_catalog(
        cls, catalog_path: PathInput, mapping: FieldMapping, settings: IngestSettings | None = None
    ) -> ImageSource:
        """The source for a catalogue file: ``mapping.image_root`` (relative to the catalogue), else an
        ``images.zip`` beside it, else the catalogue's folder."""
        folder = Path(catalog_path).resolve().parent
        if mapping.image_root:
            root = Path(mapping.image_root)
            return cls(root if root.is_absolute() else folder / root, settings)
        if (folder / "images.zip").is_file():
            return cls(folder / "images.zip", settings)
        return cls(folder, settings)

    @property
    def root(self) -> Path:
        """The folder or archive relative references resolve against."""
        return self._root_zip or self.folder

    # -- resolution ---------------------------------------------------------------------------------

    def fetch(self, ref: str) -> bytes:
        """The bytes of one image reference; raises :class:`ImageError` with the reason it failed."""
        if not isinstance(ref, str) or not ref.strip():
            raise ImageError("empty image reference")
        ref = ref.strip()
        scheme = urllib.parse.urlsplit(ref).scheme.lower()
        if scheme in ("http", "https"):
            return self._fetch_http(ref)
        if scheme == "file":
            return self._read_file(Path(urllib.request.url2pathname(urllib.parse.urlsplit(ref).path)), ref)
        archive_member = self._split_archive(ref)
        if archive_member is not None:
            archive, member = archive_member
            return self._archive(archive).read(member, self.settings.max_image_bytes)
        path = Path(ref)
        if path.is_absolute():
            return self._read_file(path, ref)
        if self._root_zip is not None:
            return self._archive(self._root_zip).read(ref, self.settings.max_image_bytes)
        return self._read_file(self.folder / path, ref)

    def _split_archive(self, ref: str) -> tuple[Path, str] | None:
        for separator in _ZIP_SEPARATORS:
            head, sep, member = ref.partition(separator)
            if sep and head.lower().endswith(".zip") and member:
                archive = Path(head)
                return (archive if archive.is_absolute() else self.folder / archive).resolve(), member
        return None

    def _archive(self, path: Path) -> _Archive:
        with self._archives_lock:
            archive = self._archives.get(path)
            if archive is None:
                archive = self._archives[path] = _Archive(path)
            return archive

    def _read_file(self, path: Path, ref: str) -> bytes:
        limit = self.settings.max_image_bytes
        try:
            size = path.stat().st_size
            if size > limit:
                raise ImageError(f"image {ref!r} is {size} bytes, over the limit of {limit}")
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise ImageError(f"image {ref!r} not found (looked at {path})") from exc
        except IsADirectoryError as exc:
            raise ImageError(f"image {ref!r} is a directory ({path})") from exc
        except OSError as exc:
            raise ImageError(f"image {ref!r} cannot be read: {exc.strerror or exc}") from exc

    # -- HTTP ---------------------------------------------------------------------------------------

    def _fetch_http(self, url: str) -> bytes:
        attempts = self.settings.image_retries + 1
        for attempt in range(attempts):
            try:
                return self._download(url)
            except _RetryableHTTP as exc:
                if attempt == attempts - 1:
                    raise ImageError(f"image {url} failed after {attempts} attempts: {exc}") from exc
                time.sleep(min(self.retry_backoff_s * 2**attempt, _MAX_BACKOFF_S))
        raise AssertionError("unreachable")  # pragma: no cover

    def _download(self, url: str) -> bytes:
        limit = self.settings.max_image_bytes
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.settings.image_timeout_s) as response:
                length = response.headers.get("Content-Length")
                if length is not None and length.isdigit() and int(length) > limit:
                    raise ImageError(f"image {url} is {length} bytes, over the limit of {limit}")
                data = response.read(limit + 1)
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code == 429:
                raise _RetryableHTTP(f"HTTP {exc.code} {exc.reason}") from exc
            raise ImageError(f"image {url}: HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | ConnectionResetError):
                raise _RetryableHTTP(f"{type(exc.reason).__name__}: {exc.reason}") from exc
            raise ImageError(f"image {url} cannot be fetched: {exc.reason}") from exc
        except (TimeoutError, ConnectionError) as exc:  # timeouts while reading the body
            raise _RetryableHTTP(f"{type(exc).__name__}: {exc}") from exc
        except (OSError, http.client.HTTPException) as exc:  # IncompleteRead, RemoteDisconnected, resets
            raise _RetryableHTTP(f"{type(exc).__name__}: {exc}") from exc
        if len(data) > limit:
            raise ImageError(f"image {url} is over the limit of {limit} bytes")
        return data

    # -- lifecycle ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the archives opened so far (a later fetch reopens them)."""
        with self._archives_lock:
            for archive in self._archives.values():
                archive.close()
            self._archives.clear()

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# -- decoding ---------------------------------------------------------------------------------------


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


#: Leading bytes of common formats: data that starts like one but will not open is corrupt, not alien.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def _sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return next((name for magic, name in _MAGIC if data.startswith(magic)), None)


def decode_image(data: bytes) -> PILImage:
    """Decode image bytes to an RGB PIL image, upright by its EXIF orientation.

    Raises :class:`ImageError` for empty, truncated, corrupt or unrecognised data and for
    decompression bombs (PIL's pixel limit).
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ImageError("image data is empty")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
        return _prepare(image)
    except UnidentifiedImageError as exc:
        kind = _sniff(data)
        if kind is not None:
            raise ImageError(f"corrupt or truncated image ({kind} header unreadable)") from exc
        raise ImageError("not a recognised image format") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"image too large to decode: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise ImageError(f"corrupt or truncated image: {exc}") from exc


def open_image(image: ImageInput) -> PILImage:
    """Any image input (path, URL, zip reference, PathLike, bytes or PIL image) as an RGB PIL image.

    Strings go through an :class:`ImageSource` rooted at the current directory, so the forms of
    :meth:`ImageSource.fetch` all work.
    """
    from PIL import Image

    if isinstance(image, Image.Image):
        try:
            image.load()
        except OSError as exc:
            raise ImageError(f"corrupt or truncated image: {exc}") from exc
        return _prepare(image)
    if isinstance(image, bytes | bytearray | memoryview):
        return decode_image(bytes(image))
    if isinstance(image, str | os.PathLike):
        with ImageSource(None) as source:
            return decode_image(source.fetch(os.fspath(image)))
    kind = type(image).__name__
    raise ImageError(f"cannot read an image from {kind}; give a path, URL, bytes or a PIL image")
