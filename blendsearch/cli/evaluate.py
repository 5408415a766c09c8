"""``eval pairs`` and ``eval queries``: retrieval quality of an existing index."""

from __future__ import annotations

from pathlib import Path

import click

from blendsearch.cli.options import (
    echo_json,
    expand_option,
    index_option,
    json_option,
    judged_catalog_option,
    library_errors,
    queries_file_option,
)
from blendsearch.config import CHANNELS

__all__ = ["commands"]

catalog_option = click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Catalogue file (CSV/JSONL) whose TRUE fields judge the results.",
)
plots_option = click.option(
    "--plots",
    "plots_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write PNG figures into this folder.",
)


@click.group("eval")
def eval_group() -> None:
    """Evaluate an index: pair retrieval of its vectors, or a judged query set."""


@eval_group.command("pairs")
@index_option
@catalog_option
@click.option("--by", "by", multiple=True, help="Break results down by this catalogue field (repeatable).")
@plots_option
@json_option
def pairs_command(
    index_dir: Path, catalog_file: Path | None, by: tuple[str, ...], plots_dir: Path | None, as_json: bool
) -> None:
    """Title -> image and image -> title retrieval (Recall@1/5/10/50, MRR, cosine gap) over the index."""
    from blendsearch.engine import Engine
    from blendsearch.eval.judgements import read_catalog
    from blendsearch.eval.pairs import DIRECTIONS, pair_retrieval
    from blendsearch.eval.tables import format_table

    with library_errors():
        catalog = read_catalog(catalog_file) if catalog_file else None
        with Engine.open(index_dir) as engine:
            report = pair_retrieval(engine, catalog, by=by)
    if plots_dir is not None:
        _pair_plots(report, plots_dir)
    if as_json:
        echo_json(report)
        return
    click.echo(f"{report.products} products ({report.skipped} without a title or image vector left out)")
    rows = {}
    for name in DIRECTIONS:
        metrics = getattr(report, name)
        rows[name] = {**metrics.recall, "MRR": metrics.mrr, "cos gap": metrics.cosine_gap}
        rows[name]["euclid gap"] = metrics.euclidean_gap
    click.echo(format_table(rows, label="direction"))
    for field, directions in report.by_category.items():
        click.echo(f"\ntext_to_image by {field}:")
        click.echo(format_table(directions["text_to_image"], label=field))


def _pair_plots(report: object, folder: Path) -> None:
    from blendsearch.eval.plots import plot_category_bars, plot_score_histograms

    folder.mkdir(parents=True, exist_ok=True)
    for direction, scores in report.scores.items():  # type: ignore[attr-defined]
        plot_score_histograms(
            scores.positive, scores.negative, folder / f"pairs-{direction}-scores.png", title=direction
        )
    for field, directions in report.by_category.items():  # type: ignore[attr-defined]
        for direction, groups in directions.items():
            plot_category_bars(
                groups,
                "R@10",
                folder / f"pairs-{direction}-{field}.png",
                title=f"{direction} R@10 by {field}",
            )
    click.echo(f"figures written to {folder}", err=True)


@eval_group.command("queries")
@index_option
@queries_file_option("Judged queries (JSONL: qid, query, match, relevant).", required=True)
@judged_catalog_option
@click.option("--split", help="Judge over this split of the catalogue (default: the products in the index).")
@expand_option
@click.option(
    "--channel", "channels", multiple=True, type=click.Choice(CHANNELS), help="Only these channels."
)
@click.option(
    "--k", "k", default=100, show_default=True, type=click.IntRange(1, 10_000), help="Results per query."
)
@click.option("--no-check-relevant", is_flag=True, help="Do not insist the file's relevant counts match.")
@click.option("--per-query", is_flag=True, help="Include every query's scores in the JSON.")
@plots_option
@json_option
def queries_command(
    index_dir: Path,
    queries_file: Path,
    catalog_file: Path,
    split: str | None,
    expand: bool | None,
    channels: tuple[str, ...],
    k: int,
    no_check_relevant: bool,
    per_query: bool,
    plots_dir: Path | None,
    as_json: bool,
) -> None:
    """Run a judged query set through the index: nDCG@10, Recall@10/@100, MRR, per category."""
    from blendsearch.engine import Engine
    from blendsearch.eval.judgements import judge, load_queries, read_catalog
    from blendsearch.eval.retrieval import evaluate_queries
    from blendsearch.eval.tables import format_table

    options: dict[str, object] = {}
    if expand is not None:
        options["expand"] = expand
    if channels:
        options["channels"] = list(channels)
    with library_errors():
        catalog = read_catalog(catalog_file)
        queries = load_queries(queries_file)
        with Engine.open(index_dir) as engine:
            population = (
                catalog.ids(split) if split else [i for i in engine.backend.iter_ids() if i in catalog.rows]
            )
            judgements = judge(queries, catalog, population, check_relevant=not no_check_relevant)
            report = evaluate_queries(
                engine, queries, judgements, k=k, options=options, keep_per_query=per_query
            )
    if plots_dir is not None:
        from blendsearch.eval.plots import plot_category_bars

        plots_dir.mkdir(parents=True, exist_ok=True)
        for breakdown, groups in report.by.items():
            plot_category_bars(
                groups, "recall@10", plots_dir / f"queries-{breakdown}.png", title=f"Recall@10 by {breakdown}"
            )
        click.echo(f"figures written to {plots_dir}", err=True)
    if as_json:
        echo_json(report)
        return
    click.echo(f"{report.queries} queries over {len(population)} products")
    click.echo(format_table({"all": report.metrics}, label=""))
    for breakdown, groups in report.by.items():
        click.echo(f"\nby {breakdown}:")
        click.echo(format_table(groups, label=breakdown))


@eval_group.command("generate")
@click.option(
    "--catalog",
    "catalog_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Catalogue file with articleType/baseColour/gender/usage columns and a split column.",
)
@click.option(
    "--kind",
    type=click.Choice(["train", "unlike"]),
    required=True,
    help="train: tuning set, catalogue words, split=train; unlike: synonyms/shades/typos over test.",
)
@click.option("--split", help="Split to build from (default: train for --kind train, test for unlike).")
@click.option("--n", "count", default=300, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output JSONL.")
def generate_command(
    catalog_file: Path, kind: str, split: str | None, count: int, seed: int, out: Path
) -> None:
    """Write a judged query set generated from the catalogue (same format as the dev set)."""
    from blendsearch.eval.judgements import read_catalog, write_queries
    from blendsearch.eval.queries import generate_train_queries, generate_unlike_queries

    with library_errors():
        catalog = read_catalog(catalog_file)
        if kind == "train":
            queries = generate_train_queries(catalog, split=split or "train", n=count, seed=seed)
        else:
            queries = generate_unlike_queries(catalog, split=split or "test", n=count, seed=seed)
        write_queries(out, queries)
    click.echo(f"{len(queries)} queries written to {out}", err=True)


commands: list[click.Command] = [eval_group]
