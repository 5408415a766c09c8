"""Batch-level randomness of training: image shifts and flips, caption token dropout, padding trimmed.

Pure numpy over one batch, driven by the loop's seeded generator, so a run stays reproducible.
"""

from __future__ import annotations

import numpy as np

__all__ = ["augment", "drop_tokens", "trim"]


def augment(batch: np.ndarray, rng: np.random.Generator, shift: int, flip: bool) -> np.ndarray:
    """Random translation (edge-padded) and horizontal flip of a uint8 [n, h, w, 3] batch."""
    n, h, w, _ = batch.shape
    if shift:
        padded = np.pad(batch, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="edge")
        dy = rng.integers(0, 2 * shift + 1, n)
        dx = rng.integers(0, 2 * shift + 1, n)
        batch = np.stack([padded[i, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
    if flip:
        flips = rng.random(n) < 0.5
        batch = batch.copy() if not shift else batch
        batch[flips] = batch[flips, :, ::-1]
    return batch


def drop_tokens(ids: np.ndarray, rng: np.random.Generator, p: float) -> np.ndarray:
    """Zero (pad) each real token with probability p, keeping at least the first; then left-compact."""
    real = ids != 0
    keep = real & (rng.random(ids.shape) >= p)
    keep[:, 0] |= ~keep.any(1)
    out = np.zeros_like(ids)
    for i, row in enumerate(ids):
        kept = row[keep[i]]
        out[i, : len(kept)] = kept
    return out[:, : max(1, int(keep.sum(1).max()))]


def trim(ids: np.ndarray) -> np.ndarray:
    """Cut the padding columns no row of the batch uses."""
    longest = int((ids != 0).sum(1).max()) if len(ids) else 1
    return ids[:, : max(1, longest)]
