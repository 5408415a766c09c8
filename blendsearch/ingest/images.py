"""Finding catalogue images (files, zip members, URLs): references resolved, confined and fetched.

Reference forms :meth:`ImageSource.fetch` accepts:

==================================  ====================================================================
``shirts/123.jpg``                  relative: inside the root folder, or a member of the root ``.zip``
``/data/img/123.jpg``               absolute path (inside an image root)
``file:///data/img/123.jpg``        file URL (inside an image root)
``https://cdn.example/123.jpg``     downloaded under one total deadline and a size cap, retried on
                                    5xx / 429 / dropped connections while time remains; public
                                    addresses only unless ``allow_private_urls`` (see ``fetch.py``)
``photos.zip!123.jpg``              a member of another archive (relative to the root's folder, or
``photos.zip::123.jpg``             absolute; the archive itself inside an image root)
==================================  ====================================================================

Local references are confined (see ``confine.py``): they must lie inside the image roots (the root
folder, or a zip root's folder, plus ``IngestSettings.image_roots``) after folding ``..`` and
following symlinks; any other is rejected as "outside the image root" before the file is touched.

A zip member is looked up by its exact name first, then by file name alone when that is unique in the
archive (archives often wrap everything in one top-level folder). Archives are opened once and read
under a lock, so one source can serve several threads; :meth:`ImageSource.fetch_many` fetches a
batch on a bounded pool.

Decoding the bytes (pixel cap, shrinking to ``max_image_side``, format checks) is
:mod:`blendsearch.imageio`'s job.
"""

from __future__ import annotations

import os
import threading
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from blendsearch._types import ImageInput, PathInput
from blendsearch.config import FieldMapping, IngestSettings
from blendsearch.exceptions import ImageError
from blendsearch.imageio import decode_image, read_image_file
from blendsearch.imageio import open_image as _open_decoded
from blendsearch.ingest.confine import ImageRoots
from blendsearch.ingest.fetch import HttpFetcher

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__ = ["ImageSource", "open_image"]

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
        self._by_base: dict[str, str] | None = None

    @property
    def by_base(self) -> dict[str, str]:
        """Members by file name alone, for names unique in the archive (built on the first miss: a big
        archive whose references are exact never pays for it)."""
        if self._by_base is None:
            by_base: dict[str, list[str]] = {}
            for name in self.names:
                by_base.setdefault(name.rsplit("/", 1)[-1], []).append(name)
            self._by_base = {base: names[0] for base, names in by_base.items() if len(names) == 1}
        return self._by_base

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


