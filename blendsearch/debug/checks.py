"""The debugger's checks: each returns warning lines (empty when all is well).

They catch the usual reasons scores "look wrong": vectors that are not unit length (the index ranks by
dot product, which is the cosine only for unit vectors), query and catalogue vectors from different
models, softmax-trained scores read as independent probabilities, text fed differently than the model
was trained on, and temperatures or logit scales outside any sane range.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from blendsearch.encoders.base import Encoder
from blendsearch.text import words

__all__ = [
    "LOGIT_SCALE_RANGE",
    "TEMPERATURE_RANGE",
    "UNIT_TOLERANCE",
    "check_loss",
    "check_models",
    "check_temperatures",
    "check_text",
    "check_unit_length",
    "text_token_count",
]

#: How far from 1.0 a vector's norm may be.
UNIT_TOLERANCE = 1e-3
#: A fitted temperature outside this range means the calibration data or the model is off.
TEMPERATURE_RANGE = (0.05, 20.0)
#: SigLIP learns about 110, CLIP 100; a scale outside this range is likely a log-scale or a loading bug.
LOGIT_SCALE_RANGE = (1.0, 200.0)


def check_unit_length(what: str, norms: npt.ArrayLike) -> list[str]:
    values = np.asarray(norms, dtype=np.float64).ravel()
    off = values[np.abs(values - 1.0) > UNIT_TOLERANCE]
    if not off.size:
        return []
    return [
        f"{off.size} of {values.size} {what} vectors are not unit length (norms {off.min():.4g} to "
        f"{off.max():.4g}): the index ranks by dot product, which equals the cosine only for unit vectors"
    ]


def check_models(
    encoder: Encoder, index_fingerprint: str | None, index_dim: int | None, stored_dims: Sequence[int] = ()
) -> list[str]:
    """The query model against the index's: fingerprints and vector dimensions."""
    out: list[str] = []
    if index_fingerprint is not None and index_fingerprint != encoder.fingerprint:
        out.append(
            f"query vectors come from {encoder.fingerprint} but the index's from {index_fingerprint}: "
            "vectors of different models are not comparable (re-ingest, or query with the index's model)"
        )
    dims = sorted({d for d in stored_dims if d != encoder.dim} | ({index_dim} - {None, encoder.dim}))
    if dims:
        out.append(
            f"the model makes {encoder.dim}-d vectors but the index holds {', '.join(map(str, dims))}-d "
            "ones: image and text vectors from different models"
        )
    return out


def check_loss(encoder: Encoder) -> list[str]:
    if encoder.loss != "softmax":
        return []
    return [
        f"{encoder.name} was trained with a softmax over a batch (CLIP-style): its scores rank candidates "
        "against each other and are not independent match probabilities; sigmoid(scale*cos + bias) is no "
        "probability here (the softmax over these candidates is shown beside it; calibrate for probabilities)"
    ]


def text_token_count(encoder: Encoder, text: str) -> tuple[int, bool]:
    """Tokens the model's tokenizer makes of a text, and whether that is exact (else a word estimate)."""
    counter = getattr(encoder, "count_text_tokens", None)
    if callable(counter):
        return int(counter(text)), True
    tokenizer: Any = getattr(encoder, "tokenizer", None) or getattr(encoder, "_tokenizer", None)
    if callable(tokenizer):
        try:
            return len(tokenizer(text)["input_ids"]), True
        except (TypeError, KeyError, ValueError):
            pass
    return int(np.ceil(len(words(text)) * 1.3)) + 2, False


def _is_siglip(encoder: Encoder) -> bool:
    described = f"{encoder.name} {getattr(encoder, 'model_type', '')}".lower()
    return "siglip" in described


def check_text(encoder: Encoder, texts: Sequence[str]) -> list[str]:
    """Text fed unlike the model's training: padding, truncation, letter case."""
    out: list[str] = []
    if _is_siglip(encoder) and encoder.text_padding != "max_length":
        out.append(
            f"SigLIP was trained with text padded to max_length ({encoder.max_text_length} tokens), but this "
            f"encoder pads {encoder.text_padding!r}: its text vectors drift from the trained ones"
        )
    for text in texts:
        count, exact = text_token_count(encoder, text)
        if count > encoder.max_text_length:
            how = "" if exact else " (estimated)"
            shown = text[:40] + ("..." if len(text) > 40 else "")
            out.append(
                f"text {shown!r} is {count} tokens{how}: the model reads only the first "
                f"{encoder.max_text_length}, the rest is cut off"
            )
    if encoder.text_lowercase:
        cased = [t for t in texts if t != t.lower()]
        if cased:
            out.append(
                f"the model was trained on lower-case text and {len(cased)} text(s) have capitals (e.g. "
                f"{cased[0][:30]!r}): make sure the encoder lower-cases them (blendsearch's transformers "
                "encoder does)"
            )
    return out


def check_temperatures(encoder: Encoder, temperature: float | None) -> list[str]:
    out: list[str] = []
    low, high = LOGIT_SCALE_RANGE
    if not low <= encoder.logit_scale <= high:
        out.append(
            f"logit scale {encoder.logit_scale:g} is outside [{low:g}, {high:g}]: is it the log of the scale "
            "(SigLIP stores log t; the multiplier is exp(log t)) or a wrongly loaded model?"
        )
    t_low, t_high = TEMPERATURE_RANGE
    if temperature is not None and not t_low <= temperature <= t_high:
        out.append(
            f"calibrated temperature {temperature:g} is outside [{t_low:g}, {t_high:g}]: the calibration "
            "data or the model's scale/bias is off; re-run `blendsearch calibrate`"
        )
    return out
