"""An index directory's own state: ``blendsearch.json`` and the backend it names.

``blendsearch.json`` holds the format version, the EngineConfig the index was built with and the model
fingerprint of its vectors. It is read by one version-checked reader and written atomically, and only
when it would change, so opening an index to search writes nothing (a read-only directory searches).
The embedded store's own record of its vectors' model wins over the mirror in the file: the store writes
it in the same transaction as the vectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from blendsearch.backends.base import Backend
from blendsearch.config import EngineConfig
from blendsearch.exceptions import IndexCorruptError, IndexError_
from blendsearch.index_state import atomic_write_text, ingest_crashed
from blendsearch.jsonfile import load_versioned_model

__all__ = [
    "FORMAT_VERSION",
    "INDEX_FILE",
    "IndexInfo",
    "OpenedIndex",
    "adopt_store_model",
    "open_index",
    "read_info",
    "write_info",
]

INDEX_FILE = "blendsearch.json"
FORMAT_VERSION = 1

REBUILD = "rebuild the index from the catalogue: `blendsearch ingest CATALOG --index NEW_DIR`"


class IndexInfo(BaseModel):
    """The content of ``blendsearch.json``."""

    format_version: int = FORMAT_VERSION
    config: EngineConfig
    model_fingerprint: str | None = None
    dim: int | None = None
    #: The embedded store this index was created with: a missing or replaced store is then an error.
    store_id: str | None = None


@dataclass
class OpenedIndex:
    """What :func:`open_index` found and made."""

    info: IndexInfo
    backend: Backend
    #: Whether the backend was made here from the config (so its store belongs to this index).
    own_backend: bool
    #: ``blendsearch.json`` as read (None when there was none), so it is rewritten only on a change.
    saved: str | None
    #: The last ingest into the directory did not finish (its store was integrity-checked on open).
    crashed: bool
    #: The file must be written: a new index, or an explicit config that differs from the stored one.
    changed: bool


def read_info(path: Path) -> IndexInfo | None:
    """The one reader of ``blendsearch.json``: version-checked; empty or damaged is a clear error."""
    return load_versioned_model(path / INDEX_FILE, IndexInfo, FORMAT_VERSION, what="index file", hint=REBUILD)


def write_info(path: Path, info: IndexInfo) -> str:
    """Atomically (temp + fsync + rename): a concurrent reader sees the old file or the new one.

    Returns the text written.
    """
    text = info.model_dump_json(indent=2)
    try:
        atomic_write_text(path / INDEX_FILE, text)
    except OSError as exc:
        raise IndexError_(f"cannot write {path / INDEX_FILE}: {exc}") from exc
    return text


def open_index(
    path: Path, config: EngineConfig | None, backend: Backend | None, *, verify: bool
) -> OpenedIndex:
    """Read (or start) the directory's state and make its backend; an explicit ``config`` replaces the
    stored one. Writes nothing itself: the caller writes the file when ``changed``."""
    stored = read_info(path)
    if config is not None:
        info = stored.model_copy(update={"config": config}) if stored else IndexInfo(config=config)
    else:
        info = stored or IndexInfo(config=EngineConfig())
    crashed = stored is not None and ingest_crashed(path)
    if stored is None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexError_(f"cannot create index directory {path}: {exc}") from exc
    own_backend = backend is None
    if backend is None:
        backend = _make_backend(path, info, existing=stored is not None, verify=verify or crashed)
        if stored is None:
            info.store_id = getattr(backend, "store_id", None)
    adopt_store_model(backend, info)
    return OpenedIndex(
        info=info,
        backend=backend,
        own_backend=own_backend,
        saved=stored.model_dump_json(indent=2) if stored is not None else None,
        crashed=crashed,
        changed=stored is None or info.config != stored.config,
    )


def _make_backend(path: Path, info: IndexInfo, *, existing: bool, verify: bool) -> Backend:
    config = info.config
    if config.backend and "://" in config.backend:
        from blendsearch.backends.url import backend_from_url

        return backend_from_url(config.backend, index_name=path.name, config=config)
    from blendsearch.backends.embedded import EmbeddedBackend

    store_dir = Path(config.backend) if config.backend else path
    # An index created by this version records its store; an older one, at least its vectors' model.
    must_exist = existing and (info.store_id is not None or info.model_fingerprint is not None)
    backend = EmbeddedBackend(
        store_dir,
        vector_search=config.search.vector_search,
        ann_threshold=config.search.ann_threshold,
        lexical=config.search.lexical,
        lexical_fields=(config.search.text_fields, config.search.metadata_fields),
        verify=verify,
        require_store=must_exist,
    )
    if existing and info.store_id is not None and backend.store_id != info.store_id:
        backend.close()
        raise IndexCorruptError(
            f"{store_dir / 'store.sqlite'} is not the store {path / INDEX_FILE} was built with "
            f"(it was replaced or re-created); {REBUILD}"
        )
    return backend


def adopt_store_model(backend: Backend, info: IndexInfo) -> None:
    """The embedded store's own record of its vectors' model wins over the mirror in the JSON file."""
    from blendsearch.backends.embedded import EmbeddedBackend

    if isinstance(backend, EmbeddedBackend):
        fingerprint, dim = backend.vector_model()
        if fingerprint is not None:
            info.model_fingerprint, info.dim = fingerprint, dim
