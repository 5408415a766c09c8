"""Title -> image retrieval quality of an encoder on a catalogue split (exact-item, same-title hits).

Every product's title is a query; the gallery is every product's image; a retrieved product is a hit
when it has the query product's title (titles repeat, so several gallery items can be hits).
"""

from __future__ import annotations

import numpy as np

from blendsearch._types import PathInput
from blendsearch.config import FieldMapping
from blendsearch.encoders.base import Encoder
from blendsearch.train.data import TrainingPairs, load_pairs

__all__ = ["pair_recall", "recall_from_vectors"]


def recall_from_vectors(
    text_vectors: np.ndarray, image_vectors: np.ndarray, titles: list[str], ks: tuple[int, ...] = (1, 5, 10)
) -> dict[str, float]:
    """R@k, MRR (first hit) and the cosine gap from L2-normalised text and image vectors, row i = product i.

    ``cos_pos`` is the mean cosine of each product's title and its own image, ``cos_neg`` the mean over
    pairs with different titles; their difference (``cos_gap``) says how well the space separates.
    """
    groups = np.unique(np.asarray(titles), return_inverse=True)[1]
    n = len(titles)
    first_rank = np.empty(n, dtype=np.int64)
    neg_sum, neg_count = 0.0, 0
    for start in range(0, n, 1024):
        sims = text_vectors[start : start + 1024] @ image_vectors.T
        same = groups[start : start + 1024, None] == groups[None, :]
        best_hit = np.where(same, sims, -np.inf).max(axis=1)
        first_rank[start : start + len(sims)] = (sims > best_hit[:, None]).sum(axis=1)
        neg_sum += float(np.where(same, 0.0, sims).sum())
        neg_count += int((~same).sum())
    cos_pos = float(np.einsum("ij,ij->i", text_vectors, image_vectors).mean())
    cos_neg = neg_sum / max(neg_count, 1)
    out = {f"r@{k}": float((first_rank < k).mean()) for k in ks}
    out.update(
        mrr=float((1.0 / (first_rank + 1)).mean()),
        n=n,
        cos_pos=cos_pos,
        cos_neg=cos_neg,
        cos_gap=cos_pos - cos_neg,
    )
    return out


def pair_recall(
    encoder: Encoder,
    catalog: PathInput | TrainingPairs,
    split: str | None = "test",
    *,
    split_field: str = "split",
    mapping: FieldMapping | None = None,
    height: int = 80,
    width: int = 60,
) -> dict[str, float]:
    """Title -> image ``r@1``, ``r@5``, ``r@10``, ``mrr``, ``n`` (+ cosine gap) on a catalogue split."""
    from PIL import Image

    if isinstance(catalog, TrainingPairs):
        pairs = catalog
    else:
        pairs = load_pairs(
            catalog,
            mapping,
            split_field=split_field if split is not None else None,
            split_value=split,
            height=height,
            width=width,
        )
    images = [Image.fromarray(np.asarray(row)) for row in pairs.images]
    image_vectors = encoder.encode_images(images)
    text_vectors = encoder.encode_texts(pairs.texts)
    return recall_from_vectors(text_vectors, image_vectors, pairs.texts)
