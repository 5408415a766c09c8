"""L2-regularised logistic regression by Newton's method: the fitting engine of both calibrations.

Minimises ``sum_i logloss(y_i, sigmoid(x_i . w + c)) + l2/2 * ||w||^2`` (the intercept is not penalised).
With a handful of parameters Newton converges in a few steps; a backtracking line search keeps every
step a descent, and the small ridge keeps separable data from driving the weights to infinity.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from blendsearch._types import FloatArray
from blendsearch.exceptions import CalibrationError
from blendsearch.scoring import sigmoid

__all__ = ["check_labels", "fit_logistic"]


def check_labels(labels: npt.ArrayLike, minimum: int = 2) -> FloatArray:
    """0/1 labels as floats; a CalibrationError unless both classes have at least ``minimum`` examples."""
    y = np.asarray(labels, dtype=np.float64).ravel()
    if not np.isin(y, (0.0, 1.0)).all():
        raise CalibrationError("labels must be 0 or 1")
    positives = int(y.sum())
    negatives = int(y.size - positives)
    if positives < minimum or negatives < minimum:
        raise CalibrationError(
            f"need at least {minimum} matching and {minimum} non-matching examples to fit a calibration, "
            f"got {positives} and {negatives}"
        )
    return y


def _objective(x: FloatArray, y: FloatArray, theta: FloatArray, l2: float) -> float:
    z = x @ theta
    # log(1 + exp(z)) - y z, computed stably.
    loss = np.logaddexp(0.0, z) - y * z
    return float(loss.sum() + 0.5 * l2 * np.sum(theta[:-1] ** 2))


def fit_logistic(
    features: npt.ArrayLike, labels: npt.ArrayLike, l2: float = 1e-6, max_iter: int = 100, tol: float = 1e-10
) -> tuple[FloatArray, float]:
    """Weights and intercept of a logistic regression ``p = sigmoid(X w + c)``."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("features must be a 2-D array [n, d]")
    y = check_labels(labels)
    if x.shape[0] != y.size:
        raise ValueError(f"{x.shape[0]} feature rows but {y.size} labels")
    if not np.isfinite(x).all():
        raise CalibrationError("features contain NaN or infinite values")
    design = np.hstack([x, np.ones((x.shape[0], 1))])
    d = design.shape[1]
    penalty = np.full(d, l2)
    penalty[-1] = 0.0
    theta = np.zeros(d)
    theta[-1] = float(np.log(y.mean() / (1 - y.mean())))
    current = _objective(design, y, theta, l2)
    for _ in range(max_iter):
        p = sigmoid(design @ theta)
        gradient = design.T @ (p - y) + penalty * theta
        if np.max(np.abs(gradient)) < tol * max(1.0, y.size):
            break
        weights = p * (1 - p)
        hessian = (design * weights[:, None]).T @ design + np.diag(penalty) + 1e-12 * np.eye(d)
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        scale = 1.0
        while scale > 1e-10:
            candidate = theta - scale * step
            value = _objective(design, y, candidate, l2)
            if value <= current:
                break
            scale *= 0.5
        else:
            break
        improvement = current - value
        theta, current = candidate, value
        if improvement < tol:
            break
    return theta[:-1], float(theta[-1])
