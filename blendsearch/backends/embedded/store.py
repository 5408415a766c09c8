"""The SQLite file of an embedded index: connection settings, schema and its named migrations.

Migrations follow llm's ``embeddings_migrations.py``: each is a named function, applied once and
recorded in ``_migrations``, so opening an index brings any older layout up to date and re-running is a
no-op. ``meta.format_version`` says which layout a file has; an index written by a newer blendsearch
(a higher version) is refused with :class:`~blendsearch.exceptions.IndexFormatError` rather than misread.
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from blendsearch._types import AttributeValue
from blendsearch.documents import StoredDocument
from blendsearch.exceptions import IndexCorruptError, IndexError_, IndexFormatError
from blendsearch.filters import RangeFilter, TermFilter, TermsFilter
from blendsearch.search_fields import LEXICAL_FIELDS, filter_fields

__all__ = [
    "BUSY_TIMEOUT_S",
    "FORMAT_VERSION",
    "MIGRATIONS",
    "STORE_FILE",
    "OpenedStore",
    "attribute_rows",
    "connect",
    "filter_sql",
    "format_version",
    "get_meta",
    "migrate",
    "open_store",
    "pending_migrations",
    "quick_check",
    "rebuild_hint",
    "refuse_newer_format",
]

#: The on-disk layout this code writes and reads; bump it (with a migration) on incompatible changes.
FORMAT_VERSION = 1

#: The file name of the store inside an index directory.
STORE_FILE = "store.sqlite"

#: How long a connection waits for another process's lock before failing (readers wait only for a
#: checkpoint; a second writer waits for the current batch to commit).
BUSY_TIMEOUT_S = 30.0

#: FTS5 tokenizer; agrees with :func:`blendsearch.text.analyze` (fold, split on non-alphanumerics, Porter).
TOKENIZER = "porter unicode61 remove_diacritics 2"

Migration = Callable[[sqlite3.Connection], None]

#: The schema's migrations in the order they apply; names are recorded, so never rename one.
MIGRATIONS: list[Migration] = []


def _migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@_migration
def m001_initial(conn: sqlite3.Connection) -> None:
    """Documents (the durable record, vectors included) and the meta table with the format version.

    ``doc_key`` is the integer row key the FTS table and the attribute table join on; it is kept when a
    document is replaced, so insertion order (the tie order of exact vector search) is stable.
    """
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS docs (
            doc_key INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            attributes TEXT NOT NULL DEFAULT '{}',
            image TEXT,
            enrichment TEXT NOT NULL DEFAULT '{}',
            content_hash TEXT NOT NULL DEFAULT '',
            image_vector BLOB,
            text_vector BLOB,
            dim INTEGER,
            updated_at REAL NOT NULL
        )
        """
    )
    conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('format_version', '1')")
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '0')")
    # Identifies this store, so a cached vector index of another (re-created) store is never reused.
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))))")


