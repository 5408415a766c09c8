"""Fit blend weights, normalisation, combination and rrf_k on a judged query set (maximising nDCG@10).

Each query runs ONCE through :meth:`Engine.channel_results`; the per-channel candidates are then re-fused
offline for every setting tried. Re-fusing goes through :func:`blendsearch.scoring.combine`, the very
function :func:`blendsearch.query.hybrid.fuse_run` calls, on matrices prepared once per query, so a grid
of thousands of settings costs seconds; the winner is re-checked through ``fuse_run`` itself.

Search: for each normalisation (weighted mean) and each rrf_k (RRF), coordinate ascent over the channel
weights in a grid (default {0, 0.25, 0.5, 1, 2}), starting from the engine's weights, a few rounds;
a change is kept only when it raises the mean objective (ties keep the earlier setting, so defaults win
ties).

The objective is mean nDCG@10, or with ``recall_weight`` w > 0 the recall-aware
``(1 - w) * nDCG@10 + w * Recall@100`` (Recall@100: the share of a query's gain-2 products in the top 100):
nDCG@10 alone can buy a better top ten with weights that drop image-only products out of the top 100,
which collapses recall on a sparse catalogue. ``tune --auto`` uses w = 0.5.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from blendsearch.config import CHANNELS, SearchSettings
from blendsearch.eval.judgements import Catalog, JudgedQuery, Judgement, judge
from blendsearch.eval.metrics import dcg_at_k, ndcg_at_k, recall_at_k
from blendsearch.query.hybrid import QueryRun, candidate_rows, fuse_run, seen_mask
from blendsearch.query.models import HybridQuery
from blendsearch.scoring import combine, normalise, ranks_descending

__all__ = [
    "AUTO_RECALL_WEIGHT",
    "AcrossResult",
    "DEFAULT_GRID",
    "RECALL_K",
    "TuneResult",
    "TunedSettings",
    "collect_runs",
    "judged_runs",
    "run_metrics",
    "run_ndcg",
    "tune",
    "tune_across",
]

#: Channel weights tried for each channel.
DEFAULT_GRID = (0.0, 0.25, 0.5, 1.0, 2.0)
#: ``tune --auto``'s share of Recall@100 in the objective (the rest is nDCG@10).
AUTO_RECALL_WEIGHT = 0.5
RECALL_K = 100
DEFAULT_RRF_KS = (10.0, 30.0, 60.0, 100.0)


class TunedSettings(BaseModel):
    """The fusion part of :class:`~blendsearch.config.SearchSettings` that tuning fits."""

    weights: dict[str, float]
    normalisation: str
    combination: str
    rrf_k: float

    @property
    def family(self) -> str:
        """``rrf/k=60`` or ``weighted_mean/minmax``: the non-weight part of the setting."""
        if self.combination == "rrf":
            return f"rrf/k={self.rrf_k:g}"
        return f"{self.combination}/{self.normalisation}"

    def apply(self, base: SearchSettings) -> SearchSettings:
        """``base`` with these settings (channels not tuned keep their weight)."""
        return base.model_copy(
            update={
                "weights": {**base.weights, **self.weights},
                "normalisation": self.normalisation,
                "combination": self.combination,
                "rrf_k": self.rrf_k,
                "fusion_profile": "fixed",
            }
        )


class TuneResult(BaseModel):
    """The best setting found, its score, the default's, and the best of each family tried."""

    best: TunedSettings
    ndcg: float
    default: TunedSettings
    default_ndcg: float
    #: The best setting's score recomputed through ``fuse_run`` (equals ``ndcg``; a check on the fast path).
    ndcg_fuse_run: float
    queries: int
    evaluated: int
    #: Best mean objective per family ("weighted_mean/minmax", "rrf/k=60", ...).
    families: dict[str, float] = Field(default_factory=dict)
    #: The objective's share of Recall@100 (0: nDCG@10 alone), and the objective of the best / default.
    recall_weight: float = 0.0
    score: float = 0.0
    default_score: float = 0.0
    #: Mean Recall@100 of the best and the default settings.
    recall: float = 0.0
    default_recall: float = 0.0


