"""The quality and ingest benchmarks on a real catalogue with a train/test split.

Quality (:func:`bench_quality`): train the default model on ``split=train`` (or take the one given),
index the test split under a catalogue condition, run a judged query set and score each method:

=====================  ============================================================================
``bm25``               the ``bm25`` channel alone (title, description, attributes)
``metadata``           the ``metadata`` channel alone (attributes + generated colours/tags/description)
``vector``             ``vector_image`` + ``vector_text`` (the model's text vector against both)
``hybrid_minmax``      every channel, min-max normalised, weighted mean with the default weights
``hybrid_rrf``         every channel, reciprocal rank fusion, k = 60
``hybrid_tuned``       every channel, fusion fitted on queries built from TRAIN products only
``NAME+expansion``     the same with query expansion on (each method above)
=====================  ============================================================================

Each query runs once per expansion mode through :meth:`Engine.channel_results`; every method is a
fusion of a subset of those channel results (the same as a search with ``channels=`` set, since a
channel's candidates do not depend on the others). ``hybrid_tuned`` is fitted on a separate index of a
sample of the TRAIN split, ingested under the same condition, with queries generated from those
products, so no test product or test query is seen while tuning.

Conditions: ``full`` (every product with its text), ``sparse`` (the ids listed in
``image_only_ids.txt`` get their image only), ``images`` (every product image only). Judgements
always read the catalogue's TRUE fields.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from blendsearch._types import PathInput
from blendsearch.config import EncoderSettings, EngineConfig, EnrichmentSettings, FieldMapping, SearchSettings
from blendsearch.documents import Document
from blendsearch.eval.judgements import Catalog, JudgedQuery, Judgement, judge, load_queries, read_catalog
from blendsearch.eval.pairs import pair_retrieval
from blendsearch.eval.queries import generate_train_queries
from blendsearch.eval.retrieval import score_rankings
from blendsearch.eval.tune import TunedSettings, TuneResult, collect_runs, tune
from blendsearch.exceptions import CatalogError, ConfigError
from blendsearch.paths import blendsearch_home
from blendsearch.query.hybrid import QueryRun, fuse_run

__all__ = [
    "BASE_METHODS",
    "CONDITIONS",
    "IngestBenchReport",
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

Condition = Literal["full", "sparse", "images"]
CONDITIONS: tuple[str, ...] = ("full", "sparse", "images")

#: Method name -> channels it fuses (None: every channel).
BASE_METHODS: dict[str, list[str] | None] = {
    "bm25": ["bm25"],
    "metadata": ["metadata"],
    "vector": ["vector_image", "vector_text"],
    "hybrid_minmax": None,
    "hybrid_rrf": None,
    "hybrid_tuned": None,
}

#: The file beside the catalogue listing the ``sparse`` condition's image-only ids.
IMAGE_ONLY_FILE = "image_only_ids.txt"

Progress = Callable[[str], None]


def method_names() -> list[str]:
    """Every method the quality benchmark reports, without and with expansion."""
    return [*BASE_METHODS, *(f"{name}+expansion" for name in BASE_METHODS)]


def catalog_hash(path: PathInput) -> str:
    """Short content hash of a catalogue file (cache key of its default model and benchmark indexes)."""
    digest = hashlib.sha256(Path(path).read_bytes())
    images = Path(path).parent / "images.zip"
    if images.is_file():
        digest.update(str(images.stat().st_size).encode())
    return digest.hexdigest()[:12]


def ensure_model(
    catalog_path: PathInput,
    model: str | None = None,
    *,
    split_field: str = "split",
    train_split: str = "train",
    progress: Progress | None = None,
) -> str:
    """The model spec to benchmark: ``model`` when given, else the catalogue's default model.

    The default is trained once on the train split (``blendsearch.train``) and cached under
    ``BLENDSEARCH_HOME/models/<catalogue hash>-default``; later runs reuse it.
    """
    if model:
        return model
    from blendsearch.encoders.registry import OWN_MODEL_MARKER

    out = blendsearch_home() / "models" / f"{catalog_hash(catalog_path)}-default"
    if (out / OWN_MODEL_MARKER).is_file():
        return str(out)
    from blendsearch.train.loop import train_model

    if progress:
        progress(f"training the default model on split={train_split} into {out} (cached for later runs)")
    out.mkdir(parents=True, exist_ok=True)
    resume = (out / "checkpoint" / "state.json").is_file()
    train_model(catalog_path, out, split_field=split_field, split_value=train_split, resume=resume)
    return str(out)


def sample_ids(ids: Sequence[str], limit: int | None, rng: np.random.Generator) -> list[str]:
    """A sorted seeded sample of ``limit`` ids (all of them when ``limit`` is None or not smaller)."""
    if limit is None or limit >= len(ids):
        return list(ids)
    return sorted(ids[int(i)] for i in rng.choice(len(ids), size=limit, replace=False))


def bench_index_dir(catalog_path: PathInput, spec: str, limit: int | None, seed: int) -> Path:
    """Where benchmark indexes of this catalogue, model and test sample are cached (and reused)."""
    model_key = hashlib.sha256(spec.encode()).hexdigest()[:8]
    key = f"{catalog_hash(catalog_path)}-{model_key}-n{limit or 'all'}-s{seed}"
    return blendsearch_home() / "bench" / key


def _image_ref(row: dict[str, Any], catalog_path: Path, id_: str) -> tuple[str | None, str]:
    """An item's image reference and the root it resolves against (same conventions as ingest)."""
    folder = catalog_path.resolve().parent
    value = str(row.get("image") or "").strip()
    if value:
        return value, str(folder)
    if (folder / "images.zip").is_file():
        return f"{id_}.jpg", str(folder / "images.zip")
    if (folder / "images").is_dir():
        return f"images/{id_}.jpg", str(folder)
    return None, str(folder)


