"""The catalogue conditions a benchmark indexes under, and building a benchmark index.

Conditions: ``full`` (every product with its text), ``sparse`` (the ids listed in ``image_only_ids.txt``
get their image only), ``images`` (every product image only). Image references follow ingest's
conventions (:func:`blendsearch.ingest.readers.default_image_template`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from blendsearch._types import PathInput
from blendsearch.config import EncoderSettings, EngineConfig, EnrichmentSettings, FieldMapping
from blendsearch.documents import Document
from blendsearch.eval.bench_cache import Progress
from blendsearch.eval.judgements import Catalog
from blendsearch.exceptions import CatalogError
from blendsearch.ingest.readers import default_image_template

__all__ = [
    "CONDITIONS",
    "IMAGE_ONLY_FILE",
    "TAG_FIELD",
    "TAG_THRESHOLD",
    "Condition",
    "bench_enrichment",
    "build_index",
    "condition_documents",
    "image_only_ids",
    "open_index",
]

Condition = Literal["full", "sparse", "images"]
CONDITIONS: tuple[str, ...] = ("full", "sparse", "images")

#: The file beside the catalogue listing the ``sparse`` condition's image-only ids.
IMAGE_ONLY_FILE = "image_only_ids.txt"


def _image_ref(row: dict[str, Any], catalog_path: Path, id_: str) -> tuple[str | None, str]:
    """An item's image reference and the root it resolves against: the row's own ``image``, else
    ingest's default for the files beside the catalogue (an ``images.zip`` is then the root)."""
    folder = catalog_path.resolve().parent
    value = str(row.get("image") or "").strip()
    if value:
        return value, str(folder)
    template = default_image_template(catalog_path, FieldMapping())
    if template is None:
        return None, str(folder)
    archive = folder / "images.zip"
    return template.format(id=id_), str(archive if archive.is_file() else folder)


def condition_documents(
    catalog: Catalog,
    catalog_path: PathInput,
    ids: Sequence[str],
    image_only: set[str],
    *,
    split_field: str = "split",
) -> tuple[list[Document], str]:
    """Documents of ``ids``, those in ``image_only`` with id + image only; plus the image root.

    Attributes are every column but id, title, image and the split column.
    """
    path = Path(catalog_path)
    skip = {catalog.id_field, "title", "image", split_field}
    docs: list[Document] = []
    root = str(path.resolve().parent)
    for id_ in ids:
        row = catalog.rows[id_]
        image, root = _image_ref(row, path, id_)
        if id_ in image_only:
            docs.append(Document(id=id_, image=image))
            continue
        attributes = {k: str(v) for k, v in row.items() if k not in skip and v not in (None, "")}
        docs.append(Document(id=id_, title=str(row.get("title") or ""), attributes=attributes, image=image))
    return docs, root


def image_only_ids(
    condition: str, population: Sequence[str], listed: set[str], rng: np.random.Generator, fraction: float
) -> set[str]:
    """The ids indexed with their image only: none (full), all (images), or for ``sparse`` those listed
    in :data:`IMAGE_ONLY_FILE`, else a seeded ``fraction`` of the population."""
    if condition == "full":
        return set()
    if condition == "images":
        return set(population)
    if listed & set(population):
        return listed & set(population)
    count = int(round(fraction * len(population)))
    return {population[int(i)] for i in rng.choice(len(population), size=count, replace=False)}


#: Zero-shot tags: the catalogue's own kinds of product, scored by the model from the photo alone.
TAG_FIELD = "articleType"
TAG_THRESHOLD = 0.5


def bench_enrichment(catalog: Catalog) -> EnrichmentSettings:
    """Enrichment of every benchmark index: colours, plus zero-shot tags over the TRAIN split's product
    kinds (never the test split's), embedded as bare words as the catalogue-trained model saw titles."""
    kinds = {str(catalog.value(i, TAG_FIELD)) for i in catalog.ids("train") if catalog.value(i, TAG_FIELD)}
    return EnrichmentSettings(tag_vocabulary=sorted(kinds), tag_template="{tag}", tag_threshold=TAG_THRESHOLD)


def open_index(
    index_dir: Path,
    image_root: str,
    model: str,
    backend: Any = None,
    enrichment: EnrichmentSettings | None = None,
) -> Any:
    """An engine on ``index_dir`` for ``model``, images resolved against ``image_root``."""
    from blendsearch.engine import Engine

    config = EngineConfig(
        fields=FieldMapping(image_root=image_root),
        encoder=EncoderSettings(model=model),
        enrichment=enrichment or EnrichmentSettings(),
    )
    return Engine.open(index_dir, config, backend=backend)


def build_index(
    index_dir: Path,
    docs: list[Document],
    image_root: str,
    model: str,
    backend: Any,
    progress: Progress | None,
    enrichment: EnrichmentSettings | None = None,
) -> Any:
    """Ingest ``docs`` into ``index_dir`` (reusing what is there) and drop ids no longer in ``docs``."""
    engine = open_index(index_dir, image_root, model, backend, enrichment)
    started = time.perf_counter()
    rejects = index_dir / "rejects.jsonl"
    summary = engine.ingest(docs, rejects=rejects)
    if summary.rejected and progress:
        progress(f"{summary.rejected} items rejected, first: {_first_reject(rejects)}")
    if docs and not summary.indexed:
        engine.close()
        raise CatalogError(f"every item was rejected while indexing {index_dir}: {_first_reject(rejects)}")
    if progress:
        seconds = time.perf_counter() - started
        progress(
            f"indexed {summary.indexed}/{summary.read} into {index_dir} ({summary.written} written, "
            f"{summary.unchanged} unchanged, {summary.rejected} rejected) in {seconds:.0f}s"
        )
    stale = set(engine.backend.iter_ids()) - {d.id for d in docs}
    if stale:
        engine.delete(sorted(stale))
    return engine


def _first_reject(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as handle:
            first = json.loads(handle.readline())
    except (OSError, ValueError):
        return "(no rejects file)"
    return f"{first.get('stage')}: {first.get('reason')}"
