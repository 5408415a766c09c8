"""The ingest's last step, on its own thread: rejects made durable, the batch upserted, progress reported.

Batches arrive in catalogue order through a short queue (``QUEUED`` batches), so the encoder embeds the
next batches while batch N is written, and nothing is written out of order: for each batch, its reject
lines are appended and fsynced, *then* it goes to the backend, then the rejects of the write itself are
appended, then the backend is flushed (at most once a ``FLUSH_INTERVAL``) and the batch's progress
reported. This thread is the only one that touches the rejects file while it runs. The queue holds more
than one batch because a flush stops this thread for a while (a tantivy commit: tens of ms, a few hundred
on a busy machine), which with one place the encoder waited for; the pipeline drops each batch's decoded
images before queueing it, so a waiting batch is its documents and vectors. Backend calls from the
ingest's own thread (content-hash look-ups) take ``backend_lock`` too, so backends need not be thread-safe.

With ``threaded=False`` every commit runs at once in the caller's thread (the one-batch-at-a-time run).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from blendsearch.backends.base import Backend

__all__ = ["FLUSH_INTERVAL", "QUEUED", "Commit", "Committer"]

#: Batches flush the backend at most this often (a flush can cost ~90 ms: the embedded backend's tantivy
#: commit); the ingest flushes once more at its end.
FLUSH_INTERVAL = 1.0
#: Batches that may wait for the commit thread: with one, the ingest's thread waited 0.3-0.6 s of an 8 s
#: ingest of the fashion test split (8,795 items, load about 3.5) for flushes to end.
QUEUED = 4


@dataclass
class Commit:
    """One batch to write (or, with no documents, reject lines to make durable)."""

    #: (item, StoredDocument) pairs; the item is what ``on_failure`` receives.
    encoded: list[tuple[Any, Any]] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    #: Rejects the batch counted before this step (``lines`` is empty without a rejects file).
    rejected: int = 0
    #: Items already indexed unchanged.
    unchanged: int = 0
    #: Rows read when the batch closed; None: no progress report (a run of bad rows made durable).
    read: int | None = None


class Committer:
    """Writes :class:`Commit` s in order; ``report(read, indexed, rejected)`` follows each batch."""

    def __init__(
        self,
        backend: Backend,
        rejects_out: BinaryIO | None,
        on_written: Callable[[int], None],
        on_failure: Callable[[Any, str], bytes | None],
        report: Callable[[int, int, int], None],
        *,
        threaded: bool,
    ) -> None:
        self.backend, self.rejects_out = backend, rejects_out
        self.on_written, self.on_failure, self.report = on_written, on_failure, report
        self.backend_lock = threading.Lock()
        self.indexed = self.rejected = 0  # through the last batch committed: what progress reports
        self.error: BaseException | None = None
        self._flushed = 0.0  # time.monotonic() of the last flush
        self._queue: queue.Queue[Commit | None] | None = None
        self._thread: threading.Thread | None = None
        if threaded:
            self._queue = queue.Queue(maxsize=QUEUED)
            self._thread = threading.Thread(target=self._loop, name="blendsearch-commit", daemon=True)
            self._thread.start()

    def submit(self, commit: Commit) -> None:
        """Write ``commit`` after those before it; raises what a failed earlier commit raised."""
        self.raise_failure()
        if self._queue is None:
            self._commit(commit)
        else:
            self._queue.put(commit)

    def close(self) -> None:
        """Wait for every commit submitted, then raise what failed, if anything did."""
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None
        self.raise_failure()

    def raise_failure(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def append(self, lines: list[bytes]) -> None:
        """Make reject lines durable: one append, flushed and fsynced."""
        if self.rejects_out is None or not lines:
            return
        data = memoryview(b"".join(lines))
        while data:
            data = data[self.rejects_out.write(data) or 0 :]
        self.rejects_out.flush()
        os.fsync(self.rejects_out.fileno())

    def _loop(self) -> None:
        assert self._queue is not None
        while (commit := self._queue.get()) is not None:
            if self.error is None:
                try:
                    self._commit(commit)
                except BaseException as exc:  # noqa: BLE001 - raised in the ingest's thread
                    self.error = exc

    def _commit(self, commit: Commit) -> None:
        self.append(commit.lines)  # this batch's rejects are durable before the batch is committed
        self.indexed += commit.unchanged
        self.rejected += commit.rejected
        if commit.encoded:
            with self.backend_lock:
                results = self.backend.upsert([doc for _, doc in commit.encoded])
            failed: list[bytes] = []
            written = 0
            for (item, _doc), result in zip(commit.encoded, results, strict=True):
                if result.ok:
                    written += 1
                    continue
                self.rejected += 1
                line = self.on_failure(item, result.error or "write failed")
                if line is not None:
                    failed.append(line)
            self.indexed += written
            self.on_written(written)
            self.append(failed)
            if time.monotonic() - self._flushed >= FLUSH_INTERVAL:
                with self.backend_lock:
                    self.backend.flush()
                self._flushed = time.monotonic()
        if commit.read is not None:
            self.report(commit.read, self.indexed, self.rejected)
