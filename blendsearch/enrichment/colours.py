"""Dominant named colours of a product photo, in CIELAB.

The steps, each chosen for catalogue photos (a product, or a model wearing it, on a plain studio
background):

1. Convert to CIELAB (sRGB, D65), where Euclidean distance approximates perceived difference
   (CIE76 delta E; Sharma, Wu & Dalal 2005 give the formulas).
2. Estimate the background from the border ring of the image: the colour most border pixels share.
   Background-like pixels (within ``bg_delta_e``) that are *connected to the border* are dropped; the
   same colour enclosed by the product is kept, so a white shirt on white is still white.
3. Cluster the remaining pixels with a small weighted k-means (deterministic seed), weighting pixels
   by closeness to the image centre (the product is framed there; the model's shoes and hair are
   not) and down-weighting skin-coloured clusters.
4. Name each cluster by a soft vote over the palette: ``p(name | cluster)`` is a softmax over names of
   ``-d^2 / (2 sigma_name^2) + bias_name``, with d the distance to the name's centre in Lab, split
   into lightness, chroma and hue differences as CIE94 / CMC do, lightness and chroma down-weighted
   (shading and lighting change them far more than hue); a name's share of the product is the sum
   over clusters of ``cluster share * p(name | cluster)``.

The naming model (:data:`_NAMING`: a Lab centre, sigma and bias per name, and the two weights) was
fitted by maximum likelihood of the catalogue's ``baseColour`` given the clusters of the 35,277
``split=train`` photos of the fashion benchmark catalogue, plus jittered "textbook" examples of each
:data:`PALETTE` colour and of 66 CSS/X11 named colours, so that plain colours keep their everyday
names (pure red is Red, #000080 is Navy Blue; 36 of the 43 palette colours name themselves, the
others fall to a commoner neighbour, e.g. Charcoal -> Black). Textbook anchors with nearest-colour
naming named about a quarter of the photos right; the fitted model 57% (69% within the two names
returned), measured on ``split=test`` by :func:`blendsearch.enrichment.evaluate.colour_accuracy`;
figures in ``docs/catalogues-and-enrichment.md``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from blendsearch._types import FloatArray

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__ = [
    "COLOUR_FAMILIES",
    "PALETTE",
    "colour_family",
    "colour_shares",
    "delta_e",
    "dominant_colours",
    "nearest_colour",
    "srgb_to_lab",
]


#: Named colours (the fashion catalogue's ``baseColour`` vocabulary, less Multi, Metallic and Mushroom
#: Brown) and a typical sRGB value of each, for display and for matching colour words to colours.
PALETTE: dict[str, tuple[int, int, int]] = {
    "Black": (25, 25, 25),
    "White": (245, 245, 245),
    "Grey": (128, 128, 128),
    "Blue": (40, 90, 180),
    "Navy Blue": (30, 35, 70),
    "Red": (190, 30, 40),
    "Green": (40, 130, 60),
    "Brown": (110, 70, 40),
    "Pink": (235, 140, 170),
    "Purple": (110, 50, 130),
    "Yellow": (240, 210, 50),
    "Beige": (220, 200, 170),
    "Orange": (240, 120, 30),
    "Maroon": (110, 25, 40),
    "Olive": (110, 110, 50),
    "Cream": (245, 235, 210),
    "Silver": (195, 195, 200),
    "Gold": (200, 165, 80),
    "Khaki": (190, 175, 125),
    "Teal": (0, 120, 120),
    "Turquoise Blue": (40, 190, 210),
    "Peach": (250, 190, 160),
    "Lavender": (190, 170, 220),
    "Magenta": (200, 40, 140),
    "Charcoal": (60, 60, 65),
    "Off White": (240, 238, 228),
    "Mustard": (210, 165, 40),
    "Rust": (170, 75, 35),
    "Tan": (200, 150, 100),
    "Coffee Brown": (75, 50, 35),
    "Mauve": (180, 130, 160),
    "Burgundy": (120, 20, 50),
    "Sea Green": (50, 160, 120),
    "Lime Green": (150, 210, 50),
    "Fluorescent Green": (120, 255, 60),
    "Skin": (225, 180, 150),
    "Rose": (220, 110, 130),
    "Copper": (185, 105, 60),
    "Bronze": (150, 110, 50),
    "Nude": (225, 190, 165),
    "Steel": (150, 160, 170),
    "Taupe": (140, 125, 110),
    "Grey Melange": (170, 170, 170),
}

#: Each palette name's basic colour family (Berlin & Kay's basic colour terms, plus Beige).
COLOUR_FAMILIES: dict[str, str] = {
    "Black": "Black",
    "White": "White",
    "Grey": "Grey",
    "Blue": "Blue",
    "Navy Blue": "Blue",
    "Red": "Red",
    "Green": "Green",
    "Brown": "Brown",
    "Pink": "Pink",
    "Purple": "Purple",
    "Yellow": "Yellow",
    "Beige": "Beige",
    "Orange": "Orange",
    "Maroon": "Red",
    "Olive": "Green",
    "Cream": "White",
    "Silver": "Grey",
    "Gold": "Yellow",
    "Khaki": "Beige",
    "Teal": "Blue",
    "Turquoise Blue": "Blue",
    "Peach": "Orange",
    "Lavender": "Purple",
    "Magenta": "Pink",
    "Charcoal": "Grey",
    "Off White": "White",
    "Mustard": "Yellow",
    "Rust": "Orange",
    "Tan": "Brown",
    "Coffee Brown": "Brown",
    "Mauve": "Purple",
    "Burgundy": "Red",
    "Sea Green": "Green",
    "Lime Green": "Green",
    "Fluorescent Green": "Green",
    "Skin": "Beige",
    "Rose": "Pink",
    "Copper": "Brown",
    "Bronze": "Brown",
    "Nude": "Beige",
    "Steel": "Grey",
    "Taupe": "Brown",
    "Grey Melange": "Grey",
}

#: The naming model, fitted on the fashion catalogue's ``split=train`` photos (see the module docstring):
#: per name, the Lab centre (L, a, b), the spread sigma (delta E) and the bias (log weight, largest 0).
#: Centres sit where they separate names best in real photos (which are darker and duller than textbook
#: colours), so they differ from the display colours of PALETTE.
_NAMING: dict[str, tuple[float, float, float, float, float]] = {
    "Black": (16.8, -4.9, 16.0, 6.88, -2.49),
    "White": (88.6, 2.4, 1.8, 3.92, -5.08),
    "Grey": (55.6, -1.1, 6.0, 6.04, -5.07),
    "Blue": (48.0, 2.7, -50.7, 15.24, -5.22),
    "Navy Blue": (9.2, 16.2, -28.0, 12.12, -5.88),
    "Red": (49.8, 58.7, 28.1, 11.75, -2.88),
    "Green": (49.0, -34.2, 31.6, 8.75, -1.14),
    "Brown": (31.5, 12.5, 25.3, 5.63, -0.73),
    "Pink": (76.1, 54.2, 4.0, 9.01, -1.51),
    "Purple": (43.1, 42.8, -25.4, 9.78, -2.86),
    "Yellow": (86.6, -4.6, 72.1, 10.95, -2.91),
    "Beige": (73.9, 4.6, 19.2, 3.88, -4.14),
    "Orange": (66.5, 40.9, 62.7, 11.49, -2.96),
    "Maroon": (23.3, 39.3, 20.4, 8.85, -4.17),
    "Olive": (37.7, -14.2, 35.8, 6.01, 0.00),
    "Cream": (92.7, -0.0, 17.1, 5.19, -6.92),
    "Silver": (78.1, 0.7, 1.1, 2.94, -5.83),
    "Gold": (66.5, 3.3, 42.6, 8.41, -4.17),
    "Khaki": (66.8, -3.5, 30.1, 4.35, -3.31),
    "Teal": (42.5, -25.7, -7.3, 6.21, -7.33),
    "Turquoise Blue": (70.5, -30.4, -22.8, 14.30, -9.88),
    "Peach": (83.3, 20.1, 24.5, 4.93, -3.62),
    "Lavender": (75.1, 23.6, -21.4, 5.84, -3.98),
    "Magenta": (46.2, 68.0, -16.8, 10.83, -3.72),
    "Charcoal": (28.1, -1.0, 0.3, 3.89, -6.83),
    "Off White": (93.6, -0.7, 6.0, 3.74, -7.78),
    "Mustard": (69.0, 6.6, 65.5, 8.03, -3.23),
    "Rust": (43.5, 36.4, 41.4, 7.01, -3.44),
    "Tan": (64.6, 12.9, 33.2, 5.25, -3.52),
    "Coffee Brown": (23.7, 9.2, 15.8, 2.78, -2.23),
    "Mauve": (60.1, 24.4, -8.3, 4.36, -4.01),
    "Burgundy": (25.3, 44.8, 10.0, 6.53, -4.30),
    "Sea Green": (58.0, -39.5, 14.7, 4.63, -2.98),
    "Lime Green": (77.4, -42.6, 67.5, 10.10, -4.35),
    "Fluorescent Green": (90.2, -67.5, 76.4, 7.40, -4.71),
    "Skin": (75.8, 12.2, 22.1, 3.45, -3.76),
    "Rose": (59.9, 45.1, 9.5, 4.28, -2.39),
    "Copper": (52.1, 25.9, 38.9, 7.75, -3.94),
    "Bronze": (48.1, 11.4, 39.7, 6.91, -3.42),
    "Nude": (78.9, 9.3, 17.6, 2.28, -3.95),
    "Steel": (65.7, -1.1, -0.4, 3.54, -6.78),
    "Taupe": (53.0, 3.9, 11.3, 2.20, -4.50),
    "Grey Melange": (68.9, 0.1, 0.8, 2.91, -6.89),
}

#: Weights of the lightness and chroma differences against the hue difference when naming (fitted).
#: Shading and lighting change a photo's lightness and saturation far more than its hue, the same
#: reason the textile industry's CMC l:c colour difference tolerates lightness more (l = 2).
_LIGHTNESS_WEIGHT = 0.333
_CHROMA_WEIGHT = 0.399


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

# sRGB (D65) -> XYZ, IEC 61966-2-1; reference white D65.
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])


def srgb_to_lab(rgb: npt.ArrayLike) -> FloatArray:
    """CIELAB (D65) of sRGB colours given as 0-255 values in the last axis (any leading shape)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE_D65
    delta = 6.0 / 29.0
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (3 * delta * delta) + 4.0 / 29.0)
    return np.stack(
        [116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], axis=-1
    )


