"""blendsearch's exceptions, one tree so callers can catch at the depth they care about.

    BlendsearchError
    ├── ConfigError            invalid configuration, field mapping or query option
    │   └── QueryError         a query cannot run as given (too long, unknown filter field, ...)
    ├── CatalogError           a catalogue file cannot be read at all (per-item problems become rejects)
    ├── ItemError              one catalogue item is unusable (missing id, bad types, unreadable image)
    │   └── ImageError         an image cannot be fetched or decoded
    ├── EncoderError           a model cannot be loaded or run
    ├── MissingDependencyError an optional package (faiss, a cluster client, open_clip...) is not installed;
    │                          also an ImportError, and its message has the pip hint
    ├── IndexError_            the index cannot be opened, read or written
    │   ├── IndexFormatError   the index on disk has a format this version cannot read
    │   ├── IndexCorruptError  an index file is missing, empty or damaged (the message says how to rebuild)
    │   └── IndexBusyError     another process is ingesting into the same index
    ├── BackendError           a search backend (SQLite, FAISS, OpenSearch, Elasticsearch) failed
    │   ├── BackendConnectionError   the server cannot be reached
    │   └── RetryableBackendError    overloaded or timed out (429/5xx): worth retrying
    └── CalibrationError       a calibration cannot be fitted (too few or one-class labels)

Errors from SQLite, FAISS and the HTTP clients are re-raised as these with ``raise ... from exc``
(see :func:`map_exceptions`), so application code never needs to import a backend's own errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping

__all__ = [
    "BackendConnectionError",
    "BackendError",
    "BlendsearchError",
    "CalibrationError",
    "CatalogError",
    "ConfigError",
    "EncoderError",
    "ImageError",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexError_",
    "IndexFormatError",
    "ItemError",
    "MissingDependencyError",
    "QueryError",
    "RetryableBackendError",
    "first_line",
    "map_exceptions",
]


class BlendsearchError(Exception):
    """Base class of every error blendsearch raises on purpose."""


class ConfigError(BlendsearchError, ValueError):
    """Invalid configuration, field mapping or query option."""


class QueryError(ConfigError):
    """A query cannot run as given: too long, too many words, a filter on a field the index lacks..."""


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


class IndexCorruptError(IndexError_):
    """An index file is missing, empty or fails its integrity check; rebuilding the index is the way out."""


class IndexBusyError(IndexError_):
    """Another process holds the index's ingest lock; only one ingest runs into an index at a time."""


class BackendError(BlendsearchError):
    """A search backend failed."""


class BackendConnectionError(BackendError):
    """The search server cannot be reached."""


class RetryableBackendError(BackendError):
    """The server is overloaded or timed out; the same request may succeed later."""


class CalibrationError(BlendsearchError):
    """A calibration cannot be fitted from the data given."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type name when it has none (for one-line errors
    about a third-party failure whose message runs to a traceback-sized report)."""
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


@contextlib.contextmanager
def map_exceptions(
    mapping: Mapping[type[BaseException], type[BlendsearchError]],
    message: Callable[[BaseException], str] | None = None,
) -> Iterator[None]:
    """Re-raise third-party exceptions as blendsearch's own, keeping the original as ``__cause__``.

    The first matching entry wins, so list subclasses before their bases. ``message`` words the new
    error from the original (default: the original's message, or its type name).
    """
    try:
        yield
    except BlendsearchError:
        raise
    except Exception as exc:
        for source, target in mapping.items():
            if isinstance(exc, source):
                raise target(message(exc) if message else str(exc) or type(exc).__name__) from exc
        raise
