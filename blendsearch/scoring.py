"""Score normalisation, fusion and the sigmoid score formula: pure numpy, chosen by name.

This is the one place where a hybrid score is computed. Every backend (embedded, OpenSearch,
Elasticsearch) returns raw per-channel candidate scores and the query layer fuses them here, so a
score means the same thing whatever stores the data.

Sources:
- min-max and z-score normalisation: as in OpenSearch's ``normalization-processor``
  (``min_max``: (s - min) / (max - min); ``z_score``: (s - mean) / std).
- weighted arithmetic mean: OpenSearch ``arithmetic_mean`` combination, sum(w_i * s_i) / sum(w_i).
- reciprocal rank fusion: Cormack, Clarke & Buettcher (SIGIR 2009), score = sum_i w_i / (k + rank_i),
  rank starting at 1, k = 60 by default.
- a channel that cannot see a document (it has none of the fields the channel searches: an image-only
  product for BM25) is a missing value, not a miss: it is imputed with the channel's mean over the
  candidates it returned, shrunk by one pseudo-miss (mean imputation, Little & Rubin, "Statistical
  Analysis with Missing Data"; the pseudo-count as in additive smoothing).
- SigLIP score: Zhai et al. 2023, p = sigmoid(t * cos + b) with learned scale t and bias b; a fitted
  temperature T divides the logit, p = sigmoid((t * cos + b) / T) (Guo et al. 2017, temperature scaling).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from blendsearch._types import FloatArray

__all__ = [
    "COMBINATIONS",
    "NORMALISATIONS",
    "UNSEEN",
    "Fusion",
    "combine",
    "fuse",
    "logit",
    "normalise",
    "ranks_descending",
    "sigmoid",
    "siglip_logit",
    "siglip_probability",
    "unseen_values",
]


NORMALISATIONS = ("minmax", "zscore", "none")
COMBINATIONS = ("weighted_mean", "rrf")
UNSEEN = ("mean", "floor")


def _minmax(scores: FloatArray) -> FloatArray:
    low, high = float(scores.min()), float(scores.max())
    if high - low <= 1e-12:
        # A single candidate (or a tie) is as good as the channel gets: full credit, not zero.
        return np.ones_like(scores)
    return (scores - low) / (high - low)


def _zscore(scores: FloatArray) -> FloatArray:
    std = float(scores.std())
    if std <= 1e-12:
        # A lone hit or a tie sits at the mean (0), level with a miss. Full credit (1, as min-max gives)
        # was measured and not kept: nDCG@10 moved by at most 0.003 on the fashion test sets, and
        # calibrate --auto on the unlike-wording set got worse (mean ECE over six seeds 0.064 -> 0.073).
        return np.zeros_like(scores)
    return (scores - float(scores.mean())) / std


def normalise(scores: npt.ArrayLike, method: str = "minmax") -> FloatArray:
    """Normalise one channel's candidate scores (a 1-D array) with the named method.

    >>> normalise([1.0, 3.0, 2.0]).tolist()
    [0.0, 1.0, 0.5]
    """
    values = np.asarray(scores, dtype=np.float64)
    if method not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {method!r}; valid: {', '.join(NORMALISATIONS)}")
    if values.size == 0:
        return values
    if method == "minmax":
        return _minmax(values)
    if method == "zscore":
        return _zscore(values)
    return values.copy()


def ranks_descending(scores: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """1-based ranks, best score first; ties keep input order (stable), as backends return them."""
    values = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(values.size, dtype=np.int64)
    ranks[order] = np.arange(1, values.size + 1)
    return ranks


@dataclass(frozen=True)
class Fusion:
    """Fused scores of n candidates over c channels, with each channel's share.

    ``normalised[i, j]`` is candidate i's normalised score in channel j (NaN where channel j did not
    return it); ``contributions[i, j]`` is what channel j adds to ``scores[i]``, so rows sum to scores.
    """

    scores: FloatArray
    normalised: FloatArray
    contributions: FloatArray


def unseen_values(values: npt.ArrayLike, method: str = "mean") -> FloatArray:
    """Per channel (column of ``values`` [n, c], NaN where not returned), what a candidate it cannot
    see is credited with, as a [1, c] row.

    A channel that cannot see a document (none of the fields it searches: BM25 and an image-only
    product) says nothing about it, so scoring it as a miss ranks every image-only product below any
    text product with a weak BM25 match. ``mean`` imputes the channel's mean over the candidates it
    returned plus one imagined miss, (sum of its values + miss) / (returned + 1), the miss being
    min(0, lowest): about the mean of its hits when it returned many, halfway to a miss when it
    returned a lone hit (which min-max scores 1.0). ``floor`` scores it as a miss (the behaviour
    before unseen channels were known). A column that returned nothing gets 0.

    >>> unseen_values([[1.0], [0.0], [0.5], [np.nan]]).tolist()
    [[0.375]]
    """
    if method not in UNSEEN:
        raise ValueError(f"unknown unseen-channel rule {method!r}; valid: {', '.join(UNSEEN)}")
    vals = np.asarray(values, dtype=np.float64)
    present = ~np.isnan(vals)
    returned = present.sum(axis=0)
    lowest = np.where(returned > 0, np.nanmin(np.where(present, vals, np.inf), axis=0), 0.0)
    miss = np.minimum(lowest, 0.0)
    if method == "floor":
        return miss[None, :]
    total = np.where(present, vals, 0.0).sum(axis=0) + miss
    return np.where(returned > 0, total / (returned + 1), 0.0)[None, :]


def combine(
    normalised: npt.ArrayLike,
    ranks: npt.ArrayLike,
    weights: npt.ArrayLike,
    method: str = "weighted_mean",
    rrf_k: float = 60.0,
    seen: npt.ArrayLike | None = None,
    unseen: str = "mean",
) -> Fusion:
    """Combine per-channel scores into one score per candidate.

    ``normalised`` and ``ranks`` are [n, c] with NaN / 0 where a channel did not return a candidate.
    ``weighted_mean``: sum_j w_j * s_ij / sum_j w_j over the channels that returned anything; a missing
    candidate counts as min(0, the channel's lowest normalised score): no better than the worst hit, and
    never credited when a channel returned one hit (min-max gives a lone hit 1.0).
    ``rrf``: sum_j w_j / (rrf_k + rank_ij); a missing candidate adds nothing.
    ``seen`` [n, c] (default: all True) marks where channel j can see candidate i at all; where it
    cannot, the candidate is credited with :func:`unseen_values` of that channel (its ``unseen`` rule)
    instead of a miss: BM25 says nothing about a product that has no text.
    """
    if method not in COMBINATIONS:
        raise ValueError(f"unknown combination {method!r}; valid: {', '.join(COMBINATIONS)}")
    if unseen not in UNSEEN:
        raise ValueError(f"unknown unseen-channel rule {unseen!r}; valid: {', '.join(UNSEEN)}")
    norm = np.asarray(normalised, dtype=np.float64)
    rank = np.asarray(ranks, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    visible = np.ones(norm.shape, dtype=bool) if seen is None else np.asarray(seen, dtype=bool)
    if (
        norm.ndim != 2
        or rank.shape != norm.shape
        or w.shape != (norm.shape[1],)
        or visible.shape != norm.shape
    ):
        raise ValueError(
            f"shapes do not fit: normalised {norm.shape}, ranks {rank.shape}, weights {w.shape}, "
            f"seen {visible.shape}"
        )
    if np.any(w < 0):
        raise ValueError("channel weights must be >= 0")
    present = ~np.isnan(norm)
    hidden = ~visible & ~present
    active = present.any(axis=0) & (w > 0)
    contributions = np.zeros_like(norm)
    if method == "rrf":
        if rrf_k < 0:
            raise ValueError("rrf_k must be >= 0")
        with np.errstate(divide="ignore", invalid="ignore"):
            reciprocal = np.where(present, 1.0 / (rrf_k + rank), np.nan)
        filled = np.where(present, reciprocal, 0.0)
        if hidden.any():
            filled = np.where(hidden, unseen_values(reciprocal, unseen), filled)
        contributions = np.where(active, w * filled, 0.0)
    elif active.any():
        lowest = np.where(present.any(axis=0), np.nanmin(np.where(present, norm, np.inf), axis=0), 0.0)
        filled = np.where(present, norm, np.minimum(lowest, 0.0))
        if hidden.any():
            filled = np.where(hidden, unseen_values(norm, unseen), filled)
        total = float(w[active].sum())
        contributions = np.where(active, filled * w / total, 0.0)
    return Fusion(scores=contributions.sum(axis=1), normalised=norm, contributions=contributions)


def fuse(
    channel_scores: Sequence[npt.ArrayLike],
    weights: Sequence[float],
    *,
    normalisation: str = "minmax",
    combination: str = "weighted_mean",
    rrf_k: float = 60.0,
    seen: npt.ArrayLike | None = None,
    unseen: str = "mean",
) -> Fusion:
    """Normalise then combine channels given as aligned [n] arrays with NaN for "not returned".

    Convenience over :func:`normalise` + :func:`combine` for callers that already aligned candidates;
    ``seen`` and ``unseen`` as in :func:`combine`.
    """
    columns = [np.asarray(s, dtype=np.float64) for s in channel_scores]
    if not columns:
        raise ValueError("fuse needs at least one channel")
    n = columns[0].shape[0]
    norm = np.full((n, len(columns)), np.nan)
    rank = np.zeros((n, len(columns)))
    for j, col in enumerate(columns):
        mask = ~np.isnan(col)
        if mask.any():
            norm[mask, j] = normalise(col[mask], normalisation)
            rank[mask, j] = ranks_descending(col[mask])
    return combine(norm, rank, np.asarray(weights, dtype=np.float64), combination, rrf_k, seen, unseen)


def sigmoid(x: npt.ArrayLike) -> FloatArray:
    """Numerically stable logistic function."""
    values = np.asarray(x, dtype=np.float64)
    out = np.empty_like(values)
    pos = values >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-values[pos]))
    ex = np.exp(values[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def logit(p: npt.ArrayLike, eps: float = 1e-12) -> FloatArray:
    """Inverse of :func:`sigmoid`, clipped away from 0 and 1."""
    values = np.clip(np.asarray(p, dtype=np.float64), eps, 1.0 - eps)
    return np.log(values) - np.log1p(-values)


def siglip_logit(cosine: npt.ArrayLike, scale: float, bias: float) -> FloatArray:
    """SigLIP's pairwise logit ``scale * cos + bias`` (scale is exp(logit_scale), not the log)."""
    return scale * np.asarray(cosine, dtype=np.float64) + bias


def siglip_probability(
    cosine: npt.ArrayLike, scale: float, bias: float, temperature: float = 1.0
) -> FloatArray:
    """``sigmoid((scale * cos + bias) / temperature)``: an independent match probability per pair."""
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    return sigmoid(siglip_logit(cosine, scale, bias) / temperature)
