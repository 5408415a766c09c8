"""Calibration metrics: expected calibration error, Brier score, log-loss, and the reliability diagram.

Sources: ECE with equal-width bins as in Guo et al., "On Calibration of Modern Neural Networks" (ICML 2017),
ECE = sum_b |B_b|/n * |mean(y in B_b) - mean(p in B_b)|; Brier (1950), mean((p - y)^2).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from blendsearch._types import FloatArray, PathInput

__all__ = ["brier", "expected_calibration_error", "log_loss", "reliability_bins", "reliability_diagram"]


def _pair(p: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    probs = np.asarray(p, dtype=np.float64).ravel()
    labels = np.asarray(y, dtype=np.float64).ravel()
    if probs.shape != labels.shape:
        raise ValueError(f"{probs.size} probabilities but {labels.size} labels")
    if probs.size and (probs.min() < 0 or probs.max() > 1):
        raise ValueError("probabilities must lie in [0, 1]")
    return probs, labels


def reliability_bins(p: npt.ArrayLike, y: npt.ArrayLike, bins: int = 10) -> tuple[FloatArray, ...]:
    """Per equal-width bin: count, mean predicted probability, observed frequency (NaN for empty bins)."""
    if bins < 1:
        raise ValueError("bins must be >= 1")
    probs, labels = _pair(p, y)
    index = np.minimum((probs * bins).astype(np.int64), bins - 1)
    counts = np.bincount(index, minlength=bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(index, weights=probs, minlength=bins) / counts
        observed = np.bincount(index, weights=labels, minlength=bins) / counts
    return counts, confidence, observed


def expected_calibration_error(p: npt.ArrayLike, y: npt.ArrayLike, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width bins: the count-weighted mean gap between confidence and accuracy.

    >>> expected_calibration_error([0.2, 0.2, 0.9, 0.9], [0, 1, 1, 1])
    0.2
    """
    counts, confidence, observed = reliability_bins(p, y, bins)
    total = counts.sum()
    if total == 0:
        return 0.0
    filled = counts > 0
    return round(float(np.sum(counts[filled] * np.abs(confidence[filled] - observed[filled])) / total), 12)


def brier(p: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Mean squared difference between probability and outcome (0 is perfect, 0.25 is a constant 0.5)."""
    probs, labels = _pair(p, y)
    return float(np.mean((probs - labels) ** 2)) if probs.size else 0.0


def log_loss(p: npt.ArrayLike, y: npt.ArrayLike, eps: float = 1e-12) -> float:
    """Mean negative log-likelihood of the labels under the probabilities."""
    probs, labels = _pair(p, y)
    if not probs.size:
        return 0.0
    probs = np.clip(probs, eps, 1 - eps)
    return float(-np.mean(labels * np.log(probs) + (1 - labels) * np.log1p(-probs)))


def reliability_diagram(
    p: npt.ArrayLike | Mapping[str, npt.ArrayLike],
    y: npt.ArrayLike,
    path_png: PathInput,
    bins: int = 10,
    title: str = "Reliability",
) -> Path:
    """Save a reliability diagram (observed frequency per confidence bin, with ECE in the legend).

    ``p`` is one probability array or several by name (e.g. ``{"before": p0, "after": p1}``), all for
    the same labels ``y``. matplotlib is imported here, with the file-only Agg backend.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = dict(p) if isinstance(p, Mapping) else {"model": p}
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(5.5, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    edges = np.linspace(0, 1, bins + 1)
    for name, probs in series.items():
        counts, confidence, observed = reliability_bins(probs, y, bins)
        ece = expected_calibration_error(probs, y, bins)
        filled = counts > 0
        top.plot(confidence[filled], observed[filled], marker="o", label=f"{name} (ECE {ece:.3f})")
        bottom.stairs(counts, edges, label=name)
    top.set_ylabel("observed frequency")
    top.set_title(title)
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.legend(loc="upper left", fontsize=8)
    bottom.set_xlabel("predicted probability")
    bottom.set_ylabel("count")
    bottom.set_yscale("log")
    fig.tight_layout()
    out = Path(path_png)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
