"""How many CPU threads torch may use while blendsearch encodes or trains.

OpenMP threads spin while they wait for each other, so where other processes keep the cores busy,
torch's default (one thread per core) can be many times slower than fewer threads: on the 2-core
development machine, with one other busy process, encoding 1,500 fashion photos took 7.1 s with 2
threads and 0.6 s with 1. ``"auto"`` sizes the thread count to the idle cores.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Literal

__all__ = ["ThreadSetting", "cpu_threads", "free_cores"]

#: A thread count, ``"auto"`` (the idle cores when first used), or None (leave torch's setting alone).
ThreadSetting = int | Literal["auto"] | None


def free_cores(threads: int) -> int:
    """Threads worth using: at most ``threads``, no more than the cores not already busy (1-minute load
    average), at least 1."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on Unix
        return threads
    return max(1, min(threads, (os.cpu_count() or threads) - round(load)))


@contextlib.contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op CPU thread count for the block, restored after; None leaves it alone.

    Does nothing where torch was never imported (an encoder that needs torch imported it to load).
    """
    if threads is None or "torch" not in sys.modules:
        yield
        return
    import torch

    before = torch.get_num_threads()
    if threads != before:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if threads != before:
            torch.set_num_threads(before)
