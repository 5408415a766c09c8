"""blendsearch's exceptions, one tree so callers can catch at the depth they care about.

    BlendsearchError
    ├── ConfigError            invalid configuration, field mapping or query option
    ├── CatalogError           a catalogue file cannot be read at all (per-item problems become rejects)
    ├── ItemError              one catalogue item is unusable (missing id, bad types, unreadable image)
    │   └── ImageError         an image cannot be fetched or decoded
    ├── EncoderError           a model cannot be loaded or run
    ├── MissingDependencyError an optional package (faiss, a cluster client, open_clip...) is not installed;
    │                          also an ImportError, and its message has the pip hint
    ├── IndexError_            the index cannot be opened, read or written
    │   └── IndexFormatError   the index on disk has a format this version cannot read
    ├── BackendError           a search backend (SQLite, FAISS, OpenSearch, Elasticsearch) failed
    │   ├── BackendConnectionError   the server cannot be reached
    │   └── RetryableBackendError    overloaded or timed out (429/5xx): worth retrying
    └── CalibrationError       a calibration cannot be fitted (too few or one-class labels)

Errors from SQLite, FAISS and the HTTP clients are re-raised as these with ``raise ... from exc``
(see :func:`map_exceptions`), so application code never needs to import a backend's own errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

__all__ = [
    "BackendConnectionError",
    "BackendError",
    "BlendsearchError",
    "CalibrationError",
    "CatalogError",
    "ConfigError",
    "EncoderError",
    "ImageError",
    "IndexError_",
    "IndexFormatError",
    "ItemError",
    "MissingDependencyError",
    "RetryableBackendError",
    "map_exceptions",
]


class BlendsearchError(Exception):
    """Base class of every error blendsearch raises on purpose."""


class ConfigError(BlendsearchError, ValueError):
    """Invalid configuration, field mapping or query option."""


class CatalogError(BlendsearchError):
    """A catalogue file cannot be read at all."""


class ItemError(BlendsearchError):
    """One catalogue item is unusable; ingest records it as a reject and goes on."""


class ImageError(ItemError):
    """An image cannot be fetched or decoded."""


class EncoderError(BlendsearchError):
    """A model cannot be loaded or run."""


class MissingDependencyError(BlendsearchError, ImportError):
    """An optional dependency is missing; the message names the pip command that installs it."""

    def __init__(self, package: str, extra: str | None = None, purpose: str = "") -> None:
        hint = f"pip install 'blendsearch[{extra}]'" if extra else f"pip install {package}"
        what = f" for {purpose}" if purpose else ""
        super().__init__(f"{package} is required{what} but is not importable; install it with: {hint}")
        self.package = package


class IndexError_(BlendsearchError):  # noqa: N801 - trailing underscore avoids shadowing the builtin
    """The index cannot be opened, read or written."""


class IndexFormatError(IndexError_):
    """The index on disk was written in a format this version cannot read."""


class BackendError(BlendsearchError):
    """A search backend failed."""


class BackendConnectionError(BackendError):
    """The search server cannot be reached."""


class RetryableBackendError(BackendError):
    """The server is overloaded or timed out; the same request may succeed later."""


class CalibrationError(BlendsearchError):
    """A calibration cannot be fitted from the data given."""


@contextlib.contextmanager
def map_exceptions(mapping: Mapping[type[BaseException], type[BlendsearchError]]) -> Iterator[None]:
    """Re-raise third-party exceptions as blendsearch's own, keeping the original as ``__cause__``.

    The first matching entry wins, so list subclasses before their bases.
    """
    try:
        yield
    except BlendsearchError:
        raise
    except Exception as exc:
        for source, target in mapping.items():
            if isinstance(exc, source):
                raise target(str(exc) or type(exc).__name__) from exc
        raise