def condition_documents(
    catalog: Catalog,
    catalog_path: PathInput,
    ids: Sequence[str],
    image_only: set[str],
    *,
    split_field: str = "split",
) -> tuple[list[Document], str]:
    """Documents of ``ids``, those in ``image_only`` with id + image only; plus the image root.

    Attributes are every column but id, title, image and the split column.
    """
    path = Path(catalog_path)
    skip = {catalog.id_field, "title", "image", split_field}
    docs: list[Document] = []
    root = str(path.resolve().parent)
    for id_ in ids:
        row = catalog.rows[id_]
        image, root = _image_ref(row, path, id_)
        if id_ in image_only:
            docs.append(Document(id=id_, image=image))
            continue
        attributes = {k: str(v) for k, v in row.items() if k not in skip and v not in (None, "")}
        docs.append(Document(id=id_, title=str(row.get("title") or ""), attributes=attributes, image=image))
    return docs, root


def _image_only_ids(
    condition: str, population: Sequence[str], listed: set[str], rng: np.random.Generator, fraction: float
) -> set[str]:
    if condition == "full":
        return set()
    if condition == "images":
        return set(population)
    if listed & set(population):
        return listed & set(population)
    count = int(round(fraction * len(population)))
    return {population[int(i)] for i in rng.choice(len(population), size=count, replace=False)}


#: Zero-shot tags: the catalogue's own kinds of product, scored by the model from the photo alone.
TAG_FIELD = "articleType"
TAG_THRESHOLD = 0.5


def bench_enrichment(catalog: Catalog) -> EnrichmentSettings:
    """Enrichment of every benchmark index: colours, plus zero-shot tags over the TRAIN split's product
    kinds (never the test split's), embedded as bare words as the catalogue-trained model saw titles."""
    kinds = {str(catalog.value(i, TAG_FIELD)) for i in catalog.ids("train") if catalog.value(i, TAG_FIELD)}
    return EnrichmentSettings(tag_vocabulary=sorted(kinds), tag_template="{tag}", tag_threshold=TAG_THRESHOLD)


