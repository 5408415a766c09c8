"""The ``bench`` commands (quality, ingest, backends) on a catalogue with a train/test split."""

from __future__ import annotations

from pathlib import Path

import click

from blendsearch.cli.options import (
    echo_json,
    index_option,
    json_option,
    library_errors,
    queries_file_option,
)

__all__ = ["commands"]

catalog_option = click.option(
    "--catalog",
    "catalog_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Catalogue CSV/JSONL with a split column (train/test); images beside it.",
)
model_option = click.option(
    "--model",
    help="Model spec or folder (hash:32 checks plumbing); default: one trained on split=train, cached.",
)
timed_queries_option = queries_file_option(
    "Queries to time (default: queries-dev.jsonl beside the catalogue)."
)
limit_option = click.option(
    "--limit", type=click.IntRange(1), help="Index a seeded sample of this many test products (smoke runs)."
)


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.group("bench")
def bench_group() -> None:
    """Benchmarks: retrieval quality per method, and ingest / query speed."""


@bench_group.command("quality")
@catalog_option
@queries_file_option("Judged test queries (JSONL).", required=True)
@click.option(
    "--condition",
    type=click.Choice(["full", "sparse", "images"]),
    default="full",
    show_default=True,
    help="full: all text; sparse: image_only_ids.txt products image only; images: all image only.",
)
@model_option
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the benchmark indexes live (default: cached under BLENDSEARCH_HOME/bench).",
)
@click.option(
    "--tune-queries",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Queries over TRAIN products to fit hybrid_tuned (default: generated from the train sample).",
)
@click.option("--image-only", "image_only_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@limit_option
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--no-pairs", is_flag=True, help="Skip the pair-retrieval metrics.")
@click.option("--breakdown", is_flag=True, help="Include per-category results of every method in the JSON.")
@click.option(
    "--plots", "plots_dir", type=click.Path(file_okay=False, path_type=Path), help="Write PNG figures here."
)
@json_option
def quality_command(
    catalog_file: Path,
    queries_file: Path,
    condition: str,
    model: str | None,
    index_dir: Path | None,
    tune_queries: Path | None,
    image_only_file: Path | None,
    limit: int | None,
    seed: int,
    no_pairs: bool,
    breakdown: bool,
    plots_dir: Path | None,
    as_json: bool,
) -> None:
    """nDCG@10, Recall@10/@100 and MRR of every method, with and without expansion, plus pair retrieval."""
    from blendsearch.eval.bench import bench_quality, method_names
    from blendsearch.eval.tables import format_table

    with library_errors():
        report = bench_quality(
            catalog_file,
            queries_file,
            condition=condition,  # type: ignore[arg-type]
            model=model,
            index_dir=index_dir,
            tune_queries=tune_queries,
            image_only_file=image_only_file,
            limit=limit,
            seed=seed,
            pairs=not no_pairs,
            progress=_say,
        )
    if plots_dir is not None:
        _quality_plots(report, plots_dir)
    if as_json:
        click.echo(report.model_dump_json(exclude=None if breakdown else {"by"}))
        return
    click.echo(
        f"condition {report.condition}: {report.products} test products ({report.image_only} image only), "
        f"{report.queries} queries, model {report.model}"
    )
    click.echo(
        format_table({m: report.methods[m] for m in method_names() if m in report.methods}, label="method")
    )
    if report.pairs:
        click.echo("\npair retrieval:")
        rows = {
            d: {**report.pairs[d]["recall"], "MRR": report.pairs[d]["mrr"]}
            for d in ("text_to_image", "image_to_text")
        }
        click.echo(format_table(rows, label="direction"))


def _quality_plots(report: object, folder: Path) -> None:
    from blendsearch.eval.plots import plot_category_bars

    folder.mkdir(parents=True, exist_ok=True)
    for method in ("bm25", "hybrid_tuned", "hybrid_tuned+expansion"):
        groups = report.by.get(method, {}).get("primary")  # type: ignore[attr-defined]
        if groups:
            plot_category_bars(
                groups,
                "recall@10",
                folder / f"quality-{report.condition}-{method}.png",  # type: ignore[attr-defined]
                title=f"{method} Recall@10 by product kind ({report.condition})",  # type: ignore[attr-defined]
            )
    _say(f"figures written to {folder}")


@bench_group.command("ingest")
@catalog_option
@model_option
@timed_queries_option
@limit_option
@click.option(
    "--index-dir", type=click.Path(file_okay=False, path_type=Path), help="A fresh folder to build in."
)
@click.option(
    "--enrichment/--no-enrichment",
    default=True,
    show_default=True,
    help="Generate colours, tags and descriptions while ingesting.",
)
@json_option
def ingest_command(
    catalog_file: Path,
    model: str | None,
    queries_file: Path | None,
    limit: int | None,
    index_dir: Path | None,
    enrichment: bool,
    as_json: bool,
) -> None:
    """Ingest items/s beside the encoder's own throughput, and warm query latency p50/p99."""
    from blendsearch.eval.bench import bench_ingest

    with library_errors():
        report = bench_ingest(
            catalog_file,
            model=model,
            queries_path=queries_file,
            limit=limit,
            index_dir=index_dir,
            enrichment=enrichment,
            progress=_say,
        )
    if as_json:
        echo_json(report)
        return
    click.echo(
        f"ingest: {report.products} products, {report.pipeline_items_per_s:.1f} items/s "
        f"(encoder alone {report.encoder_items_per_s:.1f} items/s; pipeline overhead {report.overhead:.0%})"
    )
    click.echo(
        f"cpu: ingest {report.ingest_cpu_seconds:.1f} s, encoder alone {report.encoder_cpu_seconds:.1f} s; "
        f"load average {report.load_average[0]:.2f} -> {report.load_average[1]:.2f}"
    )
    click.echo(
        f"queries: {report.queries} warm, p50 {report.query_p50_ms:.1f} ms, "
        f"p99 {report.query_p99_ms:.1f} ms, "
        f"encoding {report.encode_share:.0%} of the time (p50 {report.encode_p50_ms:.1f} ms)"
    )


@bench_group.command("backends")
@catalog_option
@model_option
@click.option(
    "--backend",
    "backend_urls",
    multiple=True,
    help="A cluster to time too: opensearch+http(s)://host:port or elasticsearch+... (repeatable).",
)
@click.option(
    "--emulators/--no-emulators",
    default=True,
    show_default=True,
    help="Also start osmem-server and noida-db on 127.0.0.1 and time them (labelled emulator figures).",
)
@timed_queries_option
@click.option(
    "--query-limit",
    default=100,
    show_default=True,
    type=click.IntRange(1),
    help="Time the first N queries on every backend (noida-db scans every document per query).",
)
@limit_option
@json_option
def backends_command(
    catalog_file: Path,
    model: str | None,
    backend_urls: tuple[str, ...],
    emulators: bool,
    queries_file: Path | None,
    query_limit: int,
    limit: int | None,
    as_json: bool,
) -> None:
    """Bulk docs/s and query p50/p99 of the same documents and queries on each backend, side by side."""
    from blendsearch.eval.bench_backends import bench_backends

    with library_errors():
        report = bench_backends(
            catalog_file,
            model=model,
            backend_urls=backend_urls,
            emulators=emulators,
            queries_path=queries_file,
            query_limit=query_limit,
            limit=limit,
            progress=_say,
        )
    if as_json:
        echo_json(report)
        return
    click.echo(f"{report.products} products, {report.queries} queries, model {report.model}")
    for row in report.rows:
        label = f"{row.name} ({row.emulator}, emulator)" if row.emulator else row.name
        latency = "; ".join(
            f"{mode} p50 {t.p50_ms:.1f} ms (lookup {row.lookup_latency[mode].p50_ms:.1f}) "
            f"p99 {t.p99_ms:.1f} ms, nDCG@10 {row.ndcg_at_10[mode]:.3f}, "
            f"top-10 agreement {row.top10_agreement[mode]:.2f}"
            for mode, t in row.latency.items()
        )
        click.echo(f"{label}: bulk {row.bulk.docs_per_s:.0f} docs/s; {latency or 'no queries'}")
        for note in row.notes:
            click.echo(f"  note: {note}")


@bench_group.command("serve")
@click.option(
    "--index",
    "index_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Index to serve (a temporary copy is served; the ingest phase writes to the copy).",
)
@queries_file_option("Queries (JSONL with a 'text' or 'query' field; default: the index's common words).")
@click.option("--requests", default=200, show_default=True, type=click.IntRange(1), help="Per load phase.")
@click.option(
    "--concurrency", default="1,4,16", show_default=True, help="Comma-separated client concurrencies."
)
@click.option("--seconds", default=30.0, show_default=True, help="Time limit per load phase.")
@click.option(
    "--ingest", "ingest_products", default=1000, show_default=True, type=click.IntRange(0),
    help="Products ingested through the API during the second round of load (0: skip).",
)  # fmt: skip
@json_option
def serve_command(
    index_dir: Path,
    queries_file: Path | None,
    requests: int,
    concurrency: str,
    seconds: float,
    ingest_products: int,
    as_json: bool,
) -> None:
    """HTTP requests/s, p50/p99 and errors of `blendsearch serve` at each concurrency, beside in-process
    Engine.search p50; then the same while products are ingested through the API."""
    import json

    from blendsearch.eval.bench_serve import bench_serve

    try:
        levels = [int(c) for c in concurrency.split(",") if c.strip()]
    except ValueError as exc:
        raise click.BadParameter("comma-separated integers, e.g. 1,4,16", param_hint="--concurrency") from exc
    queries = None
    if queries_file is not None:
        rows = [json.loads(line) for line in queries_file.read_text().splitlines() if line.strip()]
        queries = [str(r.get("text") or r.get("query")) for r in rows if r.get("text") or r.get("query")]
    with library_errors():
        report = bench_serve(
            index_dir,
            queries=queries,
            concurrencies=levels,
            requests=requests,
            time_limit_s=seconds,
            ingest_products=ingest_products,
            progress=_say,
        )
    if as_json:
        echo_json(report)
        return
    click.echo(
        f"{report.documents} documents, {report.queries} queries; in-process Engine.search p50 "
        f"{report.in_process_p50_ms:.1f} ms, p99 {report.in_process_p99_ms:.1f} ms"
    )
    for label, rows in (("", report.levels), ("during ingest ", report.during_ingest)):
        for row in rows:
            click.echo(
                f"{label}c={row.concurrency}: {row.requests_per_s:.1f} req/s, p50 {row.p50_ms or 0:.1f} ms, "
                f"p99 {row.p99_ms or 0:.1f} ms, errors {row.errors}/{row.requests}"
            )
    if report.ingest is not None:
        click.echo(
            f"ingest: {report.ingest.indexed}/{report.ingest.products} indexed "
            f"in {report.ingest.seconds:.1f} s, "
            f"errors {len(report.ingest.errors)}"
        )


@bench_group.command("scale")
@catalog_option
@click.option("--products", required=True, type=click.IntRange(1), help="Synthetic catalogue size.")
@click.option("--model", default="hash:64", show_default=True, help="Encodes each real photo/title once.")
@timed_queries_option
@click.option(
    "--index-dir", type=click.Path(file_okay=False, path_type=Path), help="A fresh folder to build in (kept)."
)
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1))
@click.option("--query-limit", type=click.IntRange(1), help="Time only the first N queries.")
@click.option(
    "--real-products", type=click.IntRange(1), help="Recombine only the first N real products (quick runs)."
)
@click.option("--no-ann", is_flag=True, help="Skip the HNSW-vs-exact recall phase.")
@json_option
def scale_command(
    catalog_file: Path,
    products: int,
    model: str,
    queries_file: Path | None,
    index_dir: Path | None,
    batch_size: int,
    query_limit: int | None,
    real_products: int | None,
    no_ann: bool,
    as_json: bool,
) -> None:
    """Ingest docs/s (vectors precomputed), index size, peak RSS, hybrid/bm25/vector latency and ANN
    recall on a synthetic catalogue of N products recombined from the real one."""
    from blendsearch.eval.bench_scale import bench_scale

    with library_errors():
        report = bench_scale(
            catalog_file,
            products,
            model=model,
            queries_path=queries_file,
            index_dir=index_dir,
            batch_size=batch_size,
            query_limit=query_limit,
            real_products=real_products,
            ann=not no_ann,
            progress=_say,
        )
    if as_json:
        echo_json(report)
        return
    s, i = report.search, report.ingest
    click.echo(
        f"{report.products} products: ingest {i.docs_per_s:.0f} docs/s, index {i.index_bytes / 1e6:.0f} MB, "
        f"peak RSS ingest {i.peak_rss_mb:.0f} MB / search {s.peak_rss_mb:.0f} MB"
    )
    click.echo(
        f"hybrid p50 {s.hybrid.p50_ms:.1f} ms p99 {s.hybrid.p99_ms:.1f} ms; filtered p50 "
        f"{s.hybrid_filtered.p50_ms:.1f} ms p99 {s.hybrid_filtered.p99_ms:.1f} ms "
        f"({s.filtered_short}/{s.filtered_queries} short); bm25 p50 {s.bm25_only.p50_ms:.1f} ms, "
        f"vector_image p50 {s.vector_image_only.p50_ms:.1f} ms"
    )
    if s.hybrid_no_feedback is not None:
        plain = s.hybrid_no_feedback
        click.echo(f"hybrid without image feedback p50 {plain.p50_ms:.1f} ms p99 {plain.p99_ms:.1f} ms")
    for name, target in report.targets.items():
        click.echo(f"  {name}: {target['value']} {'met' if target['met'] else 'MISSED'}")