#: sRGB decoding (the piecewise gamma of :func:`srgb_to_lab`) of each 8-bit value, so an image's pixels
#: are looked up instead of raised to a power one by one (the same values: the same formula, computed once).
_LINEAR_8BIT = np.where(
    np.arange(256) / 255.0 <= 0.04045,
    np.arange(256) / 255.0 / 12.92,
    ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4,
)


def _lab_of_pixels(pixels: npt.NDArray[np.uint8]) -> FloatArray:
    """:func:`srgb_to_lab` of 8-bit pixels, through :data:`_LINEAR_8BIT`."""
    xyz = _LINEAR_8BIT[pixels] @ _RGB_TO_XYZ.T / _WHITE_D65
    delta = 6.0 / 29.0
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (3 * delta * delta) + 4.0 / 29.0)
    return np.stack(
        [116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], axis=-1
    )


def delta_e(lab1: npt.ArrayLike, lab2: npt.ArrayLike) -> FloatArray:
    """CIE76 colour difference (Euclidean distance in Lab), broadcast over leading axes."""
    return np.linalg.norm(np.asarray(lab1, dtype=np.float64) - np.asarray(lab2, dtype=np.float64), axis=-1)


def colour_family(name: str) -> str:
    """The basic colour a palette name belongs to (``"Navy Blue"`` -> ``"Blue"``); unknown names map
    to themselves, matched case-insensitively."""
    if name in COLOUR_FAMILIES:
        return COLOUR_FAMILIES[name]
    folded = {key.casefold(): value for key, value in COLOUR_FAMILIES.items()}
    return folded.get(name.strip().casefold(), name)


