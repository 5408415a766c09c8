"""``blendsearch calibrate``: fit calibrated match probabilities for an index and save them with it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from blendsearch.cli.notices import echo_notices
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
@click.option(
    "--auto",
    is_flag=True,
    help="Generate judged queries from --catalog itself (products outside the evaluation: its train split, "
    "else a held-out fraction of ids) and fit on them instead of --queries.",
)
@click.option("--auto-queries", default=800, show_default=True, help="How many queries --auto generates.")
@click.option(
    "--wording",
    type=click.Choice(["mixed", "catalogue", "all"]),
    default="mixed",
    show_default=True,
    help="--auto: the ways queries are worded (mixed: catalogue words, order, synonyms, shades, phrasing, "
    "typos, missing words; catalogue: the catalogue's own words only; all: mixed + made-up kind words).",
)
@click.option("--auto-split", default="train", show_default=True, help="--auto: split whose products to use.")
@click.option(
    "--auto-fraction",
    default=0.2,
    show_default=True,
    help="--auto, catalogue without that split: fraction of ids to build queries from (listed in "
    "INDEX/auto-source-ids.txt; leave them out of any evaluation).",
)
@click.option("--kind-field", default="articleType", show_default=True, help="--auto: the primary field.")
@click.option("--colour-field", default="baseColour", show_default=True, help="--auto: the colour field.")
@click.option("--gender-field", default="gender", show_default=True, help="--auto: the shopper field.")
@click.option("--usage-field", default="usage", show_default=True, help="--auto: the occasion field.")
@click.option(
    "--save-queries",
    type=click.Path(dir_okay=False, path_type=Path),
    help="--auto: also write the generated judged queries (JSONL).",
)
@click.option(
    "--features",
    "feature_set_name",
    type=click.Choice(["all", "transfer", "relative"]),
    default=None,
    help="Fused-score features to fit on (the others get weight 0). [default: all]",
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
    auto: bool,
    auto_queries: int,
    wording: str,
    auto_split: str,
    auto_fraction: float,
    kind_field: str,
    colour_field: str,
    gender_field: str,
    usage_field: str,
    save_queries: Path | None,
    feature_set_name: str | None,
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
    queries, and reported on the other half. With --auto the queries are generated from --catalog, and
    the vector channel is fitted on their texts against product images.
    """
    from blendsearch.calibration import calibrate_index, save_calibration
    from blendsearch.calibration.fit import feature_set
    from blendsearch.engine import INDEX_FILE, Engine
    from blendsearch.eval.autoqueries import (
        AUTO_CAVEAT,
        AUTO_IDS_FILE,
        CATALOGUE_WORDINGS,
        MIXED_WORDINGS,
        WORDINGS,
    )
    from blendsearch.eval.autoqueries import auto_queries as make_auto_queries
    from blendsearch.eval.judgements import load_queries, read_catalog, write_queries
    from blendsearch.eval.queries import QueryFields

    if not (index_dir / INDEX_FILE).is_file():
        raise click.ClickException(f"no blendsearch index in {index_dir}")
    if queries_file is not None and catalog_file is None:
        raise click.UsageError("--queries needs --catalog (the judgements read the catalogue's true fields)")
    if auto and (catalog_file is None or queries_file is not None):
        raise click.UsageError("--auto needs --catalog and no --queries (it generates its own)")
    features = feature_set(feature_set_name or "all")
    generated = None
    with library_errors(), Engine.open(index_dir) as engine:
        queries = load_queries(queries_file) if queries_file else None
        catalog = read_catalog(catalog_file, id_field=engine.config.fields.id) if catalog_file else None
        if auto and catalog is not None:
            fields = QueryFields(kind=kind_field, colour=colour_field, gender=gender_field, usage=usage_field)
            generated = make_auto_queries(
                engine,
                catalog,
                n=auto_queries,
                wordings={"mixed": MIXED_WORDINGS, "catalogue": CATALOGUE_WORDINGS, "all": WORDINGS}[wording],
                split=auto_split,
                fraction=auto_fraction,
                seed=seed,
                fields=fields,
            )
            queries = generated.queries
            if not catalog.ids(auto_split):
                (index_dir / AUTO_IDS_FILE).write_text("".join(i + "\n" for i in generated.source_ids))
            if save_queries is not None:
                write_queries(save_queries, queries)
        run = calibrate_index(
            engine,
            queries=queries,
            catalog=catalog,
            n_pos=pairs,
            neg_per_pos=negatives,
            depth=depth,
            seed=seed,
            features=features,
            vector_queries=queries if auto else None,
        )
        if generated is not None and run.calibration.fused is not None:
            run.messages.append(AUTO_CAVEAT)
        path = save_calibration(index_dir, run.calibration)
        if plot_file is not None:
            run.plot(plot_file)
    auto_info = None
    if generated is not None:
        auto_info = {"queries": len(generated.queries), "source": generated.source, "wording": wording}
    if as_json:
        echo_json(
            {
                **run.summary(),
                "auto": auto_info,
                "saved": str(path),
                "plot": str(plot_file) if plot_file else None,
            }
        )
        return
    if generated is not None:
        click.echo(
            f"generated {len(generated.queries)} judged queries ({wording} wording) from {generated.source}"
        )
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
    echo_notices(run.messages)
    click.echo(f"saved {path}")
    if plot_file is not None:
        click.echo(f"reliability diagram: {plot_file}")


commands = [calibrate]