@bench_group.command("latency")
@index_option
@queries_file_option("Queries to time (JSONL with a 'query' or 'text' field).", required=True)
@click.option("--limit", type=click.IntRange(1), help="Time only the first N queries.")
@json_option
def latency_command(index_dir: Path, queries_file: Path, limit: int | None, as_json: bool) -> None:
    """Warm p50/p99 of hybrid queries beside bm25 alone and vector_image alone, interleaved in one run."""
    import json

    from blendsearch.eval.bench_latency import bench_latency

    rows = [json.loads(line) for line in queries_file.read_text().splitlines() if line.strip()]
    texts = [str(r.get("query") or r.get("text")) for r in rows if r.get("query") or r.get("text")]
    with library_errors():
        report = bench_latency(index_dir, texts[:limit] if limit else texts)
    if as_json:
        echo_json(report)
        return
    for name, mode in report.modes.items():
        click.echo(f"{name:>13}: p50 {mode.p50_ms:.1f} ms, p99 {mode.p99_ms:.1f} ms")
    if report.hybrid_p50_over_parts is not None:
        click.echo(f"hybrid p50 / (bm25 p50 + vector_image p50) = {report.hybrid_p50_over_parts:.2f}")
    click.echo(f"hybrid p99 / p50 = {report.hybrid_p99_over_p50:.2f}")


commands: list[click.Command] = [bench_group]
