"""A synthetic catalogue of any size built from a real one, with vectors precomputed (``bench scale``).

Each real product's photo and title are encoded once (cached under ``blendsearch_home()``), then
product ``i`` of the synthetic catalogue takes a real base product, swaps in the brand (first title
word) and the season/year/usage of two other real products, and gets the base's vectors (its photo's,
and its real title's: the swapped brand is not re-encoded) plus a small Gaussian perturbation,
re-normalised, so the catalogue can outgrow the photos while keeping their neighbourhood structure.
Product ``i < real count`` is the real product itself (no perturbation).
"""

from __future__ import annotations

import csv
import hashlib
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from blendsearch.documents import StoredDocument
from blendsearch.encoders.base import Encoder, l2_normalise
from blendsearch.eval.bench_cache import Progress
from blendsearch.exceptions import BlendsearchError, CatalogError
from blendsearch.imageio import decode_image
from blendsearch.paths import blendsearch_home

__all__ = ["DONOR_FIELDS", "RealCatalog", "encode_real_catalog", "load_real_catalog", "synthetic_batches"]

#: Attributes taken from a second real product, so synthetic products recombine real values.
DONOR_FIELDS = ("season", "year", "usage")
_SKIP = {"id", "split", "title", "image"}
#: Longest photo side decoded for encoding (the photos are small thumbnails; encoders resize anyway).
_DECODE_SIDE = 256


@dataclass
class RealCatalog:
    """The real products (id, title, attributes) and, once encoded, one image and text vector each."""

    ids: list[str]
    titles: list[str]
    attributes: list[dict[str, str]]
    image_vectors: np.ndarray | None = None
    text_vectors: np.ndarray | None = None
    model: str = ""
    #: How the image vectors were made (the encoder on the photo, or a stated substitute).
    image_vector_source: str = ""


def load_real_catalog(folder: Path, limit: int | None = None) -> RealCatalog:
    """``products.csv`` of the fashion catalogue folder: rows with an id and a title (the first
    ``limit`` of them, for quick runs)."""
    path = folder / "products.csv"
    if not path.is_file():
        raise CatalogError(f"{path} does not exist: bench scale needs the fashion catalogue folder")
    ids: list[str] = []
    titles: list[str] = []
    attributes: list[dict[str, str]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row.get("id") or not row.get("title"):
                continue
            ids.append(row["id"])
            titles.append(row["title"].strip())
            attributes.append({k: v for k, v in row.items() if k not in _SKIP and v not in (None, "")})
            if limit is not None and len(ids) >= limit:
                break
    if not ids:
        raise CatalogError(f"{path} has no rows with an id and a title")
    return RealCatalog(ids=ids, titles=titles, attributes=attributes)


def _cache_file(folder: Path, fingerprint: str, products: int) -> Path:
    """One file per catalogue version (sizes and mtimes of its files), model and product count."""
    stamp = hashlib.sha256(f"{fingerprint}|{products}".encode())
    for name in ("products.csv", "images.zip"):
        file = folder / name
        if file.is_file():
            info = file.stat()
            stamp.update(f"{name}:{info.st_size}:{int(info.st_mtime)}".encode())
    return blendsearch_home() / "bench-scale" / f"vectors-{stamp.hexdigest()[:16]}.npz"


def encode_real_catalog(
    catalog: RealCatalog, folder: Path, encoder: Encoder, progress: Progress | None = None
) -> RealCatalog:
    """Fill in the vectors: each photo (``images.zip`` member ``<id>.jpg``) and title encoded once,
    cached so reruns skip encoding. A product whose photo is missing or unreadable gets its title's
    vector as its image vector (counted in ``image_vector_source``)."""
    cache = _cache_file(folder, encoder.fingerprint, len(catalog.ids))
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            if [str(i) for i in data["ids"]] == catalog.ids:
                catalog.image_vectors = data["image"]
                catalog.text_vectors = data["text"]
                catalog.image_vector_source = str(data["source"])
                catalog.model = encoder.fingerprint
                return catalog
    if progress:
        progress(f"encoding {len(catalog.ids)} photos and titles with {encoder.fingerprint} (cached after)")
    text = encoder.encode_texts(catalog.titles)
    image = text.copy()
    missing = 0
    archive = folder / "images.zip"
    if encoder.supports_images and archive.is_file():
        chunk = 512
        with zipfile.ZipFile(archive) as zf:
            for start in range(0, len(catalog.ids), chunk):
                rows, pictures = [], []
                for row in range(start, min(start + chunk, len(catalog.ids))):
                    name = f"{catalog.ids[row]}.jpg"
                    try:
                        pictures.append(decode_image(zf.read(name), max_side=_DECODE_SIDE))
                        rows.append(row)
                    except (KeyError, BlendsearchError):  # absent or unreadable: the title's vector
                        missing += 1
                if pictures:
                    image[rows] = encoder.encode_images(pictures)
                if progress and start % (chunk * 20) == 0:
                    progress(f"  photos {start + len(rows)}/{len(catalog.ids)}")
        source = f"{encoder.fingerprint} on the photo ({missing} without a readable photo: title vector)"
    else:
        source = f"title vector ({encoder.fingerprint} encodes no images or images.zip is absent)"
    catalog.image_vectors, catalog.text_vectors = image, text
    catalog.image_vector_source, catalog.model = source, encoder.fingerprint
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.stem + ".tmp.npz")
    np.savez(tmp, ids=np.array(catalog.ids), image=image, text=text, source=np.array(source))
    tmp.replace(cache)
    return catalog


