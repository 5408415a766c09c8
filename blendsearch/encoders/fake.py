"""A deterministic, dependency-free encoder for tests and demos of the pipeline (not of quality)."""

from __future__ import annotations

import hashlib

import numpy as np

from blendsearch.encoders.base import Encoder
from blendsearch.text import words

__all__ = ["HashEncoder"]


def _word_vector(word: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


class HashEncoder(Encoder):
    """Texts: sum of hashed word vectors. Images: a fixed random projection of an 8x8 thumbnail.

    Same input, same vector, on every machine; texts sharing words land close together, and so do
    images that look alike. Text and image vectors are NOT aligned: this tests plumbing, not retrieval.
    """

    name = "hash"
    logit_scale = 10.0
    logit_bias = -5.0

    def __init__(self, dim: int = 64, batch_size: int = 64, device: str = "cpu") -> None:
        super().__init__(batch_size=batch_size, device=device)
        self.dim = dim
        self._projection = np.random.default_rng(0).standard_normal((8 * 8 * 3, dim)).astype(np.float32)

    @property
    def fingerprint(self) -> str:
        return f"hash:{self.dim}"

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text):
                out[row] += _word_vector(word, self.dim)
            if not out[row].any():
                out[row] = _word_vector("\0empty", self.dim)
        return out

    def _encode_image_batch(self, images: list) -> np.ndarray:
        pixels = np.stack(
            [
                np.asarray(img.convert("RGB").resize((8, 8)), dtype=np.float32).reshape(-1) / 255.0
                for img in images
            ]
        )
        return (pixels - 0.5) @ self._projection
