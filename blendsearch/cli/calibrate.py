"""``blendsearch calibrate``: fit calibrated match probabilities for an index and save them with it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from blendsearch.cli.options import echo_json, index_option, json_option, library_errors, queries_file_option

if TYPE_CHECKING:
    from blendsearch.calibration import FusedCalibration, VectorCalibration

__all__ = ["commands"]


def _metrics_line(name: str, part: VectorCalibration | FusedCalibration) -> str:
    where = f"{part.n_holdout} {name}" if part.n_holdout else f"the {part.n} fitted examples (no hold-out)"
    return (
        f"ECE {part.ece_before:.4f} -> {part.ece_after:.4f}, "
        f"Brier {part.brier_before:.4f} -> {part.brier_after:.4f} on {where}"
    )


@click.command()
@index_option
@queries_file_option("Judged queries (JSONL with a 'match' rule each) to calibrate the fused score on.")
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The catalogue file whose TRUE fields the judgements read (CSV/TSV/JSONL).",
)
@click.option("--pairs", default=2000, show_default=True, help="Catalogue products used as positive pairs.")
@click.option("--negatives", default=3, show_default=True, help="Random non-matching pairs per positive.")
@click.option("--depth", default=50, show_default=True, help="Hits per judged query used for fitting.")
@click.option("--seed", default=0, show_default=True, help="Seed of the sampling and the query split.")
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save a reliability diagram (PNG) of the held-out data.",
)
@json_option
def calibrate(
    index_dir: Path,
    queries_file: Path | None,
    catalog_file: Path | None,
    pairs: int,
    negatives: int,
    depth: int,
    seed: int,
    plot_file: Path | None,
    as_json: bool,
) -> None:
    """Fit the index's calibration and save it as calibration.json in the index directory.

    The vector channel is always fitted (when the index has vectors) on the catalogue's own image/text
    pairs; the fused score is fitted when judged --queries and their --catalog are given, on half the
    queries, and reported on the other half.
    """
    from blendsearch.calibration import calibrate_index, save_calibration
    from blendsearch.engine import INDEX_FILE, Engine
    from blendsearch.eval.judgements import load_queries, read_catalog

    if not (index_dir / INDEX_FILE).is_file():
        raise click.ClickException(f"no blendsearch index in {index_dir}")
    if queries_file is not None and catalog_file is None:
        raise click.UsageError("--queries needs --catalog (the judgements read the catalogue's true fields)")
    with library_errors(), Engine.open(index_dir) as engine:
        queries = load_queries(queries_file) if queries_file else None
        catalog = read_catalog(catalog_file, id_field=engine.config.fields.id) if catalog_file else None
        run = calibrate_index(
            engine,
            queries=queries,
            catalog=catalog,
            n_pos=pairs,
            neg_per_pos=negatives,
            depth=depth,
            seed=seed,
        )
        path = save_calibration(index_dir, run.calibration)
        if plot_file is not None:
            run.plot(plot_file)
    if as_json:
        echo_json({**run.summary(), "saved": str(path), "plot": str(plot_file) if plot_file else None})
        return
    cal = run.calibration
    if cal.vector is not None:
        v = cal.vector
        click.echo(f"vector channel: temperature {v.temperature:.4g}, bias shift {v.bias_shift:+.4g}")
        click.echo("  " + _metrics_line("held-out catalogue pairs", v))
    if cal.fused is not None:
        click.echo(f"fused score: logistic model over {len(cal.fused.feature_names)} features")
        fitted, held = run.fused_queries
        click.echo(f"  fitted on {fitted} judged queries, reported on the other {held}")
        click.echo("  " + _metrics_line("held-out hits", cal.fused))
    for message in run.messages:
        click.echo(f"note: {message}")
    click.echo(f"saved {path}")
    if plot_file is not None:
        click.echo(f"reliability diagram: {plot_file}")


commands = [calibrate]
