"""Inputs to and outputs of a transformers SigLIP/CLIP, shared by fine-tuning, the encoder that loads a
fine-tuned folder and :mod:`blendsearch.encoders.hf`, so training and search tokenise and normalise the
same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["attention_mask", "features", "pixel_values", "tokenize"]


def tokenize(
    tokenizer: Any, texts: Sequence[str], padding: str, max_length: int, *, lowercase: bool = False
) -> dict[str, np.ndarray]:
    """``input_ids`` (int64) and ``attention_mask`` of ``texts``, truncated to ``max_length``.

    SigLIP was trained on ``max_length`` padding without a mask, on lower-cased text (``lowercase``);
    CLIP on ``longest`` with one. The mask is all ones where the tokenizer gives none.
    """
    texts = [text.lower() for text in texts] if lowercase else list(texts)
    out = tokenizer(texts, padding=padding, truncation=True, max_length=max_length, return_tensors="np")
    ids = out["input_ids"].astype(np.int64)
    mask = out.get("attention_mask")
    return {"input_ids": ids, "attention_mask": np.ones_like(ids) if mask is None else mask.astype(np.int64)}


def attention_mask(ids: torch.Tensor, pad_id: int, pad_is_eos: bool) -> torch.Tensor:
    """The mask :func:`tokenize` gives for right-padded ``ids``, rebuilt from the ids alone (training
    batches carry ids only): the tokens before the first pad, plus that pad where it is also the end
    token (CLIP pads with its end-of-text token, the one it pools, so it must stay visible).
    """
    import torch

    is_pad = ids == pad_id
    length = ids.shape[1]
    first = torch.where(is_pad.any(dim=1), is_pad.int().argmax(dim=1), torch.full_like(ids[:, 0], length))
    positions = torch.arange(length, device=ids.device)
    return (positions[None, :] < (first + int(pad_is_eos))[:, None]).long()


def features(output: Any) -> torch.Tensor:
    """transformers 5 returns a model output from ``get_*_features``; 4.x returned the tensor."""
    if hasattr(output, "pooler_output"):
        return output.pooler_output
    return output


def pixel_values(
    pixels: torch.Tensor, height: int, width: int, mean: tuple[float, ...], std: tuple[float, ...]
) -> torch.Tensor:
    """uint8 [n, 3, h, w] -> a transformers vision model's normalised float input at its size."""
    import torch
    from torch.nn import functional as F

    x = pixels.float() / 255.0
    if x.shape[-2:] != (height, width):
        x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    m = torch.tensor(mean, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(std, device=x.device).view(1, 3, 1, 1)
    return (x - m) / s
