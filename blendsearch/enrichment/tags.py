"""Zero-shot image tags: score every tag prompt against every image, keep the likely ones.

Pure numpy over vectors the encoder already produced. With a SigLIP-style model each (image, tag)
pair gets an independent probability ``sigmoid((scale * cos + bias) / temperature)`` (Zhai et al.
2023), so an image can carry several tags or none, unlike a softmax over the vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from blendsearch.scoring import siglip_probability

__all__ = ["DEFAULT_TAG_TEMPLATE", "default_tag_vocabulary", "tag_prompts", "zero_shot_tags"]

#: The prompt a tag is embedded as (SigLIP and CLIP were trained on captions, not bare words).
DEFAULT_TAG_TEMPLATE = "a photo of {tag}"


def tag_prompts(vocabulary: Sequence[str], template: str = DEFAULT_TAG_TEMPLATE) -> list[str]:
    """One prompt per tag, the tag lower-cased into ``template`` (``"a photo of casual shoes"``)."""
    if "{tag}" not in template:
        raise ValueError("the tag template must contain '{tag}'")
    return [template.format(tag=tag.strip().lower()) for tag in vocabulary]


def zero_shot_tags(
    image_vectors: np.ndarray,
    tag_vectors: np.ndarray,
    tags: Sequence[str],
    scale: float,
    bias: float,
    threshold: float,
    max_tags: int,
    temperature: float = 1.0,
) -> tuple[list[list[str]], list[dict[str, float]]]:
    """Tags of each image with probability >= ``threshold``, at most ``max_tags``, most likely first.

    ``image_vectors`` [n, d] and ``tag_vectors`` [t, d] are L2-normalised, so their dot product is
    the cosine. Returns the kept tags per image and their probabilities (``{tag: p}``, same order).
    Ties keep vocabulary order.
    """
    images = np.asarray(image_vectors, dtype=np.float64)
    vocab = np.asarray(tag_vectors, dtype=np.float64)
    if (
        images.ndim != 2
        or vocab.ndim != 2
        or (images.size and vocab.size and images.shape[1] != vocab.shape[1])
    ):
        raise ValueError(f"vector shapes do not fit: images {images.shape}, tags {vocab.shape}")
    if vocab.shape[0] != len(tags):
        raise ValueError(f"{vocab.shape[0]} tag vectors for {len(tags)} tags")
    if max_tags < 0:
        raise ValueError("max_tags must be >= 0")
    n = images.shape[0]
    if n == 0 or not tags or max_tags == 0:
        return [[] for _ in range(n)], [{} for _ in range(n)]
    probabilities = siglip_probability(images @ vocab.T, scale, bias, temperature)
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :max_tags]
    kept_tags: list[list[str]] = []
    kept_scores: list[dict[str, float]] = []
    for row, columns in enumerate(order):
        chosen = [int(j) for j in columns if probabilities[row, j] >= threshold]
        kept_tags.append([tags[j] for j in chosen])
        kept_scores.append({tags[j]: float(probabilities[row, j]) for j in chosen})
    return kept_tags, kept_scores


def default_tag_vocabulary(values_by_field: Mapping[str, Iterable[str]]) -> list[str]:
    """The distinct catalogue values of the tag fields, sorted case-insensitively, first spelling kept.

    Blank values are dropped, and so are repeats that differ only in case or surrounding spaces.
    """
    seen: dict[str, str] = {}
    for values in values_by_field.values():
        for value in values:
            text = " ".join(str(value).split())
            if text and text.casefold() not in seen:
                seen[text.casefold()] = text
    return [seen[key] for key in sorted(seen)]