def collect_runs(
    engine: object,
    queries: Sequence[JudgedQuery],
    *,
    k: int = 100,
    expand: bool | None = None,
    image_feedback: int | None = None,
) -> list[QueryRun]:
    """Run each query once through ``engine.channel_results`` (no fusion), every channel included, even one
    the engine's weights switch off, so tuning can weigh it. ``image_feedback`` None: the engine's."""
    runs: list[QueryRun] = []
    for query in queries:
        hybrid = HybridQuery(
            text=query.query,
            k=k,
            expand=expand,
            with_documents=False,
            channels=list(CHANNELS),
            image_feedback=image_feedback,
        )
        runs.append(engine.channel_results(hybrid))  # type: ignore[attr-defined]
    return runs


@dataclass
class _Prepared:
    """One run's candidates as matrices, ready to be re-fused many times."""

    channels: list[str]
    normalised: dict[str, np.ndarray]
    ranks: np.ndarray
    seen: np.ndarray
    gains: np.ndarray
    ideal: float
    relevant: int


def _prepare(run: QueryRun, judgement: Judgement, k: int) -> _Prepared:
    results = [r for r in run.results if r.ids]
    order = candidate_rows(results)
    n, c = len(order), len(results)
    ranks = np.zeros((n, c))
    seen = seen_mask(run.unseen, results, order)
    normalised = {m: np.full((n, c), np.nan) for m in ("minmax", "zscore", "none")}
    for j, result in enumerate(results):
        rows = np.fromiter((order[i] for i in result.ids), dtype=np.int64, count=len(result.ids))
        scores = np.asarray(result.scores, dtype=np.float64)
        for method, matrix in normalised.items():
            matrix[rows, j] = normalise(scores, method)
        ranks[rows, j] = ranks_descending(scores)
    ideal = dcg_at_k(np.sort(judgement.judged())[::-1], k)
    gains = judgement.gains_of(list(order))
    return _Prepared([r.channel for r in results], normalised, ranks, seen, gains, ideal, judgement.relevant)


def _score(prepared: _Prepared, settings: TunedSettings, k: int) -> tuple[float, float]:
    """(nDCG@k, Recall@100) of one prepared run fused with ``settings``."""
    if prepared.ideal <= 0.0 or not prepared.channels:
        return 0.0, 0.0
    weights = np.asarray([settings.weights.get(ch, 0.0) for ch in prepared.channels])
    fusion = combine(
        prepared.normalised[settings.normalisation],
        prepared.ranks,
        weights,
        settings.combination,
        settings.rrf_k,
        prepared.seen,
    )
    order = np.argsort(-fusion.scores, kind="stable")
    ndcg = dcg_at_k(prepared.gains[order[:k]], k) / prepared.ideal
    found = int(np.count_nonzero(prepared.gains[order[:RECALL_K]] == 2))
    return ndcg, found / prepared.relevant if prepared.relevant else 0.0


def run_ndcg(
    runs: Sequence[QueryRun], judgements: Sequence[Judgement], settings: SearchSettings, k: int = 10
) -> float:
    """Mean nDCG@k of the runs fused with ``settings`` through :func:`fuse_run` (the reference path)."""
    values = []
    for run, judgement in zip(runs, judgements, strict=True):
        ids = [hit.id for hit in fuse_run(run, settings)]
        values.append(ndcg_at_k(judgement.gains_of(ids), judgement.judged(), k))
    return float(np.mean(values)) if values else 0.0


def _mean_metrics(prepared: Sequence[_Prepared], settings: TunedSettings, k: int) -> tuple[float, float]:
    """Mean (nDCG@k, Recall@100) of prepared runs fused with ``settings``; (0, 0) without runs."""
    if not prepared:
        return 0.0, 0.0
    scores = np.asarray([_score(p, settings, k) for p in prepared])
    return float(scores[:, 0].mean()), float(scores[:, 1].mean())


def _objective(ndcg: float, recall: float, recall_weight: float) -> float:
    return ndcg if recall_weight == 0.0 else (1.0 - recall_weight) * ndcg + recall_weight * recall


def _family_starts(
    template: TunedSettings,
    combinations: Sequence[str],
    normalisations: Sequence[str],
    rrf_ks: Sequence[float],
) -> list[TunedSettings]:
    """``template`` in every family tried: each normalisation (weighted mean), each rrf_k (RRF)."""
    starts: list[TunedSettings] = []
    for combination in combinations:
        if combination == "rrf":
            starts.extend(template.model_copy(update={"combination": "rrf", "rrf_k": rk}) for rk in rrf_ks)
        else:
            starts.extend(
                template.model_copy(update={"combination": combination, "normalisation": norm})
                for norm in normalisations
            )
    return starts