def _perturbed(rng: np.random.Generator, base: np.ndarray, noise: float, exact: np.ndarray) -> np.ndarray:
    """``base`` rows plus Gaussian noise of expected norm ``noise``, re-normalised; rows in ``exact`` kept."""
    jitter = rng.standard_normal(base.shape, dtype=np.float32) * np.float32(noise / np.sqrt(base.shape[1]))
    jitter[exact] = 0.0
    return l2_normalise(base + jitter)


def synthetic_batches(
    catalog: RealCatalog,
    products: int,
    *,
    batch_size: int,
    noise: float = 0.3,
    seed: int = 0,
    counts: Counter[str] | None = None,
) -> Iterator[list[StoredDocument]]:
    """``products`` documents in batches, deterministic for a seed; ``counts`` tallies
    ``field=value`` of every attribute written (what a filter will match)."""
    if catalog.image_vectors is None or catalog.text_vectors is None:
        raise CatalogError("encode the real catalogue first (encode_real_catalog)")
    real = len(catalog.ids)
    brands = [t.split(maxsplit=1)[0] for t in catalog.titles]
    rests = [t.split(maxsplit=1)[1] if " " in t else "" for t in catalog.titles]
    rng = np.random.default_rng(seed)
    for start in range(0, products, batch_size):
        index = np.arange(start, min(start + batch_size, products))
        base = index % real
        original = index < real
        brand_of = np.where(original, base, rng.integers(0, real, size=index.size))
        donor = np.where(original, base, rng.integers(0, real, size=index.size))
        image = _perturbed(rng, catalog.image_vectors[base], noise, original)
        text = _perturbed(rng, catalog.text_vectors[base], noise, original)
        batch: list[StoredDocument] = []
        rows = zip(index.tolist(), base.tolist(), brand_of.tolist(), donor.tolist(), strict=True)
        for j, (i, b, a, d) in enumerate(rows):
            attributes = dict(catalog.attributes[b])
            for name in DONOR_FIELDS:
                value = catalog.attributes[d].get(name)
                if value is None:
                    attributes.pop(name, None)
                else:
                    attributes[name] = value
            if counts is not None:
                counts.update(f"{k}={v}" for k, v in attributes.items())
            title = f"{brands[a]} {rests[b]}".strip()
            batch.append(
                StoredDocument(
                    id=f"s{i:07d}",
                    title=title,
                    attributes=attributes,
                    image=f"{catalog.ids[b]}.jpg",
                    content_hash=f"scale:{seed}:{noise}:{i}",
                    image_vector=image[j],
                    text_vector=text[j],
                )
            )
        yield batch
