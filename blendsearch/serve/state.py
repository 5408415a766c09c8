"""The one Engine a server holds: a lock for writes, and a check that picks up other processes' writes.

The embedded backend serialises its own SQLite use behind a lock (one connection opened with
``check_same_thread=False``), so searches from the threadpool are safe without a connection per thread;
writes through the API also take :attr:`EngineState.write_lock` so two ingests never interleave.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from blendsearch.backends.embedded.store import STORE_FILE
from blendsearch.calibration.model import CALIBRATION_FILE
from blendsearch.engine import INDEX_FILE, Engine

__all__ = ["EngineState"]

#: Files whose change means another process wrote the index (the store and its WAL, the info, calibration).
_WATCHED = (INDEX_FILE, CALIBRATION_FILE, STORE_FILE, f"{STORE_FILE}-wal")


class EngineState:
    """Holds the engine, the write lock and the last seen on-disk signature of the index."""

    def __init__(self, engine: Engine, *, owns_engine: bool) -> None:
        self.engine = engine
        self.owns_engine = owns_engine
        self.write_lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._signature = self._disk_signature()

    def _disk_signature(self) -> tuple[tuple[int, int], ...]:
        stamps = []
        for name in _WATCHED:
            try:
                stat = os.stat(Path(self.engine.index_dir) / name)
                stamps.append((stat.st_mtime_ns, stat.st_size))
            except OSError:
                stamps.append((0, 0))
        return tuple(stamps)

    def check_for_changes(self) -> bool:
        """Refresh the engine's caches when the index files changed since the last look; True if so.

        A few ``stat`` calls per request: cheap next to a search, and it needs no cooperation from the
        process that wrote.
        """
        signature = self._disk_signature()
        if signature == self._signature or self.write_lock.locked():
            return False  # unchanged, or this process is writing (it refreshes when done)
        with self._check_lock:
            signature = self._disk_signature()
            if signature == self._signature:
                return False
            self.engine.refresh()
            self._signature = signature
            return True

    def mark_written(self) -> None:
        """After this process's own write: the engine already forgot its caches; remember the files."""
        with self._check_lock:
            self._signature = self._disk_signature()

    def close(self) -> None:
        if self.owns_engine:
            self.engine.close()
