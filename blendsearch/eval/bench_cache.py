"""Where the benchmarks keep what they build once: the catalogue's default model and its indexes.

Keys are content hashes of the catalogue (and the model spec and sample), so a changed catalogue gets
new ones and an unchanged one reuses the model trained and the indexes built before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from blendsearch._types import PathInput
from blendsearch.encoders.own.folder import MODEL_FILE
from blendsearch.paths import blendsearch_home

__all__ = ["Progress", "bench_index_dir", "catalog_hash", "ensure_model", "sample_ids"]

#: A callback for one-line progress messages.
Progress = Callable[[str], None]


def catalog_hash(path: PathInput) -> str:
    """Short content hash of a catalogue file (cache key of its default model and benchmark indexes)."""
    digest = hashlib.sha256(Path(path).read_bytes())
    images = Path(path).parent / "images.zip"
    if images.is_file():
        digest.update(str(images.stat().st_size).encode())
    return digest.hexdigest()[:12]


def ensure_model(
    catalog_path: PathInput,
    model: str | None = None,
    *,
    split_field: str = "split",
    train_split: str = "train",
    progress: Progress | None = None,
) -> str:
    """The model spec to benchmark: ``model`` when given, else the catalogue's default model.

    The default is trained once on the train split (``blendsearch.train``) and cached under
    ``BLENDSEARCH_HOME/models/<catalogue hash>-default``; later runs reuse it.
    """
    if model:
        return model
    out = blendsearch_home() / "models" / f"{catalog_hash(catalog_path)}-default"
    if (out / MODEL_FILE).is_file():
        return str(out)
    from blendsearch.train import train_model

    if progress:
        progress(f"training the default model on split={train_split} into {out} (cached for later runs)")
    out.mkdir(parents=True, exist_ok=True)
    from blendsearch.train.checkpoint import CHECKPOINT_DIR, STATE_FILE

    resume = (out / CHECKPOINT_DIR / STATE_FILE).is_file()
    train_model(catalog_path, out, split_field=split_field, split_value=train_split, resume=resume)
    return str(out)


def sample_ids(ids: Sequence[str], limit: int | None, rng: np.random.Generator) -> list[str]:
    """A sorted seeded sample of ``limit`` ids (all of them when ``limit`` is None or not smaller)."""
    if limit is None or limit >= len(ids):
        return list(ids)
    return sorted(ids[int(i)] for i in rng.choice(len(ids), size=limit, replace=False))


def bench_index_dir(catalog_path: PathInput, spec: str, limit: int | None, seed: int) -> Path:
    """Where benchmark indexes of this catalogue, model and test sample are cached (and reused)."""
    model_key = hashlib.sha256(spec.encode()).hexdigest()[:8]
    key = f"{catalog_hash(catalog_path)}-{model_key}-n{limit or 'all'}-s{seed}"
    return blendsearch_home() / "bench" / key
