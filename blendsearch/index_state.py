"""Index-directory files that must survive crashes and concurrent processes.

Two helpers, both for files next to the store:

- :func:`atomic_write_text`: a reader sees the old file or the new one, never a torn or empty one
  (write to a temporary file in the same folder, fsync, ``os.replace``, fsync the folder).
- :class:`IngestLock`: one ingest per index at a time (``fcntl.flock`` on ``ingest.lock``, released by the
  kernel when the process dies, even on kill -9); a second ingest waits for the first (and says so), then
  finds its items unchanged, so no work is done twice. While held, the file holds the owner's pid; a clean
  release empties it, so a non-empty file that nobody holds means the last ingest crashed
  (:func:`ingest_crashed`) and the store deserves an integrity check.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from blendsearch.exceptions import IndexBusyError, IndexError_

__all__ = ["LOCK_FILE", "IngestLock", "atomic_write_text", "ingest_crashed"]

#: The ingest lock's file name inside an index directory.
LOCK_FILE = "ingest.lock"

#: How long a second ingest retries the lock before saying another one runs. A searcher probing for a
#: crash holds a shared lock for microseconds, so this only has to outlast such a probe.
_ACQUIRE_GRACE_S = 1.0


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a directory; the replace stands
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically and durably (temp file + fsync + rename + dir fsync)."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644  # mkstemp makes 0600; an index file is as readable as the store next to it
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def ingest_crashed(index_dir: Path) -> bool:
    """True when an ingest left its lock file marked (pid inside) and no process holds it: it was killed."""
    path = index_dir / LOCK_FILE
    try:
        if path.stat().st_size == 0:
            return False
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return False  # an ingest holds it: running, not crashed
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


class IngestLock:
    """Exclusive ingest lock of one index directory."""

    def __init__(
        self, index_dir: Path, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
    ) -> None:
        self.path = index_dir / LOCK_FILE
        self.wait = wait
        self.on_wait = on_wait
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock: wait for a running ingest (saying so through ``on_wait``), or, with
        ``wait=False``, raise :class:`IndexBusyError` naming its pid."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise IndexError_(f"cannot create the ingest lock {self.path}: {exc}") from exc
        try:
            if not self._try_lock(fd):
                owner = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                message = f"another ingest (pid {owner}) is running into {self.path.parent}"
                if not self.wait:
                    raise IndexBusyError(
                        f"{message}; wait for it to finish, then run this one again (unchanged items are "
                        "skipped)"
                    )
                if self.on_wait is not None:
                    self.on_wait(f"{message}: waiting for it to finish")
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    @staticmethod
    def _try_lock(fd: int) -> bool:
        deadline = time.monotonic() + _ACQUIRE_GRACE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except OSError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.02)

    def release(self) -> None:
        """Mark the run finished (empty file) and unlock; a killed run never gets here."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> IngestLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
