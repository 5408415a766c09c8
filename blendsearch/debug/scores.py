"""Pure score arithmetic for the debugger: cosines, logits, sigmoid, softmax, and the plain-words verdict."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from blendsearch._types import FloatArray
from blendsearch.scoring import sigmoid

__all__ = [
    "BARELY_VARIES",
    "NO_MATCH_PROBABILITY",
    "PairScores",
    "pair_scores",
    "softmax",
    "verdict",
]


#: Cosine spread under which candidates are "indistinguishable" to the model.
BARELY_VARIES = 0.02
#: Best probability under which "none of the candidates looks like a match".
NO_MATCH_PROBABILITY = 0.1


def softmax(logits: npt.ArrayLike) -> FloatArray:
    """Numerically stable softmax of a 1-D array."""
    values = np.asarray(logits, dtype=np.float64)
    if values.size == 0:
        return values
    shifted = np.exp(values - values.max())
    return shifted / shifted.sum()


class PairScores:
    """Scores of one query vector against candidate vectors (arrays aligned with the candidates)."""

    def __init__(self, cosine: FloatArray, logit: FloatArray, norms: FloatArray, query_norm: float) -> None:
        self.cosine = cosine
        self.logit = logit
        self.sigmoid = sigmoid(logit)
        # The bias is the same for every candidate and cancels in a softmax: CLIP's scores use scale * cos.
        self.softmax = softmax(logit)
        self.norms = norms
        self.query_norm = query_norm


def pair_scores(query: npt.ArrayLike, candidates: npt.ArrayLike, scale: float, bias: float) -> PairScores:
    """True cosines (vectors normalised here, whatever their length), ``scale * cos + bias`` and friends."""
    q = np.asarray(query, dtype=np.float64).ravel()
    c = np.asarray(candidates, dtype=np.float64).reshape(-1, q.size)
    q_norm = float(np.linalg.norm(q))
    norms = np.linalg.norm(c, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = (c @ q) / np.maximum(norms * q_norm, 1e-12)
    return PairScores(cosine=cosine, logit=scale * cosine + bias, norms=norms, query_norm=q_norm)


def verdict(labels: Sequence[str], cosines: npt.ArrayLike, probabilities: npt.ArrayLike) -> str:
    """A plain sentence about how a group of candidates scored."""
    cos = np.asarray(cosines, dtype=np.float64)
    probs = np.asarray(probabilities, dtype=np.float64)
    if cos.size == 0:
        return "no candidates"
    best = int(np.argmax(cos))
    if cos.size == 1:
        return f"one candidate (cosine {cos[0]:.3f}): nothing to compare it with"
    spread = float(cos.max() - cos.min())
    if spread < BARELY_VARIES:
        return f"scores barely vary (cosine spread {spread:.4f}): the model cannot tell these apart"
    if probs.size and np.isfinite(probs).any() and float(np.nanmax(probs)) < NO_MATCH_PROBABILITY:
        return (
            f"none of the candidates looks like a match (best probability {float(np.nanmax(probs)):.3f}, "
            f"{labels[best]!r})"
        )
    ordered = np.sort(cos)[::-1]
    if cos.size >= 3 and ordered[0] - ordered[1] > 0.5 * spread:
        return f"one clear favourite: {labels[best]!r} (cosine {ordered[0]:.3f}, next {ordered[1]:.3f})"
    return f"scores spread normally (cosine spread {spread:.3f}); best: {labels[best]!r}"
