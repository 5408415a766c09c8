"""The encoder interface: one abstract batch method per modality; batching and normalising built on it.

Built-in encoders (transformers SigLIP/CLIP, open_clip, blendsearch's own trained dual encoder, the
deterministic test encoder) register through :func:`blendsearch.encoders.registry.register_encoder`
exactly as a third-party one would.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Sequence

import numpy as np

from blendsearch._types import Vectors
from blendsearch.encoders.threads import ThreadSetting, cpu_threads, free_cores
from blendsearch.exceptions import EncoderError

__all__ = ["Encoder", "l2_normalise"]


def l2_normalise(vectors: np.ndarray) -> Vectors:
    """Unit-length float32 rows; an all-zero row stays zero instead of becoming NaN."""
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return (array / np.maximum(norms, 1e-12)).astype(np.float32)


class Encoder(abc.ABC):
    """Embeds images and texts into one space; outputs are L2-normalised float32 [n, d].

    Subclasses implement :meth:`_encode_image_batch` and :meth:`_encode_text_batch` for one batch of
    already-decoded inputs (PIL images in RGB; strings) and set ``dim``, ``name`` and the logit
    parameters. ``logit_scale`` is the multiplier itself (SigLIP's exp(t)), not its log.
    """

    #: A stable identifier of the weights (hub id or folder + config hash): vectors of different
    #: fingerprints are not comparable, and a change of fingerprint re-encodes the catalogue.
    name: str = "encoder"
    dim: int = 0
    supports_images: bool = True
    supports_texts: bool = True
    #: "sigmoid" (SigLIP: independent pair probabilities) or "softmax" (CLIP: scores relative to the batch).
    loss: str = "sigmoid"
    logit_scale: float = 1.0
    logit_bias: float = 0.0
    #: How the model was trained to see text: SigLIP pads to max length and lower-cases.
    text_padding: str = "longest"
    text_lowercase: bool = False
    max_text_length: int = 64

    def __init__(self, batch_size: int = 64, device: str = "cpu") -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.batch_size = batch_size
        self.device = device
        self._threads: int | None = None

    @property
    def threads(self) -> int | None:
        """CPU threads torch uses while this encoder runs (restored after each call); None: torch's own."""
        return self._threads

    @threads.setter
    def threads(self, value: ThreadSetting) -> None:
        if value == "auto":
            value = free_cores(os.cpu_count() or 1)
        if value is not None and value < 1:
            raise ValueError("threads must be >= 1, 'auto' or None")
        self._threads = value

    @property
    def fingerprint(self) -> str:
        return f"{self.name}:{self.dim}"

    @abc.abstractmethod
    def _encode_image_batch(self, images: list) -> np.ndarray:  # list[PIL.Image.Image]
        """Raw (not necessarily normalised) embeddings of one batch of RGB PIL images."""

    @abc.abstractmethod
    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        """Raw (not necessarily normalised) embeddings of one batch of texts."""

    def encode_images(self, images: Sequence, batch_size: int | None = None) -> Vectors:
        """Embed images in batches: PIL images (used as they are when already upright RGB, as
        :func:`~blendsearch.ingest.images.open_image` and the ingest give them), bytes or local paths
        (see :func:`blendsearch.imageio.open_image`; URLs and zip references are resolved by the caller)."""
        if not self.supports_images:
            raise EncoderError(f"encoder {self.name} does not embed images")
        from blendsearch.imageio import open_image

        pil = [open_image(img) for img in images]
        return self._batched(pil, self._encode_image_batch, batch_size)

    def encode_texts(self, texts: Sequence[str], batch_size: int | None = None) -> Vectors:
        """Embed texts in batches."""
        if not self.supports_texts:
            raise EncoderError(f"encoder {self.name} does not embed texts")
        return self._batched(list(texts), self._encode_text_batch, batch_size)

    def _batched(self, items: list, encode_batch, batch_size: int | None) -> Vectors:  # noqa: ANN001
        size = batch_size or self.batch_size
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        with cpu_threads(self._threads):
            chunks = [l2_normalise(encode_batch(items[i : i + size])) for i in range(0, len(items), size)]
        return np.concatenate(chunks, axis=0)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Free the model."""
