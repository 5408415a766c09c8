"""Fitting an index's calibration end to end: catalogue pairs for the vector channel, judged queries
for the fused score, held-out metrics for both (what ``blendsearch calibrate`` runs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from blendsearch._types import FloatArray
from blendsearch.calibration.fused import FEATURE_NAMES, FusedCalibration, fit_fused, hit_features
from blendsearch.calibration.model import Calibration, load_calibration
from blendsearch.calibration.vector import catalogue_pairs, fit_temperature, query_pairs, split_indices
from blendsearch.exceptions import CalibrationError

if TYPE_CHECKING:
    from blendsearch.engine import Engine
    from blendsearch.eval.judgements import Catalog, JudgedQuery

__all__ = [
    "FEATURE_SETS",
    "CalibrationRun",
    "JudgedHits",
    "calibrate_index",
    "feature_set",
    "fit_fused_subset",
    "judged_hits",
    "split_queries",
    "stack_hits",
]

#: Named subsets of :data:`FEATURE_NAMES` a fused calibration may be fitted on (the rest get weight 0).
#: ``transfer`` leaves out the absolute lexical scores (``*.log_raw``): a BM25 score grows with the number
#: and rarity of the query's words, so its scale is a property of the wording the fit saw, not of the match.
#: Every set keeps the query-level features (``query.*``): they say which kind of wording a query is in.
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "all": FEATURE_NAMES,
    "transfer": tuple(name for name in FEATURE_NAMES if not name.endswith(".log_raw")),
    "relative": tuple(
        name for name in FEATURE_NAMES if not name.endswith((".log_raw", ".cosine")) and name != "ties"
    ),
}


def feature_set(name: str) -> tuple[str, ...]:
    """The features of a named set; a ValueError lists the valid names."""
    if name not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {name!r}; valid: {', '.join(FEATURE_SETS)}")
    return FEATURE_SETS[name]


def fit_fused_subset(
    features: npt.ArrayLike,
    labels: npt.ArrayLike,
    keep: Sequence[str] = FEATURE_NAMES,
    *,
    holdout_features: npt.ArrayLike | None = None,
    holdout_labels: npt.ArrayLike | None = None,
    l2: float = 1.0,
) -> FusedCalibration:
    """:func:`fit_fused` on the ``keep`` columns only, returned over every feature (the others weight 0,
    mean 0, spread 1), so the saved model is current for search and computes the same probabilities."""
    unknown = [name for name in keep if name not in FEATURE_NAMES]
    if unknown:
        raise ValueError(f"unknown features: {unknown}")
    columns = [FEATURE_NAMES.index(name) for name in keep]
    x = np.asarray(features, dtype=np.float64)
    held = None if holdout_features is None else np.asarray(holdout_features, dtype=np.float64)
    part = fit_fused(
        x[:, columns],
        labels,
        holdout_features=None if held is None else held[:, columns],
        holdout_labels=holdout_labels,
        l2=l2,
        feature_names=[FEATURE_NAMES[j] for j in columns],
    )
    coef, mean, std = np.zeros(len(FEATURE_NAMES)), np.zeros(len(FEATURE_NAMES)), np.ones(len(FEATURE_NAMES))
    coef[columns], mean[columns], std[columns] = part.coef, part.mean, part.std
    return part.model_copy(
        update={
            "feature_names": list(FEATURE_NAMES),
            "coef": coef.tolist(),
            "mean": mean.tolist(),
            "std": std.tolist(),
        }
    )


@dataclass
class JudgedHits:
    """One judged query's hits (result order, up to the depth) as features, with labels (1 = gain 2)."""

    qid: str
    features: FloatArray
    labels: npt.NDArray[np.int64]


def judged_hits(
    engine: Engine, queries: Sequence[JudgedQuery], catalog: Catalog, depth: int = 50
) -> list[JudgedHits]:
    """Run each judged query through the engine (no calibration applied) and label its top ``depth`` hits.

    A hit is a match (label 1) when its TRUE catalogue fields satisfy every ``match`` key (gain 2); the
    catalogue file is the truth, whatever was indexed.
    """
    from blendsearch.query.hybrid import fuse_run
    from blendsearch.query.models import HybridQuery

    out: list[JudgedHits] = []
    for query in queries:
        keys = list(query.match.items())
        full = set.intersection(*(catalog.ids_with(name, values) for name, values in keys))
        run = engine.channel_results(HybridQuery(text=query.query, k=min(depth, 10_000)))
        hits = fuse_run(run)
        # Features of the whole list (with the query's wording signals), as search computes them, then
        # the top ``depth`` rows.
        features = hit_features(hits, run.signals)[:depth]
        labels = np.asarray([1 if hit.id in full else 0 for hit in hits[:depth]], dtype=np.int64)
        out.append(JudgedHits(qid=query.qid, features=features, labels=labels))
    return out


def split_queries(queries: Sequence[Any], seed: int = 0) -> tuple[list[Any], list[Any]]:
    """A seeded shuffle cut in half: (fit on these, report on those)."""
    order = np.random.default_rng(seed).permutation(len(queries))
    half = (len(queries) + 1) // 2
    return [queries[i] for i in order[:half]], [queries[i] for i in order[half:]]


def stack_hits(rows: Sequence[JudgedHits]) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Queries' judged hits as one feature matrix and one label vector."""
    if not rows:
        return np.zeros((0, len(FEATURE_NAMES))), np.zeros(0, dtype=np.int64)
    return np.vstack([r.features for r in rows]), np.concatenate([r.labels for r in rows])


