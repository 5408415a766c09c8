"""PNG figures of evaluation reports (matplotlib with the Agg backend, imported only when plotting)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from blendsearch._types import PathInput

__all__ = ["plot_category_bars", "plot_score_histograms"]


def _pyplot():  # noqa: ANN202 - matplotlib has no stable types
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_category_bars(
    by_category: Mapping[str, Mapping[str, float]],
    metric: str,
    path: PathInput,
    *,
    title: str = "",
    min_count: int = 1,
) -> Path:
    """Horizontal bars of ``metric`` per category (categories with fewer than ``min_count`` rows left out)."""
    plt = _pyplot()
    rows = [
        (name, values[metric], int(values.get("n", 0)))
        for name, values in by_category.items()
        if metric in values and values.get("n", min_count) >= min_count and values[metric] == values[metric]
    ]
    rows.sort(key=lambda row: row[1])
    figure, axes = plt.subplots(figsize=(7, max(2.5, 0.28 * len(rows) + 1)))
    axes.barh([f"{name} ({n})" for name, _, n in rows], [value for _, value, _ in rows], color="#4C72B0")
    axes.set_xlim(0, 1)
    axes.set_xlabel(metric)
    axes.set_title(title or f"{metric} per category")
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    out = Path(path)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out


def plot_score_histograms(
    positive: Sequence[float],
    negative: Sequence[float],
    path: PathInput,
    *,
    title: str = "positive vs negative pairs",
    xlabel: str = "cosine",
) -> Path:
    """Overlaid histograms of positive-pair and negative-pair scores: the further apart, the better."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4))
    pos = [x for x in positive if x == x]
    neg = [x for x in negative if x == x]
    axes.hist(neg, bins=60, alpha=0.6, density=True, label=f"negative (n={len(neg)})", color="#C44E52")
    axes.hist(pos, bins=60, alpha=0.6, density=True, label=f"positive (n={len(pos)})", color="#55A868")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("density")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    out = Path(path)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out