def run_metrics(
    runs: Sequence[QueryRun], judgements: Sequence[Judgement], settings: SearchSettings
) -> dict[str, float]:
    """Mean nDCG@10 and Recall@100 of the runs fused with ``settings`` through :func:`fuse_run`."""
    ndcg, recall = [], []
    for run, judgement in zip(runs, judgements, strict=True):
        gains = judgement.gains_of([hit.id for hit in fuse_run(run, settings)])
        ndcg.append(ndcg_at_k(gains, judgement.judged(), 10))
        recall.append(recall_at_k(gains, judgement.relevant, RECALL_K))
    return {"ndcg@10": float(np.mean(ndcg)), "recall@100": float(np.mean(recall))}


def judged_runs(
    engine: object,
    queries: Sequence[JudgedQuery],
    catalog: Catalog,
    population: Sequence[str] | None = None,
    *,
    expand: bool | None = None,
    image_feedback: int | None = None,
) -> tuple[list[QueryRun], list[Judgement]]:
    """The runs (:func:`collect_runs`) and judgements of the queries with a match among ``population``
    (default: the catalogue's products in the engine's index); the others have nothing to rank."""
    if population is None:
        ids = engine.backend.iter_ids()  # type: ignore[attr-defined]
        population = [i for i in ids if i in catalog.rows]
    judged = judge(queries, catalog, population, check_relevant=False)
    kept = [(q, j) for q, j in zip(queries, judged, strict=True) if j.relevant > 0]
    runs = collect_runs(engine, [q for q, _ in kept], expand=expand, image_feedback=image_feedback)
    return runs, [j for _, j in kept]


def tune(
    runs: Sequence[QueryRun],
    judgements: Sequence[Judgement],
    base: SearchSettings,
    *,
    grid: Sequence[float] = DEFAULT_GRID,
    normalisations: Sequence[str] = ("minmax", "zscore"),
    combinations: Sequence[str] = ("weighted_mean", "rrf"),
    rrf_ks: Sequence[float] = DEFAULT_RRF_KS,
    rounds: int = 3,
    k: int = 10,
    recall_weight: float = 0.0,
    progress: Callable[[str, float], None] | None = None,
) -> TuneResult:
    """Search fusion settings maximising the mean objective over the runs: nDCG@k, or with
    ``recall_weight`` w, ``(1 - w) * nDCG@k + w * Recall@100`` (see the module docstring)."""
    if not 0.0 <= recall_weight <= 1.0:
        raise ValueError(f"recall_weight must be in [0, 1], got {recall_weight}")
    if len(runs) != len(judgements):
        raise ValueError(f"{len(runs)} runs but {len(judgements)} judgements")
    if not runs:
        raise ValueError("tuning needs at least one query")
    prepared = [_prepare(run, judgement, k) for run, judgement in zip(runs, judgements, strict=True)]
    channels = [ch for ch in CHANNELS if any(ch in p.channels for p in prepared)]
    cache: dict[str, tuple[float, float]] = {}

    def metrics(settings: TunedSettings) -> tuple[float, float]:
        key = settings.model_dump_json()
        if key not in cache:
            cache[key] = _mean_metrics(prepared, settings, k)
        return cache[key]

    def evaluate(settings: TunedSettings) -> float:
        return _objective(*metrics(settings), recall_weight)

    default = TunedSettings(
        weights={ch: base.weights.get(ch, 0.0) for ch in channels},
        normalisation=base.normalisation,
        combination=base.combination,
        rrf_k=base.rrf_k,
    )
    best, best_score = default, evaluate(default)
    families: dict[str, float] = {}
    for start in _family_starts(default, combinations, normalisations, rrf_ks):
        current, current_score = start, evaluate(start)
        for _ in range(rounds):
            improved = False
            for channel in channels:
                for value in grid:
                    weights = {**current.weights, channel: float(value)}
                    if not any(w > 0 for w in weights.values()):
                        continue
                    candidate = current.model_copy(update={"weights": weights})
                    score = evaluate(candidate)
                    if score > current_score + 1e-12:
                        current, current_score, improved = candidate, score, True
            if not improved:
                break
        family = (
            f"rrf/k={current.rrf_k:g}"
            if current.combination == "rrf"
            else f"{current.combination}/{current.normalisation}"
        )
        families[family] = current_score
        if progress is not None:
            progress(family, current_score)
        if current_score > best_score + 1e-12:
            best, best_score = current, current_score
    return TuneResult(
        best=best,
        ndcg=metrics(best)[0],
        default=default,
        default_ndcg=metrics(default)[0],
        ndcg_fuse_run=run_ndcg(runs, judgements, best.apply(base), k),
        queries=len(runs),
        evaluated=len(cache),
        families=families,
        recall_weight=recall_weight,
        score=best_score,
        default_score=evaluate(default),
        recall=metrics(best)[1],
        default_recall=metrics(default)[1],
    )


