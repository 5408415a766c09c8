"""The ``bench`` commands (quality, ingest, backends) on a catalogue with a train/test split."""

from __future__ import annotations

from pathlib import Path

import click

from blendsearch.cli.options import echo_json, json_option, library_errors, queries_file_option

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
@json_option
def ingest_command(
    catalog_file: Path,
    model: str | None,
    queries_file: Path | None,
    limit: int | None,
    index_dir: Path | None,
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


commands: list[click.Command] = [bench_group]