@dataclass
class CalibrationRun:
    """What a calibration run fitted, what it could not, and the held-out data behind its metrics."""

    calibration: Calibration
    messages: list[str] = field(default_factory=list)
    #: Held-out (cosines, labels) of the vector fit.
    vector_holdout: tuple[FloatArray, FloatArray] | None = None
    #: Held-out (features, labels) of the fused fit.
    fused_holdout: tuple[FloatArray, FloatArray] | None = None
    #: Judged queries the fused part was fitted on and reported on.
    fused_queries: tuple[int, int] = (0, 0)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: each part's parameters and held-out metrics, plus messages."""
        cal = self.calibration
        weights = {"coef", "mean", "std", "feature_names"}
        return {
            "vector": cal.vector.model_dump() if cal.vector else None,
            "fused": cal.fused.model_dump(exclude=weights) if cal.fused else None,
            "queries": {"fit": self.fused_queries[0], "holdout": self.fused_queries[1]},
            "messages": list(self.messages),
        }

    def plot(self, path_png: Any) -> None:
        """Reliability diagrams of the held-out data, before and after (one file; a panel per part)."""
        from blendsearch.calibration.metrics import reliability_diagram

        cal = self.calibration
        series: dict[str, FloatArray] = {}
        labels: FloatArray | None = None
        if cal.fused is not None and self.fused_holdout is not None:
            x, labels = self.fused_holdout
            series = {
                "fused score (before)": np.clip(x[:, FEATURE_NAMES.index("fused")], 0, 1),
                "fused (calibrated)": cal.fused.probability_of_features(x),
            }
            title = "Fused score, held-out judged queries"
        elif cal.vector is not None and self.vector_holdout is not None:
            cos, labels = self.vector_holdout
            series = {
                "sigmoid(scale*cos+bias)": cal.vector.raw_probability(cos),
                "calibrated": cal.vector.probability(cos),
            }
            title = "Vector channel, held-out catalogue pairs"
        if labels is None or not series:
            raise CalibrationError("nothing was fitted, so there is nothing to plot")
        reliability_diagram(series, labels, path_png, title=title)


def calibrate_index(
    engine: Engine,
    *,
    queries: Sequence[JudgedQuery] | None = None,
    catalog: Catalog | None = None,
    n_pos: int = 2000,
    neg_per_pos: int = 3,
    depth: int = 50,
    holdout: float = 0.3,
    l2: float = 1.0,
    seed: int = 0,
    features: Sequence[str] = FEATURE_NAMES,
    vector_queries: Sequence[JudgedQuery] | None = None,
) -> CalibrationRun:
    """Fit the vector calibration (when the index has vectors) and the fused one (when given judged queries).

    Vector: catalogue pairs (or, given ``vector_queries``, those queries' texts against matching and
    non-matching product images: :func:`query_pairs`) split ``holdout`` for reporting. Fused: the queries
    split 50/50 by a seeded shuffle, fitted on one half (on ``features`` only; the others get weight 0)
    and reported on the other. Raises CalibrationError when nothing could be fitted; a vector-channel
    problem alone becomes a message when the fused part succeeds.
    """
    run = CalibrationRun(calibration=Calibration())
    encoder = engine.encoder
    if encoder is None:
        run.messages.append("vector channel not calibrated: the index has no model")
    else:
        try:
            if vector_queries:
                if catalog is None:
                    raise CalibrationError("query pairs need the catalogue file their judgements read")
                cosines, labels = query_pairs(
                    engine, vector_queries, catalog, neg_per_pos=neg_per_pos, seed=seed
                )
            else:
                cosines, labels = catalogue_pairs(engine, n_pos=n_pos, neg_per_pos=neg_per_pos, seed=seed)
            fit_idx, held_idx = split_indices(len(labels), holdout, seed)
            run.calibration.vector = fit_temperature(
                cosines[fit_idx],
                labels[fit_idx],
                encoder.logit_scale,
                encoder.logit_bias,
                holdout_cosines=cosines[held_idx] if held_idx.size else None,
                holdout_labels=labels[held_idx] if held_idx.size else None,
            )
            if held_idx.size:
                run.vector_holdout = (cosines[held_idx], labels[held_idx].astype(np.float64))
        except CalibrationError as exc:
            run.messages.append(f"vector channel not calibrated: {exc}")
    if queries:
        if catalog is None:
            raise CalibrationError("judged queries need the catalogue file their judgements read")
        fit_queries, held_queries = split_queries(list(queries), seed)
        run.fused_queries = (len(fit_queries), len(held_queries))
        fit_x, fit_y = stack_hits(judged_hits(engine, fit_queries, catalog, depth))
        held_x, held_y = stack_hits(judged_hits(engine, held_queries, catalog, depth))
        run.calibration.fused = fit_fused_subset(
            fit_x,
            fit_y,
            features,
            holdout_features=held_x if held_y.size else None,
            holdout_labels=held_y if held_y.size else None,
            l2=l2,
        )
        if held_y.size:
            run.fused_holdout = (held_x, held_y.astype(np.float64))
    else:
        previous = load_calibration(engine.index_dir)
        if previous is not None and previous.fused is not None:
            run.messages.append("the previous fused-score calibration is dropped (no judged queries given)")
    if run.calibration.vector is None and run.calibration.fused is None:
        raise CalibrationError("nothing could be calibrated: " + "; ".join(run.messages))
    return run
