"""The colour clusters of a batch of product photos: steps 1-3 of the method in
:mod:`blendsearch.enrichment.colours` (Lab, background removal, weighted k-means), apart from naming.

Everything here works on a batch of images at once (each step one numpy call over the batch, not one per
image): the per-call overhead of numpy, not the pixel count, was most of what a single 48 px image cost.
The batch gives the same result as one image alone, to rounding (see
:func:`blendsearch.enrichment.colours.dominant_colours_many`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from blendsearch._types import FloatArray
from blendsearch.enrichment.colour_space import _lab_planes

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__: list[str] = []


@dataclass(frozen=True)
class _Params:
    """The analysis knobs. Tuned on train-split photos; within +-1% top-1 accuracy over the ranges tried
    (bg_delta_e 7-14, centre 3-8, clusters 4-8, skin_weight 0.1-1, enclosed_delta_e 0-5)."""

    max_side: int = 48  # shrunk first: 48 vs 96 gave the same top-1 (0.598 vs 0.599, 1k train), 2.2x faster
    ring: float = 0.05  # border ring width, as a fraction of the shorter side
    border_delta_e: float = 10.0  # border pixels within this of their median are "background"
    border_share: float = 0.4  # ...and there is a background if at least this share of the ring is
    bg_delta_e: float = 10.0  # pixels this close to the background (and connected to the border) drop
    enclosed_delta_e: float = 0.0  # pixels this close to the background drop even when enclosed
    min_foreground: float = 0.01  # below this share of pixels left, the product is the background colour
    centre: float = 5.0  # pixel weight exp(-centre * r^2), r = distance from the centre (1 = edge)
    clusters: int = 6
    iterations: int = 12
    skin_weight: float = 0.3  # weight of skin-coloured clusters (a model's face and arms)


_PARAMS = _Params()


def _pixels(image: PILImage, max_side: int) -> npt.NDArray[np.uint8]:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    if max(rgb.size) > max_side:
        rgb = rgb.copy()
        rgb.thumbnail((max_side, max_side))
    return np.asarray(rgb, dtype=np.uint8)


def _connected_to_border(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """The pixels of each image of ``mask`` (``[images, height, width]``) reachable from that image's
    border through ``mask`` (4-connected).

    Grows the reached set a whole run at a time: a horizontal run of ``mask`` touching a reached pixel is
    reached entirely, then the same for vertical runs, until nothing changes. The fixed point is the
    same as growing one pixel per step, in as many sweeps as the paths have turns, not pixels. Runs stop
    at each row's end, so one set of run ids serves the whole stack; an image leaves the sweeps once it
    stops changing (most need two: one to grow, one to see nothing more grows).
    """
    count, height, width = mask.shape
    reach = np.zeros_like(mask)
    reach[:, 0, :] = mask[:, 0, :]
    reach[:, -1, :] = mask[:, -1, :]
    reach[:, :, 0] |= mask[:, :, 0]
    reach[:, :, -1] |= mask[:, :, -1]
    row_ids, row_mask, rows = _runs(mask.reshape(count, height * width), width)
    col_ids, col_mask, cols = _runs(mask.transpose(0, 2, 1).reshape(count, width * height), height)
    todo = np.arange(count)
    while todo.size:
        start = reach[todo]
        grown = _spread(row_ids[todo], row_mask[todo], rows, start.reshape(len(todo), -1))
        grown = grown.reshape(len(todo), height, width).transpose(0, 2, 1).reshape(len(todo), -1)
        grown = _spread(col_ids[todo], col_mask[todo], cols, grown)
        grown = grown.reshape(len(todo), width, height).transpose(0, 2, 1)
        changed = (grown != start).any(axis=(1, 2))
        reach[todo] = grown
        todo = todo[changed]
    return reach


def _runs(
    mask: npt.NDArray[np.bool_], row_length: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_], int]:
    """Each pixel's run id (runs of ``mask``, ``[images, pixels]``, along rows of ``row_length``, numbered
    across the stack), the mask, and the number of ids."""
    flat = mask.ravel()
    starts = flat.copy()
    starts[1:] &= ~flat[:-1]
    starts[::row_length] = flat[::row_length]  # a run never continues onto the next row
    ids = np.cumsum(starts) - 1
    return ids.reshape(mask.shape), mask, int(ids[-1]) + 1


def _spread(
    ids: npt.NDArray[np.intp], mask: npt.NDArray[np.bool_], count: int, reach: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """``reach`` widened to every run (of :func:`_runs`) holding one of its pixels."""
    hit = np.zeros(count + 1, dtype=bool)
    hit[ids[reach & mask]] = True
    return hit[ids] & mask


@functools.lru_cache(maxsize=16)
def _ring(height: int, width: int, ring: float) -> npt.NDArray[np.bool_]:
    """The border ring of an image of this size: ``ring`` of the shorter side wide, at least 1 px."""
    band = max(1, round(min(height, width) * ring))
    mask = np.zeros((height, width), dtype=bool)
    mask[:band, :] = mask[-band:, :] = True
    mask[:, :band] = mask[:, -band:] = True
    mask.setflags(write=False)
    return mask


def _backgrounds(lab: FloatArray, params: _Params) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Per image of ``lab`` (planes ``[3, images, height, width]``), the background colour estimated from
    the border ring (``[3, images]``) and whether there is one (one colour dominates the border)."""
    _, _, height, width = lab.shape
    border = lab[:, :, _ring(height, width, params.ring)]
    offset = border - np.median(border, axis=2)[:, :, None]
    offset *= offset
    near = offset[0] + offset[1] + offset[2] < params.border_delta_e**2
    found = near.mean(axis=1) >= params.border_share
    colour = (border * near).sum(axis=2) / np.maximum(near.sum(axis=1), 1)
    return colour, found