@_migration
def m002_attributes(conn: sqlite3.Connection) -> None:
    """One row per filterable value (attributes, colours, tags, id; lists give one row per item).

    ``value_text`` is ``str(value).casefold()`` (every value, as text equality sees it), ``value_num``
    the value as a number where ``float()`` reads it (range filters), ``is_text`` whether the catalogue
    value was a string (number-to-number equality applies only to values that were not).
    """
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS attrs (
            doc_key INTEGER NOT NULL,
            key TEXT NOT NULL,
            value_text TEXT NOT NULL,
            value_num,
            is_text INTEGER NOT NULL
        )
        """
    )
    # Covering (doc_key last): a filter reads only the index, never the table.
    conn.execute("CREATE INDEX IF NOT EXISTS attrs_text ON attrs (key, value_text, doc_key)")
    conn.execute("CREATE INDEX IF NOT EXISTS attrs_num ON attrs (key, value_num, doc_key)")
    conn.execute("CREATE INDEX IF NOT EXISTS attrs_doc ON attrs (doc_key)")


@_migration
def m003_fts(conn: sqlite3.Connection) -> None:
    """Full-text index, one column per logical lexical field, rowid = ``docs.doc_key``."""
    columns = ", ".join(LEXICAL_FIELDS)
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5({columns}, tokenize='{TOKENIZER}')")


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Open (creating) the store in WAL mode; transactions are explicit (``isolation_level=None``).

    WAL with ``synchronous=NORMAL`` keeps every committed transaction across a process crash (kill -9);
    only a power loss can drop the last commits, never corrupt the file. Readers never block the writer
    and wait (busy timeout) rather than fail on a lock. ``read_only`` opens without writing anything (an
    index directory the user cannot write); with no WAL file left, nobody can be writing, so the file is
    opened ``immutable`` (SQLite then needs no ``-shm`` file it could not create).
    """
    try:
        if read_only:
            wal = path.with_name(path.name + "-wal")
            flags = "mode=ro" + ("" if wal.exists() else "&immutable=1")
            conn = sqlite3.connect(
                f"{path.resolve().as_uri()}?{flags}",
                uri=True,
                check_same_thread=False,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_S,
            )
        else:
            conn = sqlite3.connect(
                str(path), check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_S
            )
    except sqlite3.Error as exc:
        raise IndexError_(f"cannot open index store {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        if read_only:
            conn.execute("PRAGMA query_only=ON")
        else:
            _use_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
    except sqlite3.OperationalError as exc:
        conn.close()
        raise IndexError_(f"cannot open index store {path}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise IndexFormatError(f"{path} is not a blendsearch index store: {exc}") from exc
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL (persistent: only the store's first opener changes it), retrying while locked.

    Changing the journal mode needs an exclusive lock, and SQLite answers "database is locked" at once
    (its busy handler is not called) when another process is opening the same new file at that moment:
    two ingests creating one index raced on it. WAL is then usually set by the other process already.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def rebuild_hint(path: Path) -> str:
    """The way out of a damaged store, named in every such error."""
    return (
        "rebuild the index from the catalogue into a new directory "
        f"(`blendsearch ingest CATALOG --index NEW_DIR`), then replace {path.parent}"
    )


def quick_check(conn: sqlite3.Connection, path: Path) -> None:
    """``PRAGMA quick_check`` (b-tree structure and records, no index-vs-table cross-check: linear time).

    Raises :class:`IndexCorruptError` naming the file and the way to rebuild.
    """
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(20)")]
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    if problems != ["ok"]:
        raise IndexCorruptError(
            f"{path} failed its integrity check ({'; '.join(problems[:3])}): {rebuild_hint(path)}"
        )


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """A ``meta`` value, or None when unset."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def pending_migrations(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations this store has not had yet (all of them for a new file)."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
    ).fetchone()
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")} if has_table else set()
    return [fn.__name__ for fn in MIGRATIONS if fn.__name__ not in done]


def format_version(conn: sqlite3.Connection) -> int | None:
    """The format version recorded in the store, or None for a new (empty) file."""
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    if not has_meta:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
    return int(row[0]) if row else None


_MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction; returns the names applied.

    Safe against a concurrent opener (two ingests creating one index): each migration runs under
    ``BEGIN IMMEDIATE`` (one writer at a time, the other waits) and is re-checked inside it, so the second
    process finds it recorded and skips it. Raises :class:`IndexFormatError` when the store was written by
    a newer format than this code reads.
    """
    try:
        refuse_newer_format(conn)
        if not pending_migrations(conn):
            return []
        applied: list[str] = []
        for fn in MIGRATIONS:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(_MIGRATIONS_TABLE)
                done = conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (fn.__name__,)).fetchone()
                if not done:
                    fn(conn)
                    conn.execute(
                        "INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))",
                        (fn.__name__,),
                    )
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            if not done:
                applied.append(fn.__name__)
        return applied
    except sqlite3.OperationalError as exc:
        raise IndexError_(f"cannot migrate the index store: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise IndexFormatError(f"cannot read the index store: {exc}") from exc


def refuse_newer_format(conn: sqlite3.Connection) -> None:
    """Raise :class:`IndexFormatError` when the store was written by a newer layout than this code's."""
    found = format_version(conn)
    if found is not None and found > FORMAT_VERSION:
        raise IndexFormatError(
            f"the index has format version {found}, this blendsearch reads up to {FORMAT_VERSION}; "
            "upgrade blendsearch or rebuild the index"
        )


# -- the attribute table: what a document writes and how a filter reads it --------------------------------

_INT64 = 2**63


def _number(value: AttributeValue) -> int | float | None:
    """``float(value)`` as :func:`blendsearch.filters.matches` reads a range; ints stay exact."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else float(value)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def attribute_rows(doc_key: int, doc: StoredDocument) -> list[tuple[int, str, str, int | float | None, int]]:
    """The ``attrs`` rows of one document: one per value of each filter field (lists give several)."""
    rows: list[tuple[int, str, str, int | float | None, int]] = []
    for key, value in filter_fields(doc).items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            rows.append((doc_key, key, str(item).casefold(), _number(item), int(isinstance(item, str))))
    return rows


def _equals_sql(wanted: list[str | int | float | bool]) -> tuple[str, list[object]]:
    """Any-of equality with :func:`blendsearch.filters.matches`' rule: text if either side is text."""
    texts = [str(w).casefold() for w in wanted if isinstance(w, str)]
    others = [w for w in wanted if not isinstance(w, str)]
    parts: list[str] = []
    params: list[object] = []
    if texts:
        parts.append(f"value_text IN ({', '.join('?' * len(texts))})")
        params.extend(texts)
    if others:
        # A text value compares as text with str(wanted); a number/bool compares by value.
        parts.append(f"(is_text = 1 AND value_text IN ({', '.join('?' * len(others))}))")
        params.extend(str(w).casefold() for w in others)
        parts.append(f"(is_text = 0 AND value_num IN ({', '.join('?' * len(others))}))")
        params.extend(int(w) if isinstance(w, bool) else w for w in others)
    return "(" + " OR ".join(parts) + ")", params


def _range_sql(flt: RangeFilter) -> tuple[str, list[object]]:
    parts = ["value_num IS NOT NULL"]
    params: list[object] = []
    for op, bound in ((">=", flt.gte), (">", flt.gt), ("<=", flt.lte), ("<", flt.lt)):
        if bound is not None:
            parts.append(f"value_num {op} ?")
            params.append(bound)
    return "(" + " AND ".join(parts) + ")", params


def filter_sql(filters: list[TermFilter | TermsFilter | RangeFilter]) -> tuple[str, list[object]] | None:
    """A ``SELECT doc_key`` of the documents passing every filter (None when there are no filters).

    Agrees with :func:`blendsearch.filters.matches`: case-insensitive text equality, any-of over
    multi-valued fields and ``terms`` values, numeric ranges over values ``float()`` reads.
    """
    if not filters:
        return None
    selects: list[str] = []
    params: list[object] = []
    for flt in filters:
        if isinstance(flt, TermFilter):
            condition, values = _equals_sql([flt.value])
        elif isinstance(flt, TermsFilter):
            condition, values = _equals_sql(list(flt.values))
        else:
            condition, values = _range_sql(flt)
        selects.append(f"SELECT doc_key FROM attrs WHERE key = ? AND {condition}")
        params.extend([flt.field, *values])
    return " INTERSECT ".join(selects), params


class OpenedStore(NamedTuple):
    conn: sqlite3.Connection
    read_only: bool
    store_id: str
    #: Whether this open ran ``PRAGMA quick_check`` (and it passed).
    integrity_checked: bool


def _writable(folder: Path, store_path: Path) -> bool:
    return os.access(folder, os.W_OK) and (not store_path.exists() or os.access(store_path, os.W_OK))


def open_store(folder: Path, *, read_only: bool | None, verify: bool, require_store: bool) -> OpenedStore:
    """Open the store of the index in ``folder``: checked, migrated (or refused when read-only and behind).

    ``read_only`` None: read-only exactly when the folder (or the store file) is not writable. ``verify``
    runs ``PRAGMA quick_check``; ``require_store`` makes a missing or zero-byte store an error instead of
    a new empty index.
    """
    store_path = folder / STORE_FILE
    if require_store and (not store_path.is_file() or store_path.stat().st_size == 0):
        state = "empty (0 bytes)" if store_path.is_file() else "missing"
        raise IndexCorruptError(
            f"{store_path} is {state} but {folder} holds an index: {rebuild_hint(store_path)}"
        )
    if read_only is None:
        read_only = folder.is_dir() and not _writable(folder, store_path)
    if not read_only:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexError_(f"cannot create index directory {folder}: {exc}") from exc
    conn = connect(store_path, read_only=read_only)
    checked = False
    try:
        if verify:
            quick_check(conn, store_path)
            checked = True
        pending = pending_migrations(conn)
        if read_only:
            refuse_newer_format(conn)
            if pending:
                raise IndexError_(
                    f"{store_path} needs migrations ({', '.join(pending)}) but is read-only: "
                    "open it once with write access"
                )
        else:
            migrate(conn)
        store_id = get_meta(conn, "store_id") or ""
    except sqlite3.OperationalError as exc:
        conn.close()
        raise IndexError_(f"cannot open index store {store_path}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise IndexCorruptError(f"{store_path} cannot be read ({exc}): {rebuild_hint(store_path)}") from exc
    except BaseException:
        conn.close()
        raise
    return OpenedStore(conn, read_only, store_id, checked)
