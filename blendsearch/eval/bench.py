"""The quality and ingest benchmarks on a real catalogue with a train/test split.

Quality (:func:`bench_quality`): train the default model on ``split=train`` (or take the one given),
index the test split under a catalogue condition, run a judged query set and score each method:

=====================  ============================================================================
``bm25``               the ``bm25`` channel alone (title, description, attributes)
``metadata``           the ``metadata`` channel alone (attributes + generated colours/tags/description)
``vector``             ``vector_image`` + ``vector_text`` (the model's text vector against both)
``hybrid_minmax``      every channel, min-max normalised, weighted mean with :data:`METHOD_WEIGHTS`
``hybrid_rrf``         every channel, reciprocal rank fusion, k = 60, :data:`METHOD_WEIGHTS`
``hybrid_default``     the engine's own settings (the built-in defaults, out of the box)
``hybrid_tuned``       every channel, fusion fitted on queries built from TRAIN products only
``NAME+expansion``     the same with query expansion on (each method above)
=====================  ============================================================================

Each query runs once per expansion mode through :meth:`Engine.channel_results` as the engine searches
(``hybrid_default``, ``hybrid_tuned``) and once more with image feedback off (every other method, so
their rows compare across versions and ``vector`` is the vectors alone: feedback lends the lexical
matches' photos to ``vector_image``); every method is a fusion of a subset of those channel results.
``hybrid_tuned`` is fitted on a separate index of a sample of the TRAIN split, ingested under the same
condition, with queries generated from those products, so no test product or test query is seen while
tuning.

Conditions: ``full`` (every product with its text), ``sparse`` (the ids listed in
``image_only_ids.txt`` get their image only), ``images`` (every product image only). Judgements
always read the catalogue's TRUE fields.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from blendsearch._types import PathInput
from blendsearch.config import SearchSettings
from blendsearch.eval.bench_cache import Progress, bench_index_dir, catalog_hash, ensure_model, sample_ids
from blendsearch.eval.bench_ingest import IngestBenchReport, bench_ingest, timing_queries
from blendsearch.eval.conditions import (
    CONDITIONS,
    IMAGE_ONLY_FILE,
    Condition,
    bench_enrichment,
    build_index,
    condition_documents,
    image_only_ids,
)
from blendsearch.eval.judgements import Catalog, JudgedQuery, Judgement, judge, load_queries, read_catalog
from blendsearch.eval.pairs import pair_retrieval
from blendsearch.eval.queries import generate_train_queries
from blendsearch.eval.retrieval import score_rankings
from blendsearch.eval.tune import TunedSettings, TuneResult, collect_runs, tune
from blendsearch.exceptions import CatalogError, ConfigError
from blendsearch.query.hybrid import QueryRun, fuse_run

# The setup and ingest benchmark names are re-exported: ``blendsearch.eval.bench`` stays the one import
# for callers of either benchmark.
__all__ = [
    "BASE_METHODS",
    "CONDITIONS",
    "ENGINE_RETRIEVAL",
    "IngestBenchReport",
    "METHOD_WEIGHTS",
    "QualityReport",
    "bench_ingest",
    "bench_index_dir",
    "bench_quality",
    "build_index",
    "catalog_hash",
    "condition_documents",
    "ensure_model",
    "method_names",
    "sample_ids",
    "timing_queries",
]

#: The methods that search as the engine does, image feedback included; the others run without it.
ENGINE_RETRIEVAL = frozenset({"hybrid_default", "hybrid_tuned"})
#: Method name -> channels it fuses (None: every channel).
BASE_METHODS: dict[str, list[str] | None] = {
    "bm25": ["bm25"],
    "metadata": ["metadata"],
    "vector": ["vector_image", "vector_text"],
    "hybrid_minmax": None,
    "hybrid_rrf": None,
    "hybrid_default": None,
    "hybrid_tuned": None,
}

#: The channel weights of the ``vector``, ``hybrid_minmax`` and ``hybrid_rrf`` methods, fixed (the built-in
#: defaults until they were refitted) so their rows stay comparable across versions; ``hybrid_default`` is
#: whatever the engine's settings are.
METHOD_WEIGHTS = {"bm25": 1.0, "metadata": 0.5, "vector_image": 1.0, "vector_text": 0.5}


def method_names() -> list[str]:
    """Every method the quality benchmark reports, without and with expansion."""
    return [*BASE_METHODS, *(f"{name}+expansion" for name in BASE_METHODS)]


class QualityReport(BaseModel):
    """What ``blendsearch bench quality --json`` prints."""

    condition: str
    queries: int
    methods: dict[str, dict[str, float]]
    pairs: dict[str, Any] | None = None
    queries_file: str
    products: int
    image_only: int
    model: str
    index: str
    tuning: dict[str, Any] = Field(default_factory=dict)
    #: Per-method breakdowns (primary value, query shape, wording kind); left out of --json unless asked.
    by: dict[str, dict[str, dict[str, dict[str, float]]]] = Field(default_factory=dict)
    seconds: dict[str, float] = Field(default_factory=dict)


def _restrict(run: QueryRun, channels: list[str] | None) -> QueryRun:
    if channels is None:
        return run
    return run.model_copy(update={"results": [r for r in run.results if r.channel in channels]})


def _method_settings(
    base: SearchSettings, tuned: dict[bool, TunedSettings]
) -> dict[str, dict[bool, SearchSettings]]:
    fixed = base.model_copy(update={"weights": METHOD_WEIGHTS})
    minmax = fixed.model_copy(update={"normalisation": "minmax", "combination": "weighted_mean"})
    rrf = fixed.model_copy(update={"combination": "rrf", "rrf_k": 60.0})
    return {
        "bm25": {False: base, True: base},
        "metadata": {False: base, True: base},
        "vector": {False: minmax, True: minmax},
        "hybrid_minmax": {False: minmax, True: minmax},
        "hybrid_rrf": {False: rrf, True: rrf},
        "hybrid_default": {False: base, True: base},
        "hybrid_tuned": {flag: tuned[flag].apply(base) for flag in (False, True)},
    }


def _tune_on_train(
    catalog: Catalog,
    catalog_path: Path,
    condition: str,
    model: str,
    *,
    test_size: int,
    image_only_fraction: float,
    tune_queries: PathInput | None,
    index_dir: Path,
    seed: int,
    backend_factory: Callable[[], Any] | None,
    progress: Progress | None,
) -> tuple[dict[bool, TuneResult], dict[str, Any]]:
    """Fit fusion settings on an index of a TRAIN sample (same size and condition as the test index)."""
    rng = np.random.default_rng(seed + 1)
    train = catalog.ids("train")
    if not train:
        raise CatalogError("the catalogue has no split=train products to tune on")
    size = min(len(train), test_size)
    sample = sorted(train[int(i)] for i in rng.choice(len(train), size=size, replace=False))
    image_only = image_only_ids(condition, sample, set(), rng, image_only_fraction)
    docs, root = condition_documents(catalog, catalog_path, sample, image_only)
    backend = backend_factory() if backend_factory else None
    engine = build_index(index_dir, docs, root, model, backend, progress, bench_enrichment(catalog))
    try:
        if tune_queries is not None:
            queries = load_queries(tune_queries)
        else:
            queries = generate_train_queries(catalog, split="train", n=300, seed=seed, population=sample)
        judgements = judge(queries, catalog, sample, check_relevant=False)
        kept = [(q, j) for q, j in zip(queries, judgements, strict=True) if j.relevant > 0]
        if not kept:
            raise ConfigError("no tuning query has a relevant product in the train sample")
        queries, judgements = [q for q, _ in kept], [j for _, j in kept]
        results: dict[bool, TuneResult] = {}
        for expand in (False, True):
            runs = collect_runs(engine, queries, expand=expand)
            results[expand] = tune(runs, judgements, engine.search_settings())
            if progress:
                r = results[expand]
                progress(
                    f"tuned (expand={expand}) on {len(queries)} train queries: nDCG@10 {r.default_ndcg:.4f} "
                    f"-> {r.ndcg:.4f} with {r.best.model_dump()}"
                )
    finally:
        engine.close()
    info = {
        "index": str(index_dir),
        "products": len(sample),
        "image_only": len(image_only),
        "queries": len(queries),
        "queries_file": str(tune_queries) if tune_queries else "generated from the train sample",
        **{
            ("expansion" if flag else "plain"): {
                "settings": r.best.model_dump(),
                "ndcg@10_default": r.default_ndcg,
                "ndcg@10_tuned": r.ndcg,
            }
            for flag, r in results.items()
        },
    }
    return results, info


def bench_quality(
    catalog_path: PathInput,
    queries_path: PathInput,
    *,
    condition: Condition = "full",
    model: str | None = None,
    index_dir: PathInput | None = None,
    tune_queries: PathInput | None = None,
    image_only_file: PathInput | None = None,
    limit: int | None = None,
    seed: int = 0,
    pairs: bool = True,
    pair_categories: Sequence[str] = ("masterCategory",),
    backend_factory: Callable[[], Any] | None = None,
    progress: Progress | None = None,
) -> QualityReport:
    """Run the quality benchmark (module docstring); ``limit`` indexes a seeded sample of the test split.

    Indexes are cached under ``BLENDSEARCH_HOME/bench`` (or ``index_dir``) and re-runs skip unchanged
    items. ``backend_factory`` replaces the embedded store (tests pass ``MemoryBackend``).
    """
    if condition not in CONDITIONS:
        raise ConfigError(f"unknown condition {condition!r}; valid: {', '.join(CONDITIONS)}")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    path = Path(catalog_path)
    catalog = read_catalog(path)
    spec = ensure_model(path, model, progress=progress)
    timings["model"] = time.perf_counter() - started

    rng = np.random.default_rng(seed)
    test = catalog.ids("test")
    if not test:
        raise CatalogError(f"{path} has no split=test products")
    test = sample_ids(test, limit, rng)
    listed_file = Path(image_only_file) if image_only_file else path.parent / IMAGE_ONLY_FILE
    listed: set[str] = set()
    if condition == "sparse":
        if not listed_file.is_file():
            raise ConfigError(f"the sparse condition needs the image-only id list {listed_file}")
        listed = {line.strip() for line in listed_file.read_text().splitlines() if line.strip()}
    image_only = image_only_ids(condition, test, listed, rng, 0.0)
    fraction = len(image_only) / len(test)

    root_dir = Path(index_dir) if index_dir else bench_index_dir(path, spec, limit, seed)
    started = time.perf_counter()
    docs, image_root = condition_documents(catalog, path, test, image_only)
    backend = backend_factory() if backend_factory else None
    engine = build_index(
        root_dir / f"test-{condition}", docs, image_root, spec, backend, progress, bench_enrichment(catalog)
    )
    timings["ingest_test"] = time.perf_counter() - started
    try:
        queries = load_queries(queries_path)
        judgements = judge(queries, catalog, test, check_relevant=limit is None)
        kept = [(q, j) for q, j in zip(queries, judgements, strict=True) if j.relevant > 0]
        queries, judgements = [q for q, _ in kept], [j for _, j in kept]
        if not queries:
            raise ConfigError("no query has a relevant product among the indexed test products")

        started = time.perf_counter()
        tuned, tuning_info = _tune_on_train(
            catalog,
            path,
            condition,
            spec,
            test_size=len(test),
            image_only_fraction=fraction,
            tune_queries=tune_queries,
            index_dir=root_dir / f"tune-{condition}",
            seed=seed,
            backend_factory=backend_factory,
            progress=progress,
        )
        timings["tune"] = time.perf_counter() - started

        started = time.perf_counter()
        methods, by = _score_methods(engine, queries, judgements, {f: t.best for f, t in tuned.items()})
        timings["queries"] = time.perf_counter() - started

        pair_report = None
        if pairs and engine.encoder is not None:
            started = time.perf_counter()
            pair_report = pair_retrieval(
                engine, catalog, by=[f for f in pair_categories if _has_field(catalog, f)]
            )
            timings["pairs"] = time.perf_counter() - started
        return QualityReport(
            condition=condition,
            queries=len(queries),
            methods=methods,
            pairs=pair_report.model_dump() if pair_report else None,
            queries_file=str(queries_path),
            products=len(test),
            image_only=len(image_only),
            model=spec,
            index=str(root_dir / f"test-{condition}"),
            tuning=tuning_info,
            by=by,
            seconds={k: round(v, 1) for k, v in timings.items()},
        )
    finally:
        engine.close()


def _has_field(catalog: Catalog, field: str) -> bool:
    return field in next(iter(catalog.rows.values()))


def _score_methods(
    engine: Any,
    queries: Sequence[JudgedQuery],
    judgements: Sequence[Judgement],
    tuned: dict[bool, TunedSettings],
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, dict[str, dict[str, float]]]]]:
    settings = _method_settings(engine.search_settings(), tuned)
    methods: dict[str, dict[str, float]] = {}
    by: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for expand in (False, True):
        as_engine = collect_runs(engine, queries, expand=expand)
        # Where no query got feedback (no model, no product with text) the runs are the same: not run twice.
        fed = any(run.feedback_ids for run in as_engine)
        plain = collect_runs(engine, queries, expand=expand, image_feedback=0) if fed else as_engine
        for name, channels in BASE_METHODS.items():
            label = f"{name}+expansion" if expand else name
            runs = as_engine if name in ENGINE_RETRIEVAL else plain
            rankings = [
                [hit.id for hit in fuse_run(_restrict(run, channels), settings[name][expand])[:100]]
                for run in runs
            ]
            report = score_rankings(rankings, queries, judgements)
            methods[label] = report.metrics
            by[label] = report.by
    return methods, by