# -- the naming model as arrays (built once, on first use) ---------------------------------------------


@dataclass(frozen=True)
class _Model:
    names: tuple[str, ...]
    centres: FloatArray  # [names, 3] Lab
    chroma: FloatArray  # C*ab of each centre
    inverse_2var: FloatArray  # 1 / (2 sigma^2) per name
    bias: FloatArray


_MODEL_CACHE: list[_Model] = []


def _model() -> _Model:
    if not _MODEL_CACHE:
        names = tuple(PALETTE)
        table = np.array([_NAMING[n] for n in names], dtype=np.float64)
        centres = table[:, :3]
        chroma = np.hypot(centres[:, 1], centres[:, 2])
        _MODEL_CACHE.append(_Model(names, centres, chroma, 1.0 / (2.0 * table[:, 3] ** 2), table[:, 4]))
    return _MODEL_CACHE[0]


def nearest_colour(rgb: Iterable[int]) -> str:
    """The palette name of one sRGB colour: what :func:`dominant_colours` calls a flat product of it."""
    lab = srgb_to_lab(np.asarray(list(rgb), dtype=np.float64))
    return next(iter(_name_shares([(lab, 1.0)])))


# -- image analysis -----------------------------------------------------------------------------------


def _pixels(image: PILImage, max_side: int) -> npt.NDArray[np.uint8]:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    if max(rgb.size) > max_side:
        rgb = rgb.copy()
        rgb.thumbnail((max_side, max_side))
    return np.asarray(rgb, dtype=np.uint8)