@functools.lru_cache(maxsize=16)
def _centre_weights(height: int, width: int, centre: float) -> FloatArray:
    """``exp(-centre * r^2)`` per pixel, r the distance from the image centre (1 = edge); the same for
    every image of one size, so computed once per size."""
    rows, cols = np.mgrid[0:height, 0:width]
    radius2 = ((rows - (height - 1) / 2) / (height / 2)) ** 2 + ((cols - (width - 1) / 2) / (width / 2)) ** 2
    weights = np.exp(-centre * radius2)
    weights.setflags(write=False)
    return weights


@functools.lru_cache(maxsize=4)
def _seed_draws(k: int) -> FloatArray:
    """The uniform draws of k-means++ seeding: those ``np.random.default_rng(0)`` makes first, the seed
    every image starts from (drawn once here rather than building a generator per image)."""
    draws = np.random.default_rng(0).random(k)
    draws.setflags(write=False)
    return draws


#: Where an unused centre sits (an image with fewer distinct colours than clusters): farther from every
#: Lab colour than any two colours are apart, so no pixel is ever nearest to it.
_UNUSED = 1e4

#: The fixed cost of one k-means chunk, in padded points (numpy calls per iteration against the
#: per-point arithmetic; measured): sets are chunked by size so that padding costs less than a new chunk.
_CHUNK_COST = 6_000


def _chunks(sizes: npt.NDArray[np.intp]) -> list[tuple[int, int]]:
    """Split point sets sorted by size into chunks ``[start, end)``, largest first: each chunk is padded
    to its largest set, and a cut pays off when the padding it saves exceeds :data:`_CHUNK_COST`."""
    out = []
    end = len(sizes)
    while end > 0:
        # Cut at i: this chunk [i, end) pads to sizes[end - 1]; [0, i) costs at least i * sizes[i - 1].
        cut = np.arange(end)
        cost = (end - cut) * sizes[end - 1] + cut * sizes[np.maximum(cut - 1, 0)] + _CHUNK_COST * (cut > 0)
        start = int(np.argmin(cost))
        out.append((start, end))
        end = start
    return out


#: Points per block of the k-means++ draw (see :func:`_draw`); point sets are padded to a multiple.
_BLOCK = 32


