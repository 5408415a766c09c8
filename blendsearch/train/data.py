"""Image-text training pairs from a catalogue, with the decoded images cached as one uint8 array.

Decoding tens of thousands of JPEGs takes longer than an epoch of the small model, so the first run
decodes every image once, fits it into the model's input size, and saves the array as ``.npy`` under
``$BLENDSEARCH_HOME/train-cache/``; later runs memory-map it. The cache key covers the catalogue's path,
size and modification time, the field mapping, the split filter and the image size, so an edited
catalogue is decoded again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from blendsearch._types import PathInput
from blendsearch.config import FieldMapping
from blendsearch.encoders.own.folder import fit_image
from blendsearch.exceptions import BlendsearchError, CatalogError
from blendsearch.paths import blendsearch_home

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from PIL.Image import Image as PILImage

__all__ = [
    "CACHE_VERSION",
    "TrainingPairs",
    "fit_image",
    "load_pairs",
    "pairs_from_images",
]

#: Bump when the cached array's layout or the fitting changes.
CACHE_VERSION = 1


@dataclass
class TrainingPairs:
    """Aligned images and captions. ``images`` is uint8 [n, height, width, 3]."""

    images: np.ndarray
    texts: list[str]
    ids: list[str] = field(default_factory=list)
    #: Rows skipped while reading (no title, no or unreadable image), with the reason.
    skipped: int = 0

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.shape[-1] != 3 or self.images.dtype != np.uint8:
            raise ValueError("images must be a uint8 array [n, height, width, 3]")
        if len(self.images) != len(self.texts):
            raise ValueError(f"{len(self.images)} images but {len(self.texts)} texts")
        if self.ids and len(self.ids) != len(self.texts):
            raise ValueError(f"{len(self.ids)} ids but {len(self.texts)} texts")

    def __len__(self) -> int:
        return len(self.texts)

    def groups(self) -> np.ndarray:
        """One int per pair, equal for pairs with the same caption (they count as positives of each other)."""
        index: dict[str, int] = {}
        return np.array([index.setdefault(text, len(index)) for text in self.texts], dtype=np.int64)


def pairs_from_images(
    images: Sequence[PILImage], texts: Sequence[str], height: int = 80, width: int = 60
) -> TrainingPairs:
    """Pairs from in-memory PIL images (tests, notebooks)."""
    array = np.stack([fit_image(img, height, width) for img in images]) if images else None
    if array is None:
        array = np.zeros((0, height, width, 3), dtype=np.uint8)
    return TrainingPairs(images=array, texts=list(texts))


def _cache_key(
    catalog: Path,
    mapping: FieldMapping,
    split_field: str | None,
    split_value: str | None,
    size: tuple[int, int],
) -> str:
    stat = catalog.stat()
    parts = {
        "version": CACHE_VERSION,
        "catalog": str(catalog.resolve()),
        "bytes": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "mapping": mapping.model_dump(mode="json"),
        "split": [split_field, split_value],
        "size": list(size),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def _split_of(raw: dict, attributes: dict, split_field: str) -> str | None:
    value = raw.get(split_field, attributes.get(split_field))
    return None if value is None else str(value)


def load_pairs(
    catalog: PathInput,
    mapping: FieldMapping | None = None,
    *,
    split_field: str | None = None,
    split_value: str | None = None,
    height: int = 80,
    width: int = 60,
    use_cache: bool = True,
    progress: Callable[[int], None] | None = None,
) -> TrainingPairs:
    """(image, title) pairs of a catalogue, optionally only rows whose ``split_field`` equals ``split_value``.

    Rows without a title or with a missing/unreadable image are skipped (counted in ``skipped``).
    The caption is the title: it is what queries look like. ``progress(n_read)`` is called every 1,000 rows.
    """
    from blendsearch.imageio import decode_image
    from blendsearch.ingest.images import ImageSource
    from blendsearch.ingest.readers import read_catalog

    path = Path(catalog)
    if not path.is_file():
        raise CatalogError(f"catalogue {path} does not exist")
    mapping = mapping or FieldMapping()
    cache_dir = blendsearch_home() / "train-cache"
    key = _cache_key(path, mapping, split_field, split_value, (height, width))
    array_file, meta_file = cache_dir / f"{key}.npy", cache_dir / f"{key}.json"
    if use_cache and array_file.is_file() and meta_file.is_file():
        meta = json.loads(meta_file.read_text())
        images = np.load(array_file, mmap_mode="r")
        return TrainingPairs(images=images, texts=meta["texts"], ids=meta["ids"], skipped=meta["skipped"])

    pixels: list[np.ndarray] = []
    texts: list[str] = []
    ids: list[str] = []
    skipped = 0
    with ImageSource.for_catalog(path, mapping) as source:
        for count, item in enumerate(read_catalog(path, mapping), start=1):
            if progress is not None and count % 1000 == 0:
                progress(count)
            doc = item.document
            if doc is None:
                skipped += 1
                continue
            if split_field is not None and _split_of(item.raw, doc.attributes, split_field) != split_value:
                continue
            if not doc.title.strip() or not doc.image:
                skipped += 1
                continue
            try:
                image = decode_image(source.fetch(doc.image))
            except BlendsearchError:
                skipped += 1
                continue
            pixels.append(fit_image(image, height, width))
            texts.append(doc.title.strip())
            ids.append(doc.id)
    if not texts:
        where = f" with {split_field}={split_value}" if split_field else ""
        raise CatalogError(f"no usable image-title pairs in {path}{where} ({skipped} rows skipped)")
    images = np.stack(pixels)
    if use_cache:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = array_file.with_suffix(".tmp.npy")
        np.save(tmp, images)
        os.replace(tmp, array_file)
        meta_file.write_text(json.dumps({"texts": texts, "ids": ids, "skipped": skipped}))
    return TrainingPairs(images=images, texts=texts, ids=ids, skipped=skipped)
