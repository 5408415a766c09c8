"""How well :func:`~blendsearch.enrichment.colours.dominant_colours` names real product photos.

Measured against the fashion benchmark catalogue's own ``baseColour`` (see the dataset README), on a
fixed random sample of products whose colour is in the palette. The palette was fitted on
``split=train``; report on ``split=test``.
"""

from __future__ import annotations

import csv
import random
import zipfile
from collections import Counter
from pathlib import Path

from blendsearch._types import PathInput
from blendsearch.enrichment.colours import PALETTE, colour_family, dominant_colours
from blendsearch.exceptions import CatalogError
from blendsearch.imageio import decode_image

__all__ = ["colour_accuracy"]


def colour_accuracy(
    fashion_dir: PathInput,
    n: int = 2000,
    seed: int = 0,
    split: str | None = "test",
    max_colours: int = 2,
    min_share: float = 0.15,
) -> dict[str, object]:
    """Accuracy of the generated colours on ``n`` sampled products of ``split`` (None: every split).

    Returns ``top1`` (the first name is the catalogue's colour), ``top2`` (the catalogue's colour is
    among the names returned), ``family`` (the first name's family matches, e.g. Navy Blue ~ Blue),
    ``coverage`` (share of the split's products whose colour the palette has: the sample's universe),
    and per-colour ``top1`` for the colours sampled.
    """
    folder = Path(fashion_dir)
    catalog = folder / "products.csv"
    if not catalog.is_file() or not (folder / "images.zip").is_file():
        raise CatalogError(f"{folder} has no products.csv and images.zip")
    with open(catalog, encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if split is None or r["split"] == split]
    if not rows:
        raise CatalogError(f"no products with split={split!r} in {catalog}")
    known = [r for r in rows if r["baseColour"] in PALETTE]
    sample = random.Random(seed).sample(known, min(n, len(known)))
    top1 = top2 = family = 0
    per_colour: Counter[str] = Counter()
    per_colour_hits: Counter[str] = Counter()
    # The benchmark's own archive, laid out as ``<id>.jpg`` (no catalogue references to resolve).
    with zipfile.ZipFile(folder / "images.zip") as archive:
        for row in sample:
            truth = row["baseColour"]
            names = dominant_colours(decode_image(archive.read(f"{row['id']}.jpg")), max_colours, min_share)
            top1 += names[0] == truth
            top2 += truth in names
            family += colour_family(names[0]) == colour_family(truth)
            per_colour[truth] += 1
            per_colour_hits[truth] += names[0] == truth
    total = len(sample)
    return {
        "split": split,
        "n": total,
        "seed": seed,
        "top1": round(top1 / total, 4),
        "top2": round(top2 / total, 4),
        "family": round(family / total, 4),
        "coverage": round(len(known) / len(rows), 4),
        "per_colour": {
            name: {"n": count, "top1": round(per_colour_hits[name] / count, 4)}
            for name, count in per_colour.most_common()
        },
    }