class ImageSource:
    """Resolves and reads image references of one catalogue (see the module docstring for the forms).

    ``root`` is a folder or a ``.zip`` archive that relative references resolve against; None means
    the current directory. ``confine=False`` lifts the image-root check for local paths (for images
    the caller names itself, such as a query image; never for catalogue references); URLs keep their
    address policy either way. Use as a context manager, or call :meth:`close`, to release archives
    and the fetch pool.
    """

    def __init__(
        self,
        root: PathInput | None = None,
        settings: IngestSettings | None = None,
        *,
        retry_backoff_s: float = 0.5,
        confine: bool = True,
        resolver: Callable[[str, int], list[str]] | None = None,
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
        given = Path(os.path.abspath(path))  # as spelled: a root reached through a symlink matches too
        extra = [r if Path(r).is_absolute() else self.folder / r for r in self.settings.image_roots]
        self.roots = ImageRoots(
            [self.folder, given.parent if self._root_zip else given, *extra], confine=confine
        )
        self._http = HttpFetcher(self.settings, retry_backoff_s=retry_backoff_s, resolver=resolver)
        self._archives: dict[Path, _Archive] = {}
        self._archives_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

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
        if "\x00" in ref:
            raise ImageError(f"image {ref!r} is not a valid reference (it contains a NUL character)")
        try:
            return self._fetch(ref)
        except (OSError, ValueError) as exc:  # an odd path the checks above did not foresee: one reject
            raise ImageError(f"image {ref!r} cannot be read: {type(exc).__name__}: {exc}") from exc

    def _fetch(self, ref: str) -> bytes:
        parts = urllib.parse.urlsplit(ref)
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            return self._http.fetch(ref)
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise ImageError(f"image {ref!r}: file URLs on other hosts are not read")
            return self._read_file(Path(urllib.request.url2pathname(parts.path)), ref)
        if len(scheme) > 1 and "://" in ref:
            raise ImageError(f"image {ref!r}: unsupported URL scheme {scheme!r}")
        archive_member = self._split_archive(ref)
        if archive_member is not None:
            archive, member = archive_member
            return self._archive(self.roots.check(archive, ref)).read(member, self.settings.max_image_bytes)
        path = Path(ref)
        if path.is_absolute():
            return self._read_file(path, ref)
        if self._root_zip is not None:
            return self._archive(self._root_zip).read(ref, self.settings.max_image_bytes)
        return self._read_file(self.folder / path, ref)

    def fetch_many(self, refs: Sequence[str]) -> list[bytes | ImageError]:
        """Fetch several references concurrently (``fetch_workers`` at a time); results in ``refs`` order,
        each the bytes or the :class:`ImageError` that one reference raised."""

        def one(ref: str) -> bytes | ImageError:
            try:
                return self.fetch(ref)
            except ImageError as exc:
                return exc

        # Only URLs wait on the network; files and zip members are read here (a thread hop per item
        # would cost more than the read).
        remote = [i for i, ref in enumerate(refs) if _is_url(ref)]
        if len(remote) <= 1:
            return [one(ref) for ref in refs]
        with self._archives_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.settings.fetch_workers, "blendsearch-fetch")
            pool = self._pool
        downloads = dict(zip(remote, pool.map(one, [refs[i] for i in remote]), strict=True))
        return [downloads[i] if i in downloads else one(ref) for i, ref in enumerate(refs)]

    def _split_archive(self, ref: str) -> tuple[Path, str] | None:
        for separator in _ZIP_SEPARATORS:
            head, sep, member = ref.partition(separator)
            if sep and head.lower().endswith(".zip") and member:
                archive = Path(head)
                return (archive if archive.is_absolute() else self.folder / archive), member
        return None

    def _archive(self, path: Path) -> _Archive:
        with self._archives_lock:
            archive = self._archives.get(path)
            if archive is None:
                archive = self._archives[path] = _Archive(path)
            return archive

    def _read_file(self, path: Path, ref: str) -> bytes:
        return read_image_file(self.roots.check(path, ref), ref, self.settings.max_image_bytes)

    def decode(self, data: bytes) -> PILImage:
        """:func:`decode_image` under this source's pixel cap and size."""
        return decode_image(
            data, max_pixels=self.settings.max_image_pixels, max_side=self.settings.max_image_side
        )

    # -- lifecycle ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the archives opened so far and the fetch pool (a later fetch reopens them)."""
        with self._archives_lock:
            for archive in self._archives.values():
                archive.close()
            self._archives.clear()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _is_url(ref: object) -> bool:
    return isinstance(ref, str) and ref.lstrip()[:8].lower().startswith(("http://", "https://"))


def open_image(image: ImageInput) -> PILImage:
    """Any image input (path, URL, zip reference, PathLike, bytes or PIL image) as an RGB PIL image.

    Strings go through an :class:`ImageSource` rooted at the current directory, so the forms of
    :meth:`ImageSource.fetch` all work. This is for images the caller names itself (a query image),
    so local paths are not confined to an image root; URLs keep the address policy and deadline.
    Bytes and PIL images are decoded by :func:`blendsearch.imageio.open_image` alone.
    """
    if isinstance(image, str | os.PathLike):
        with ImageSource(None, confine=False) as source:  # the caller's own image, not catalogue data
            return decode_image(source.fetch(os.fspath(image)))
    return _open_decoded(image)
