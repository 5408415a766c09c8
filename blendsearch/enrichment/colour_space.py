"""sRGB to CIELAB (D65) and the CIE76 colour difference: the colour space every colour step works in.

Euclidean distance in Lab approximates perceived difference (CIE76 delta E; Sharma, Wu & Dalal 2005 give
the formulas). :func:`srgb_to_lab` converts any colours; :func:`_lab_planes` the 8-bit pixels of a batch
of images, through a lookup table, for :mod:`blendsearch.enrichment.colour_clusters`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from blendsearch._types import FloatArray

__all__ = ["delta_e", "srgb_to_lab"]


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


#: sRGB -> XYZ relative to the D65 white (:data:`_RGB_TO_XYZ` with each row divided by the white's).
_RGB_TO_XYZ_WHITE = _RGB_TO_XYZ / _WHITE_D65[:, None]


def _lab_planes(pixels: npt.NDArray[np.uint8]) -> FloatArray:
    """:func:`srgb_to_lab` of 8-bit pixels (``[..., 3]``) through :data:`_LINEAR_8BIT`, as planes
    ``[3 (L, a, b), ...]``: plane-wise arithmetic (no 3x3 matrix product per pixel, no interleaving)
    is what keeps a batch of thumbnails cheap; the same values to within 1e-12."""
    channels = _LINEAR_8BIT.take(np.moveaxis(pixels, -1, 0), mode="clip")
    f = np.empty_like(channels)
    for row in range(3):
        np.multiply(channels[0], _RGB_TO_XYZ_WHITE[row, 0], out=f[row])
        f[row] += channels[1] * _RGB_TO_XYZ_WHITE[row, 1]
        f[row] += channels[2] * _RGB_TO_XYZ_WHITE[row, 2]
    delta = 6.0 / 29.0
    low = f <= delta**3
    linear = f[low] / (3 * delta * delta) + 4.0 / 29.0 if low.any() else None
    np.cbrt(f, out=f)
    if linear is not None:
        f[low] = linear
    lab = np.empty_like(f)  # from (fx, fy, fz): L = 116 fy - 16, a = 500 (fx - fy), b = 200 (fy - fz)
    np.multiply(f[1], 116.0, out=lab[0])
    lab[0] -= 16.0
    np.subtract(f[0], f[1], out=lab[1])
    lab[1] *= 500.0
    np.subtract(f[1], f[2], out=lab[2])
    lab[2] *= 200.0
    return lab


def delta_e(lab1: npt.ArrayLike, lab2: npt.ArrayLike) -> FloatArray:
    """CIE76 colour difference (Euclidean distance in Lab), broadcast over leading axes."""
    return np.linalg.norm(np.asarray(lab1, dtype=np.float64) - np.asarray(lab2, dtype=np.float64), axis=-1)