def _open_index(
    index_dir: Path,
    image_root: str,
    model: str,
    backend: Any = None,
    enrichment: EnrichmentSettings | None = None,
) -> Any:
    from blendsearch.engine import Engine

    config = EngineConfig(
        fields=FieldMapping(image_root=image_root),
        encoder=EncoderSettings(model=model),
        enrichment=enrichment or EnrichmentSettings(),
    )
    return Engine.open(index_dir, config, backend=backend)


def build_index(
    index_dir: Path,
    docs: list[Document],
    image_root: str,
    model: str,
    backend: Any,
    progress: Progress | None,
    enrichment: EnrichmentSettings | None = None,
) -> Any:
    engine = _open_index(index_dir, image_root, model, backend, enrichment)
    started = time.perf_counter()
    rejects = index_dir / "rejects.jsonl"
    summary = engine.ingest(docs, rejects=rejects)
    if summary.rejected and progress:
        progress(f"{summary.rejected} items rejected, first: {_first_reject(rejects)}")
    if docs and not summary.indexed:
        engine.close()
        raise CatalogError(f"every item was rejected while indexing {index_dir}: {_first_reject(rejects)}")
    if progress:
        seconds = time.perf_counter() - started
        progress(
            f"indexed {summary.indexed}/{summary.read} into {index_dir} ({summary.written} written, "
            f"{summary.unchanged} unchanged, {summary.rejected} rejected) in {seconds:.0f}s"
        )
    stale = set(engine.backend.iter_ids()) - {d.id for d in docs}
    if stale:
        engine.delete(sorted(stale))
    return engine


