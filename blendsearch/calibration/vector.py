"""Calibrating the vector channel: a temperature and a bias shift on the model's own pair logit.

The model scores a (text, image) pair with the logit ``z = scale * cos + bias`` (SigLIP's learned scale
and bias; CLIP has bias 0). Temperature scaling (Guo et al. 2017) with a bias shift fits ``T`` and ``b``
so that

    p = sigmoid(z / T + b) = sigmoid((scale * cos + bias) / T + b)

is a calibrated match probability, by minimising log-loss on pairs with known labels (Platt scaling on
the model's logit: a logistic regression on one feature with an intercept). ``T > 1`` means the model is
over-confident, ``T < 1`` under-confident; ``b`` moves the 50% point to where the data puts it.

The probability depends on how often pairs match in the data it was fitted on: with ``neg_per_pos``
random non-matches per match, "no information" is ``1 / (1 + neg_per_pos)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from blendsearch.calibration.logistic import check_labels, fit_logistic
from blendsearch.calibration.metrics import brier, expected_calibration_error
from blendsearch.exceptions import CalibrationError
from blendsearch.scoring import siglip_logit, sigmoid

if TYPE_CHECKING:
    from blendsearch.engine import Engine

__all__ = ["VectorCalibration", "catalogue_pairs", "fit_temperature", "split_indices"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class VectorCalibration(BaseModel):
    """``p = sigmoid((scale * cos + model_bias) / temperature + bias_shift)``, with how well it fits.

    The metrics are on held-out pairs when the fit had any (``n_holdout > 0``), else on the fitted ones.
    """

    temperature: float = Field(gt=0)
    bias_shift: float
    scale: float
    model_bias: float
    n: int
    n_holdout: int = 0
    ece_before: float
    ece_after: float
    brier_before: float
    brier_after: float

    def probability(self, cosines: npt.ArrayLike) -> FloatArray:
        """Calibrated match probabilities of cosines."""
        logits = siglip_logit(cosines, self.scale, self.model_bias)
        return sigmoid(logits / self.temperature + self.bias_shift)

    def raw_probability(self, cosines: npt.ArrayLike) -> FloatArray:
        """The model's own ``sigmoid(scale * cos + bias)`` (what "before" measures)."""
        return sigmoid(siglip_logit(cosines, self.scale, self.model_bias))


def split_indices(n: int, holdout: float, seed: int = 0) -> tuple[IntArray, IntArray]:
    """A seeded random split of ``range(n)`` into (fit, held-out) with ``holdout`` of the items held out."""
    if not 0 <= holdout < 1:
        raise ValueError("holdout must be in [0, 1)")
    order = np.random.default_rng(seed).permutation(n)
    cut = n - int(round(n * holdout))
    return np.sort(order[:cut]), np.sort(order[cut:])


def fit_temperature(
    cosines: npt.ArrayLike,
    labels: npt.ArrayLike,
    scale: float,
    bias: float,
    *,
    holdout_cosines: npt.ArrayLike | None = None,
    holdout_labels: npt.ArrayLike | None = None,
) -> VectorCalibration:
    """Fit temperature and bias shift by log-loss on (cosine, 0/1 label) pairs; report ECE/Brier before/after.

    Raises CalibrationError when a class has fewer than 2 examples or when higher cosines do not mean
    likelier matches (the fitted slope is not positive: nothing to calibrate).
    """
    cos = np.asarray(cosines, dtype=np.float64).ravel()
    y = check_labels(labels)
    if cos.size != y.size:
        raise ValueError(f"{cos.size} cosines but {y.size} labels")
    logits = siglip_logit(cos, scale, bias)
    (slope,), shift = fit_logistic(logits[:, None], y)
    if not slope > 1e-9:
        raise CalibrationError(
            f"the model's scores do not separate matches from non-matches (fitted slope {slope:.3g}): "
            "is this the model the vectors were made with?"
        )
    if holdout_cosines is not None and holdout_labels is not None:
        eval_cos = np.asarray(holdout_cosines, dtype=np.float64).ravel()
        eval_y = np.asarray(holdout_labels, dtype=np.float64).ravel()
    else:
        eval_cos, eval_y = cos, y
    fitted = VectorCalibration(
        temperature=1.0 / float(slope),
        bias_shift=float(shift),
        scale=float(scale),
        model_bias=float(bias),
        n=int(y.size),
        n_holdout=int(eval_y.size) if eval_cos is not cos else 0,
        ece_before=0.0,
        ece_after=0.0,
        brier_before=0.0,
        brier_after=0.0,
    )
    before, after = fitted.raw_probability(eval_cos), fitted.probability(eval_cos)
    return fitted.model_copy(
        update={
            "ece_before": expected_calibration_error(before, eval_y),
            "ece_after": expected_calibration_error(after, eval_y),
            "brier_before": brier(before, eval_y),
            "brier_after": brier(after, eval_y),
        }
    )


def catalogue_pairs(
    engine: Engine, n_pos: int = 2000, neg_per_pos: int = 3, seed: int = 0, batch_size: int = 256
) -> tuple[FloatArray, IntArray]:
    """Labelled (text, image) cosines from the index itself: no judgements needed.

    Positives: a product's own text vector against its own image vector. Negatives: its text against
    ``neg_per_pos`` other sampled products' images, skipping products with the same text (catalogues
    repeat titles, and a same-titled product is no true non-match). Returns (cosines, labels).
    """
    if n_pos < 2 or neg_per_pos < 1:
        raise ValueError("need n_pos >= 2 and neg_per_pos >= 1")
    rng = np.random.default_rng(seed)
    ids = list(engine.backend.iter_ids())
    order = rng.permutation(len(ids))
    texts: list[str] = []
    text_vectors: list[np.ndarray] = []
    image_vectors: list[np.ndarray] = []
    for start in range(0, len(order), batch_size):
        if len(texts) >= n_pos:
            break
        batch = [ids[i] for i in order[start : start + batch_size]]
        for doc in engine.backend.get(batch, with_vectors=True):
            if doc.text_vector is not None and doc.image_vector is not None and len(texts) < n_pos:
                texts.append(doc.text().strip().casefold())
                text_vectors.append(np.asarray(doc.text_vector, dtype=np.float64))
                image_vectors.append(np.asarray(doc.image_vector, dtype=np.float64))
    if len(texts) < 2:
        raise CalibrationError(
            f"the index has {len(texts)} items with both a text and an image vector; calibration needs more"
        )
    text_matrix, image_matrix = np.stack(text_vectors), np.stack(image_vectors)
    n = len(texts)
    cosines: list[float] = []
    labels: list[int] = []
    for i in range(n):
        cosines.append(float(text_matrix[i] @ image_matrix[i]))
        labels.append(1)
        sampled = dict.fromkeys(int(j) for j in rng.integers(0, n, size=neg_per_pos * 4))
        others = [j for j in sampled if texts[j] != texts[i]][:neg_per_pos]
        for j in others:
            cosines.append(float(text_matrix[i] @ image_matrix[j]))
            labels.append(0)
    return np.asarray(cosines), np.asarray(labels, dtype=np.int64)