def _draw(spread: FloatArray, draw: float) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """Per row of ``spread`` (``[sets, n]``, n a multiple of :data:`_BLOCK`, non-negative): the first index
    whose running sum exceeds ``draw`` times the row's total, and the total. This is
    ``Generator.choice(n, p=spread / total)`` for a uniform ``draw``, to rounding; the running sum is
    taken over blocks first, then within the block the draw falls in (a full cumulative sum, being
    sequential, cost more than the rest of the seeding)."""
    count, length = spread.shape
    blocks = spread.reshape(count, length // _BLOCK, _BLOCK)
    running = np.cumsum(blocks.sum(axis=2), axis=1)
    total = running[:, -1]
    target = draw * total
    block = np.minimum((running <= target[:, None]).sum(axis=1), length // _BLOCK - 1)
    rows = np.arange(count)
    before = np.where(block > 0, running[rows, block - 1], 0.0)
    within = np.cumsum(blocks[rows, block], axis=1)
    within += before[:, None]
    offset = np.minimum((within <= target[:, None]).sum(axis=1), _BLOCK - 1)
    return block * _BLOCK + offset, total


def _kmeans(
    points: FloatArray, weights: FloatArray, k: int, iterations: int
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.intp]]:
    """Weighted k-means of a chunk of point sets, all at once: ``points`` ``[3, sets, n]`` and ``weights``
    ``[sets, n]``, each set padded with weightless points (n a multiple of :data:`_BLOCK`). Returns the
    centres ``[sets, k, 3]``, their weights ``[sets, k]`` and how many centres each set has (the rest
    are unused, weight 0).

    k-means++ seeding with the draws of a fixed seed (same image, same clusters), drawn as
    ``Generator.choice(p=...)`` draws (:func:`_draw`; a weightless point is never drawn). The Lloyd
    iterations run in float32, each two matrix products per set (distances, then the weighted sums of
    the points nearest each centre); float64 gave the same names on all 8,795 test photos, with the
    k-means taking 1.7x as long. A set stops moving its centres once they converge, as it would alone.
    """
    _, count, length = points.shape
    rows = np.arange(count)
    draws = _seed_draws(k)
    centre = np.full((count, k, 3), _UNUSED)
    used = np.ones(count, dtype=np.intp)
    sizes = (weights > 0).sum(axis=1)
    pick = points[:, rows, _draw(weights, float(draws[0]))[0]]
    centre[:, 0] = pick.T
    closest = np.full((count, length), np.inf)
    difference = np.empty_like(points)
    distance = np.empty((count, length))
    alive = np.ones(count, dtype=bool)
    for j in range(1, k):
        np.subtract(points, pick[:, :, None], out=difference)
        difference *= difference
        np.add(difference[0], difference[1], out=distance)
        distance += difference[2]
        np.minimum(closest, distance, out=closest)
        np.multiply(closest, weights, out=distance)
        index, total = _draw(distance, float(draws[j]))
        alive &= (sizes > j) & (total > 1e-12)
        if not alive.any():
            break
        pick = points[:, rows, index]
        centre[alive, j] = pick.T[alive]
        used[alive] = j + 1
    augmented = np.ones((count, 4, length), dtype=np.float32)
    augmented[:, :3] = points.transpose(1, 0, 2)
    moments = np.empty((count, 4, length), dtype=np.float32)  # weight, weight * (x, y, z) per point
    moments[:, 0] = weights
    moments[:, 1:] = augmented[:, :3] * moments[:, :1]
    moments = moments.transpose(0, 2, 1)
    # Sets that have converged leave the arrays once a fifth of them have (copying costs a sweep).
    live, now, work, weighted = np.arange(count), centre, augmented, moments
    moving = np.ones(count, dtype=bool)
    for _ in range(iterations):
        sums = _assign(now, work) @ weighted
        mass = sums[..., :1].astype(np.float64)
        moved = np.where(mass > 0, sums[..., 1:] / np.maximum(mass, 1e-12), now)
        still = np.abs(moved - now).max(axis=(1, 2)) <= 1e-3
        now = np.where(moving[:, None, None], moved, now)
        moving &= ~still
        if not moving.any():
            break
        if moving.sum() <= 0.8 * len(moving):
            centre[live] = now
            live, now, work, weighted = live[moving], now[moving], work[moving], weighted[moving]
            moving = moving[moving]
    centre[live] = now
    mass = (_assign(centre, augmented) @ moments[..., :1])[..., 0].astype(np.float64)
    return centre, mass, used


def _assign(centre: FloatArray, augmented: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """One-hot ``[sets, k, n]`` of each point's nearest centre, from ``augmented`` points ``[x, y, z, 1]``
    (``[sets, 4, n]``) against centres lifted to ``[-2c, |c|^2]``: |p - c|^2 less |p|^2, which all centres
    share. One matrix product per set."""
    lifted = np.concatenate([-2.0 * centre, (centre * centre).sum(axis=2, keepdims=True)], axis=2)
    distances = lifted.astype(np.float32) @ augmented
    nearest = distances.min(axis=1, keepdims=True)
    return np.equal(distances, nearest, out=distances, casting="unsafe")


def _is_skin(lab: FloatArray) -> npt.NDArray[np.bool_]:
    """Which Lab colours (``[..., 3]``) look like skin (a model's face and arms)."""
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.hypot(a, b)
    hue = np.degrees(np.arctan2(b, a))
    return (
        (35 < lightness)
        & (lightness < 85)
        & (12 < chroma)
        & (chroma < 45)
        & (25 < hue)
        & (hue < 75)
        & (a > 6)
    )


def _clusters_many(images: Sequence[PILImage], params: _Params) -> tuple[FloatArray, FloatArray]:
    """The colour clusters of each image: Lab centres ``[images, k, 3]`` and shares ``[images, k]``, each
    row largest first, summing to 1, padded with zero shares. Images of one size go through every step
    together."""
    arrays = [_pixels(image, params.max_side) for image in images]
    k = params.clusters
    centres = np.full((len(arrays), k, 3), _UNUSED)
    mass = np.zeros((len(arrays), k))
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, pixels in enumerate(arrays):
        by_size.setdefault((pixels.shape[0], pixels.shape[1]), []).append(i)
    for (height, width), group in by_size.items():
        members = np.array(group)
        lab = _lab_planes(np.stack([arrays[i] for i in group]))
        background, found = _backgrounds(lab, params)
        foreground = np.ones(lab.shape[1:], dtype=bool)
        has = np.flatnonzero(found)
        if has.size:
            offset = lab[:, has] - background[:, has, None, None]
            offset *= offset
            distance2 = offset[0] + offset[1] + offset[2]
            foreground[has] = ~_connected_to_border(distance2 < params.bg_delta_e**2) & (
                distance2 >= params.enclosed_delta_e**2
            )
        kept = foreground.sum(axis=(1, 2))
        flat = found & ((kept / (height * width) < params.min_foreground) | (kept < 3))
        centres[members[flat], 0] = background[:, flat].T
        mass[members[flat], 0] = 1.0
        jobs = np.flatnonzero(~flat)
        jobs = jobs[np.argsort(kept[jobs], kind="stable")]
        area = height * width
        lab_flat = lab.reshape(3, len(group) * area)
        pixel_weights = _centre_weights(height, width, params.centre).ravel()
        for start, end in _chunks(kept[jobs]):
            chunk = jobs[start:end]
            # Each image's foreground pixels, in order, packed to the front of its row.
            where = np.flatnonzero(foreground[chunk])
            image = where // area
            pixel = where - image * area
            sizes = kept[chunk]
            length = -(-int(sizes.max()) // _BLOCK) * _BLOCK
            slot = np.arange(len(where)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
            slot += image * length
            points = np.zeros((3, len(chunk) * length))
            points[:, slot] = lab_flat.take(chunk[image] * area + pixel, axis=1)
            weights = np.zeros(len(chunk) * length)
            weights[slot] = pixel_weights.take(pixel)
            found_centres, found_mass, _ = _kmeans(
                points.reshape(3, len(chunk), length),
                weights.reshape(len(chunk), length),
                k,
                params.iterations,
            )
            centres[members[chunk]] = found_centres
            mass[members[chunk]] = found_mass
    mass *= np.where(_is_skin(centres), params.skin_weight, 1.0)
    order = np.argsort(-mass, axis=1, kind="stable")
    centres = np.take_along_axis(centres, order[..., None], axis=1)
    mass = np.take_along_axis(mass, order, axis=1)
    return centres, mass / mass.sum(axis=1, keepdims=True)
