"""``tune``: fit an index's blend weights and fusion on a judged query set, optionally saving them."""

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

__all__ = ["commands"]


@click.command("tune")
@index_option
@queries_file_option("Judged queries to tune on (never the set you report results on).", required=True)
@judged_catalog_option
@click.option("--split", help="Judge over this split (default: the products in the index).")
@expand_option
@click.option("--write", is_flag=True, help="Save the best settings into the index's config.")
@json_option
def tune_command(
    index_dir: Path,
    queries_file: Path,
    catalog_file: Path,
    split: str | None,
    expand: bool | None,
    write: bool,
    as_json: bool,
) -> None:
    """Search weights, normalisation, combination and rrf_k for the best mean nDCG@10.

    Each query runs once; fusions are then recomputed offline. Tune on queries and products kept apart
    from the ones you evaluate on, or the reported gain is not real.
    """
    from blendsearch.engine import Engine
    from blendsearch.eval.judgements import judge, load_queries, read_catalog
    from blendsearch.eval.tables import format_table
    from blendsearch.eval.tune import collect_runs, tune

    with library_errors():
        catalog = read_catalog(catalog_file)
        queries = load_queries(queries_file)
        with Engine.open(index_dir) as engine:
            population = (
                catalog.ids(split) if split else [i for i in engine.backend.iter_ids() if i in catalog.rows]
            )
            judgements = judge(queries, catalog, population, check_relevant=False)
            kept = [(q, j) for q, j in zip(queries, judgements, strict=True) if j.relevant > 0]
            runs = collect_runs(engine, [q for q, _ in kept], expand=expand)
            result = tune(runs, [j for _, j in kept], engine.config.search)
            if write:
                engine.config.search = result.best.apply(engine.config.search)
                engine.save_config()
    if as_json:
        echo_json({**result.model_dump(), "written": write})
        return
    click.echo(f"{result.queries} queries, {result.evaluated} settings tried")
    click.echo(f"default nDCG@10 {result.default_ndcg:.4f}   best {result.ndcg:.4f}")
    click.echo(
        format_table({"default": result.default.weights, "best": result.best.weights}, label="weights")
    )
    click.echo(f"best fusion: {result.best.family}")
    click.echo(format_table({name: {"ndcg@10": v} for name, v in result.families.items()}, label="family"))
    click.echo("saved into the index config" if write else "not saved (use --write)")


commands: list[click.Command] = [tune_command]