#: Run ids per pixel, the mask flattened, and the number of runs (see :func:`_runs`).
_Runs = tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_], int]


def _connected_to_border(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """The pixels of ``mask`` reachable from the image border through ``mask`` (4-connected).

    Grows the reached set a whole run at a time: a horizontal run of ``mask`` touching a reached pixel is
    reached entirely, then the same for vertical runs, until nothing changes. The fixed point is the
    same as growing one pixel per step, in as many sweeps as the paths have turns, not pixels.
    """
    reach = np.zeros_like(mask)
    reach[0, :] = mask[0, :]
    reach[-1, :] = mask[-1, :]
    reach[:, 0] |= mask[:, 0]
    reach[:, -1] |= mask[:, -1]
    rows, cols = _runs(mask), _runs(mask.T)
    while True:
        grown = _spread(rows, reach)
        grown = _spread(cols, grown.T).T
        if np.array_equal(grown, reach):
            return reach
        reach = grown


def _runs(mask: npt.NDArray[np.bool_]) -> _Runs:
    """Each pixel's run id (runs of ``mask`` along the rows, numbered across the image), the mask, and
    the number of ids."""
    flat = mask.ravel()
    starts = flat.copy()
    starts[1:] &= ~flat[:-1]
    starts[:: mask.shape[1]] = flat[:: mask.shape[1]]  # a run never continues onto the next row
    ids = np.cumsum(starts) - 1
    return ids, flat, int(starts.sum())


def _spread(runs: _Runs, reach: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """``reach`` widened to every run (of :func:`_runs`) holding one of its pixels."""
    ids, flat, count = runs
    hit = np.zeros(count + 1, dtype=bool)
    hit[ids[reach.ravel() & flat]] = True
    return (hit[ids] & flat).reshape(reach.shape)


def _background(lab: FloatArray, params: _Params) -> FloatArray | None:
    """The background colour from the border ring, or None when no colour dominates the border."""
    height, width, _ = lab.shape
    band = max(1, round(min(height, width) * params.ring))
    ring = np.zeros((height, width), dtype=bool)
    ring[:band, :] = ring[-band:, :] = True
    ring[:, :band] = ring[:, -band:] = True
    border = lab[ring]
    near = delta_e(border, np.median(border, axis=0)) < params.border_delta_e
    if near.mean() < params.border_share:
        return None
    return border[near].mean(axis=0)


def _kmeans(
    points: FloatArray, weights: FloatArray, k: int, iterations: int
) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Weighted k-means with k-means++ seeding from a fixed seed (same image, same clusters)."""
    rng = np.random.default_rng(0)
    n = len(points)
    probabilities = weights / weights.sum()
    centres = [points[rng.choice(n, p=probabilities)]]
    closest = ((points - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, min(k, n)):
        spread = closest * weights
        if spread.sum() <= 1e-12:
            break
        centres.append(points[rng.choice(n, p=spread / spread.sum())])
        closest = np.minimum(closest, ((points - centres[-1]) ** 2).sum(axis=1))
    centre = np.array(centres)
    squared = (points**2).sum(axis=1)[:, None]
    labels = np.zeros(n, dtype=np.intp)
    for _ in range(iterations):
        labels = _nearest(points, squared, centre)
        k_now = len(centre)
        mass = np.bincount(labels, weights=weights, minlength=k_now)
        sums = np.stack(
            [np.bincount(labels, weights=weights * points[:, d], minlength=k_now) for d in range(3)], axis=1
        )
        moved = np.where(mass[:, None] > 0, sums / np.maximum(mass[:, None], 1e-12), centre)
        converged = float(np.abs(moved - centre).max()) <= 1e-3
        centre = moved
        if converged:
            break
    return centre, _nearest(points, squared, centre)


def _nearest(points: FloatArray, squared: FloatArray, centre: FloatArray) -> npt.NDArray[np.intp]:
    """Index of the nearest centre per point, by |p|^2 - 2 p.c + |c|^2 (one matrix product)."""
    return np.argmin(squared - 2.0 * points @ centre.T + (centre**2).sum(axis=1)[None, :], axis=1)


@functools.lru_cache(maxsize=16)
def _centre_weights(height: int, width: int, centre: float) -> FloatArray:
    """``exp(-centre * r^2)`` per pixel, r the distance from the image centre (1 = edge); the same for
    every image of one size, so computed once per size."""
    rows, cols = np.mgrid[0:height, 0:width]
    radius2 = ((rows - (height - 1) / 2) / (height / 2)) ** 2 + ((cols - (width - 1) / 2) / (width / 2)) ** 2
    weights = np.exp(-centre * radius2)
    weights.setflags(write=False)
    return weights


def _is_skin(lab: FloatArray) -> bool:
    lightness, a, b = (float(v) for v in lab)
    chroma = math.hypot(a, b)
    hue = math.degrees(math.atan2(b, a))
    return 35 < lightness < 85 and 12 < chroma < 45 and 25 < hue < 75 and a > 6


def colour_shares(image: PILImage, params: _Params = _PARAMS) -> list[tuple[FloatArray, float]]:
    """The product's colour clusters as ``(Lab centre, share)``, shares summing to 1, largest first."""
    lab = _lab_of_pixels(_pixels(image, params.max_side))
    height, width, _ = lab.shape
    background = _background(lab, params)
    foreground = np.ones((height, width), dtype=bool)
    if background is not None:
        distance = delta_e(lab, background)
        foreground = ~_connected_to_border(distance < params.bg_delta_e) & (
            distance >= params.enclosed_delta_e
        )
        if foreground.mean() < params.min_foreground or foreground.sum() < 3:
            return [(background, 1.0)]
    weight = _centre_weights(height, width, params.centre)[foreground]
    points = lab[foreground]
    centres, labels = _kmeans(points, weight, params.clusters, params.iterations)
    mass = np.bincount(labels, weights=weight, minlength=len(centres))
    for j, centre in enumerate(centres):
        if _is_skin(centre):
            mass[j] *= params.skin_weight
    total = mass.sum()
    order = np.argsort(-mass)
    return [(centres[j], float(mass[j] / total)) for j in order if mass[j] > 0]


def _name_shares(clusters: list[tuple[FloatArray, float]]) -> dict[str, float]:
    """Soft vote of the clusters over the palette names: name -> share of the product (sums to 1).

    ``p(name | cluster)`` is a softmax over names of ``-d^2 / (2 sigma^2) + bias``, where
    ``d^2 = wL dL^2 + wC dC^2 + dH^2`` splits the Lab difference into lightness, chroma and hue (as
    CIE94 / CMC do); a name's share is the sum of ``cluster share * p(name | cluster)``.
    """
    model = _model()
    centres = np.array([c for c, _ in clusters])
    shares = np.array([s for _, s in clusters])
    diff = centres[:, None, :] - model.centres[None, :, :]
    chroma = np.hypot(centres[:, 1], centres[:, 2])[:, None] - model.chroma[None, :]
    hue2 = np.maximum(diff[..., 1] ** 2 + diff[..., 2] ** 2 - chroma**2, 0.0)
    dist2 = _LIGHTNESS_WEIGHT * diff[..., 0] ** 2 + _CHROMA_WEIGHT * chroma**2 + hue2
    logits = -dist2 * model.inverse_2var + model.bias
    logits -= logits.max(axis=1, keepdims=True)
    posterior = np.exp(logits)
    posterior /= posterior.sum(axis=1, keepdims=True)
    votes = shares @ posterior
    return {model.names[j]: float(votes[j]) for j in np.argsort(-votes, kind="stable")}


def dominant_colours(image: PILImage, max_colours: int = 2, min_share: float = 0.15) -> list[str]:
    """Names of the product's main colours, most dominant first: at least one, at most ``max_colours``,
    the others only if they cover ``min_share`` of the product."""
    if max_colours < 1:
        raise ValueError("max_colours must be >= 1")
    ranked = list(_name_shares(colour_shares(image)).items())
    names = [name for name, share in ranked[:max_colours] if share >= min_share]
    return names or [ranked[0][0]]
