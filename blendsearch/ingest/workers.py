"""The ingest's image workers: decode a batch's images and name their colours off the encoder's thread.

One task is one batch (few round trips; results come back in the batch's order), and the pipeline keeps
at most ``workers + 1`` batches in flight, so memory stays bounded while the encoder embeds the batch
before. Processes are forked, not spawned: a spawned child re-imports the caller's ``__main__``, which
breaks scripts without a ``__main__`` guard; the forked child runs only Pillow and numpy.

The colour analysis names a whole batch at once (``dominant_colours_many``: 0.32 ms an image), but
still spends part of that in Python between numpy calls, holding the GIL the encoder and the commit
thread need: before it was batched, on 3,000 fashion test products with colours and tags (2 busy cores,
load about 6; one run each) one worker process gave 305 items/s, one thread 248, none 195. Decoding
alone is Pillow's C code, which a thread overlaps without copying each image back.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from blendsearch.config import IngestSettings
from blendsearch.exceptions import ItemError

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__ = [
    "ImageJob",
    "Prepared",
    "WorkerPool",
    "encoder_threads_beside",
    "prepare_images",
    "resolve_workers",
]


class ImageJob(BaseModel):
    """What a worker needs to prepare one batch's images (plain values: it crosses a process boundary)."""

    max_pixels: int
    max_side: int
    #: ``max_colours`` of the colour analysis, or None when colours are off.
    colours: int | None = None


#: One image's outcome: the decoded image and its colour names, or the reason it was rejected.
Prepared = tuple["PILImage | None", "list[str] | None", "str | None"]


def prepare_images(blobs: Sequence[bytes], job: ImageJob) -> list[Prepared]:
    """Decode each image (and name its colours); a failure rejects that image only, with its reason.

    The colours of the batch's decoded images are named in one call (several times cheaper per image
    than one call each, with the same names)."""
    from blendsearch.enrichment.colours import dominant_colours_many
    from blendsearch.imageio import decode_image

    out: list[Prepared] = []
    for data in blobs:
        try:
            image = decode_image(data, max_pixels=job.max_pixels, max_side=job.max_side)
        except ItemError as exc:
            out.append((None, None, str(exc)))
            continue
        out.append((image, None, None))
    if job.colours is not None:
        decoded = [(i, image) for i, (image, _, _) in enumerate(out) if image is not None]
        named = dominant_colours_many([image for _, image in decoded], max_colours=job.colours)
        for (i, image), names in zip(decoded, named, strict=True):
            out[i] = (image, names, None)
    return out


def resolve_workers(settings: IngestSettings, encoder_threads: int | None) -> int:
    """The worker count ``settings.workers`` stands for: "auto" is the cores the encoder leaves, 1-4."""
    if settings.workers != "auto":
        return int(settings.workers)
    cores = os.cpu_count() or 1
    return max(1, min(4, cores - (encoder_threads or 1)))


def encoder_threads_beside(workers: int, encoder_threads: int | None) -> int | None:
    """torch threads for the encoder while ``workers`` image workers (and the stage and commit threads)
    run beside it: the cores they leave, at least 1, at most the encoder's own setting.

    OpenMP threads spin while they wait for each other, so an encoder given a core the workers also use
    slows down instead of speeding up: the fashion model (2 cores, one worker) embedded 3,268 items/s
    with 1 thread and 1,381 with 2 while a worker was busy.
    """
    if workers == 0:
        return encoder_threads
    cores = os.cpu_count() or 1
    return max(1, min(encoder_threads or cores, cores - workers))


class WorkerPool:
    """A bounded pool started on first use: no process is started for an ingest that never needs one."""

    def __init__(self, workers: int, kind: Literal["auto", "process", "thread"], *, colours: bool) -> None:
        self.workers = workers
        self.auto = kind == "auto"
        if self.auto:
            # Decoding alone runs in Pillow's C code, which a thread overlaps fine (and needs no copy of
            # each image back); the colour analysis holds the GIL, so it gets processes where they fork.
            kind = "process" if colours and sys.platform.startswith("linux") else "thread"
        self.kind = kind
        self._executor: Executor | None = None

    def submit(self, blobs: list[bytes], job: ImageJob, *, many: bool) -> Future[list[Prepared]]:
        """Prepare ``blobs`` on the pool, or at once in this thread when there are no workers (or, for
        "auto", when this is the only batch so far: a small catalogue is not worth a process)."""
        if self.workers == 0 or (self.auto and not many and self._executor is None):
            return _done(blobs, job)
        if self._executor is None:
            if self.kind == "thread":
                self._executor = ThreadPoolExecutor(self.workers, "blendsearch-image")
            else:
                self._executor = ProcessPoolExecutor(self.workers, multiprocessing.get_context("fork"))
        return self._executor.submit(prepare_images, blobs, job)

    def close(self) -> None:
        """Stop the workers; tasks not started are dropped."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _done(blobs: list[bytes], job: ImageJob) -> Future[list[Prepared]]:
    future: Future[list[Prepared]] = Future()
    try:
        future.set_result(prepare_images(blobs, job))
    except Exception as exc:  # noqa: BLE001 - handed to the caller as the pool would
        future.set_exception(exc)
    return future