def _first_reject(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as handle:
            first = json.loads(handle.readline())
    except (OSError, ValueError):
        return "(no rejects file)"
    return f"{first.get('stage')}: {first.get('reason')}"


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
    minmax = base.model_copy(update={"normalisation": "minmax", "combination": "weighted_mean"})
    rrf = base.model_copy(update={"combination": "rrf", "rrf_k": 60.0})
    return {
        "bm25": {False: base, True: base},
        "metadata": {False: base, True: base},
        "vector": {False: base, True: base},
        "hybrid_minmax": {False: minmax, True: minmax},
        "hybrid_rrf": {False: rrf, True: rrf},
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
    image_only = _image_only_ids(condition, sample, set(), rng, image_only_fraction)
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
            results[expand] = tune(runs, judgements, engine.config.search)
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
    image_only = _image_only_ids(condition, test, listed, rng, 0.0)
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
    settings = _method_settings(engine.config.search, tuned)
    methods: dict[str, dict[str, float]] = {}
    by: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for expand in (False, True):
        runs = collect_runs(engine, queries, expand=expand)
        for name, channels in BASE_METHODS.items():
            label = f"{name}+expansion" if expand else name
            rankings = [
                [hit.id for hit in fuse_run(_restrict(run, channels), settings[name][expand])[:100]]
                for run in runs
            ]
            report = score_rankings(rankings, queries, judgements)
            methods[label] = report.metrics
            by[label] = report.by
    return methods, by


class IngestBenchReport(BaseModel):
    """What ``blendsearch bench ingest --json`` prints."""

    products: int
    model: str
    pipeline_items_per_s: float
    encoder_items_per_s: float
    #: pipeline / encoder throughput; ``overhead`` = 1 - ratio (the share of time not spent in the model).
    ratio: float
    overhead: float
    ingest_seconds: float
    encoder_seconds: float
    queries: int
    query_p50_ms: float
    query_p99_ms: float
    encode_p50_ms: float
    #: Share of warm query time spent encoding the query text (sum of encode / sum of total).
    encode_share: float
    stage_p50_ms: dict[str, float] = Field(default_factory=dict)
    #: torch CPU threads the encoder used (``EncoderSettings.threads``; "auto" is resolved at load).
    encoder_threads: int | None = None


def bench_ingest(
    catalog_path: PathInput,
    *,
    model: str | None = None,
    queries_path: PathInput | None = None,
    limit: int | None = None,
    index_dir: PathInput | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> IngestBenchReport:
    """Ingest items/s of the test split beside the encoder's own throughput, then warm query latency.

    The index is built fresh (a temporary folder unless ``index_dir``, which must be empty), so every
    item is encoded. The encoder alone then embeds the same images and texts in the same process.
    """
    import tempfile

    from blendsearch.ingest.images import ImageSource, decode_image
    from blendsearch.query.models import HybridQuery

    path = Path(catalog_path)
    catalog = read_catalog(path)
    spec = ensure_model(path, model, progress=progress)
    ids = catalog.ids("test") or catalog.ids()
    ids = sample_ids(ids, limit, np.random.default_rng(seed))
    docs, root = condition_documents(catalog, path, ids, set())
    with tempfile.TemporaryDirectory(prefix="blendsearch-bench-") as tmp:
        target = Path(index_dir) if index_dir else Path(tmp) / "index"
        if target.exists() and any(target.iterdir()):
            raise ConfigError(f"{target} is not empty: the ingest benchmark needs a fresh index")
        engine = _open_index(target, root, spec, enrichment=bench_enrichment(catalog))
        try:
            started = time.perf_counter()
            summary = engine.ingest(docs)
            ingest_seconds = time.perf_counter() - started
            if progress:
                progress(f"ingested {summary.indexed}/{summary.read} in {ingest_seconds:.1f}s")
            encoder = engine.encoder
            if encoder is None:
                raise ConfigError(f"model {spec!r} could not be loaded: {engine.notices}")
            threads = encoder.threads
            with ImageSource(root) as source:
                images = [decode_image(source.fetch(d.image)) for d in docs if d.image]
            texts = [d.text() for d in docs if d.text()]
            started = time.perf_counter()
            encoder.encode_images(images)
            encoder.encode_texts(texts)
            encoder_seconds = time.perf_counter() - started
            texts = [q.query for q in timing_queries(path, queries_path)]
            latency = _query_latency(engine, texts, HybridQuery)
        finally:
            engine.close()
    pipeline_rate = len(docs) / ingest_seconds if ingest_seconds > 0 else 0.0
    encoder_rate = len(docs) / encoder_seconds if encoder_seconds > 0 else 0.0
    ratio = pipeline_rate / encoder_rate if encoder_rate > 0 else 0.0
    return IngestBenchReport(
        products=len(docs),
        model=spec,
        pipeline_items_per_s=pipeline_rate,
        encoder_items_per_s=encoder_rate,
        ratio=ratio,
        overhead=1.0 - ratio,
        ingest_seconds=ingest_seconds,
        encoder_seconds=encoder_seconds,
        encoder_threads=threads,
        **latency,
    )


def timing_queries(catalog_path: Path, queries_path: PathInput | None) -> list[JudgedQuery]:
    """Queries to time: ``queries_path``, else ``queries-dev.jsonl`` beside the catalogue."""
    if queries_path is not None:
        return load_queries(queries_path)
    beside = catalog_path.parent / "queries-dev.jsonl"
    if beside.is_file():
        return load_queries(beside)
    raise ConfigError("give --queries: no queries-dev.jsonl lies beside the catalogue to time queries with")


def _query_latency(engine: Any, texts: Sequence[str], query_type: Any) -> dict[str, Any]:
    """Warm hybrid latency: one pass to warm caches, then time each query once."""
    for text in texts[: min(len(texts), 20)]:
        engine.search(query_type(text=text, k=10))
    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    for text in texts:
        started = time.perf_counter()
        result = engine.search(query_type(text=text, k=10))
        totals.append((time.perf_counter() - started) * 1000)
        for stage, ms in result.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
    encode = stages.get("encode", [0.0] * len(totals))
    return {
        "queries": len(totals),
        "query_p50_ms": float(np.percentile(totals, 50)),
        "query_p99_ms": float(np.percentile(totals, 99)),
        "encode_p50_ms": float(np.percentile(encode, 50)),
        "encode_share": float(sum(encode) / sum(totals)) if totals else 0.0,
        "stage_p50_ms": {stage: float(np.percentile(v, 50)) for stage, v in stages.items()},
    }