class AcrossResult(BaseModel):
    """The setting with the smallest worst-case regret over several query groups (e.g. one per catalogue
    condition), each group's own best objective, and the chosen setting's objective per group."""

    best: TunedSettings
    #: Per group: the best objective any setting of the grid reaches on that group alone.
    group_best: dict[str, float]
    #: Per group: the chosen setting's objective, nDCG@10 and Recall@100.
    chosen: dict[str, dict[str, float]]
    #: The chosen setting's largest shortfall from a group's own best.
    max_regret: float
    evaluated: int


def tune_across(
    groups: dict[str, tuple[Sequence[QueryRun], Sequence[Judgement]]],
    base: SearchSettings,
    *,
    grid: Sequence[float] = DEFAULT_GRID,
    normalisations: Sequence[str] = ("minmax", "zscore"),
    combinations: Sequence[str] = ("weighted_mean", "rrf"),
    rrf_ks: Sequence[float] = DEFAULT_RRF_KS,
    k: int = 10,
    recall_weight: float = AUTO_RECALL_WEIGHT,
) -> AcrossResult:
    """One setting for every group: every setting of the grid is scored on each group (exhaustively, not
    by coordinate ascent), and the one whose worst shortfall from a group's own best is smallest wins
    (ties: the higher mean objective). Built-in defaults must serve catalogues of every kind, where the
    best setting of the pooled queries can favour the kinds that dominate the pool."""
    if not groups:
        raise ValueError("tune_across needs at least one group")
    prepared = {
        name: [_prepare(run, judgement, k) for run, judgement in zip(runs, judgements, strict=True)]
        for name, (runs, judgements) in groups.items()
    }
    channels = [ch for ch in CHANNELS if any(ch in p.channels for ps in prepared.values() for p in ps)]
    template = TunedSettings(
        weights={}, normalisation=base.normalisation, combination=base.combination, rrf_k=base.rrf_k
    )
    scored: list[tuple[TunedSettings, dict[str, tuple[float, float, float]]]] = []
    # Weights are relative (both combinations divide by their sum), so (1, 1, 0.5) ranks as (2, 2, 1):
    # each direction is scored once, at its first (smallest) spelling in the grid.
    directions: dict[tuple[float, ...], tuple[float, ...]] = {}
    for values in itertools.product(sorted(grid), repeat=len(channels)):
        top = max(values)
        if top > 0:
            directions.setdefault(tuple(round(v / top, 9) for v in values), values)
    for family in _family_starts(template, combinations, normalisations, rrf_ks):
        for values in directions.values():
            weights = {ch: float(v) for ch, v in zip(channels, values, strict=True)}
            settings = family.model_copy(update={"weights": weights})
            per_group: dict[str, tuple[float, float, float]] = {}
            for name, runs in prepared.items():
                ndcg, recall = _mean_metrics(runs, settings, k)
                per_group[name] = (_objective(ndcg, recall, recall_weight), ndcg, recall)
            scored.append((settings, per_group))
    group_best = {name: max(s[name][0] for _, s in scored) for name in prepared}

    def rank(item: tuple[TunedSettings, dict[str, tuple[float, float, float]]]) -> tuple[float, float]:
        per_group = item[1]
        regret = max(group_best[name] - per_group[name][0] for name in per_group)
        return (-regret, float(np.mean([v[0] for v in per_group.values()])))

    best, per_group = max(scored, key=rank)
    return AcrossResult(
        best=best,
        group_best=group_best,
        chosen={n: {"objective": v[0], "ndcg@10": v[1], "recall@100": v[2]} for n, v in per_group.items()},
        max_regret=-rank((best, per_group))[0],
        evaluated=len(scored),
    )
