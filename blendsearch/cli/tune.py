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
@queries_file_option("Judged queries to tune on (never the set you report results on).")
@judged_catalog_option
@click.option("--split", help="Judge over this split (default: the products in the index).")
@click.option(
    "--auto",
    is_flag=True,
    help="Generate judged queries of mixed wording from --catalog (its train split, else a held-out 20% "
    "of ids, listed in INDEX/auto-source-ids.txt) instead of --queries, and optimise nDCG@10 and "
    "Recall@100 together.",
)
@click.option("--auto-queries", default=400, show_default=True, help="How many queries --auto generates.")
@click.option("--auto-split", default="train", show_default=True, help="--auto: split whose products to use.")
@click.option("--seed", default=0, show_default=True, help="--auto: seed of the generated queries.")
@click.option(
    "--recall-weight",
    type=click.FloatRange(0, 1),
    help="Share of Recall@100 in the objective, the rest nDCG@10. [default: 0.5 with --auto, else 0]",
)
@expand_option
@click.option("--write", is_flag=True, help="Save the best settings into the index's config.")
@json_option
def tune_command(
    index_dir: Path,
    queries_file: Path | None,
    catalog_file: Path,
    split: str | None,
    auto: bool,
    auto_queries: int,
    auto_split: str,
    seed: int,
    recall_weight: float | None,
    expand: bool | None,
    write: bool,
    as_json: bool,
) -> None:
    """Search weights, normalisation, combination and rrf_k for the best mean nDCG@10 (or, with
    --recall-weight / --auto, nDCG@10 and Recall@100 together).

    Each query runs once; fusions are then recomputed offline. Tune on queries and products kept apart
    from the ones you evaluate on, or the reported gain is not real.
    """
    from blendsearch.engine import Engine
    from blendsearch.eval.autoqueries import AUTO_IDS_FILE, auto_source_ids, generate_auto_queries
    from blendsearch.eval.judgements import judge, load_queries, read_catalog
    from blendsearch.eval.tables import format_table
    from blendsearch.eval.tune import AUTO_RECALL_WEIGHT, collect_runs, tune

    if auto == (queries_file is not None):
        raise click.UsageError("give either --queries or --auto")
    weight = recall_weight if recall_weight is not None else (AUTO_RECALL_WEIGHT if auto else 0.0)
    with library_errors():
        catalog = read_catalog(catalog_file)
        with Engine.open(index_dir) as engine:
            population = (
                catalog.ids(split) if split else [i for i in engine.backend.iter_ids() if i in catalog.rows]
            )
            if queries_file is not None:
                queries = load_queries(queries_file)
            else:
                source, _ = auto_source_ids(catalog, split=auto_split, seed=seed)
                if not catalog.ids(auto_split):  # a held-out fraction: evaluations must leave it out
                    (index_dir / AUTO_IDS_FILE).write_text("".join(i + "\n" for i in source))
                queries = generate_auto_queries(catalog, source, population, n=auto_queries, seed=seed)
            judgements = judge(queries, catalog, population, check_relevant=False)
            kept = [(q, j) for q, j in zip(queries, judgements, strict=True) if j.relevant > 0]
            if not kept:
                raise click.ClickException("no query has a matching product in the index")
            runs = collect_runs(engine, [q for q, _ in kept], expand=expand)
            result = tune(runs, [j for _, j in kept], engine.search_settings(), recall_weight=weight)
            if write:
                engine.config.search = result.best.apply(engine.search_settings())
                engine.save_config()
    if as_json:
        echo_json({**result.model_dump(), "written": write})
        return
    click.echo(f"{result.queries} queries, {result.evaluated} settings tried")
    click.echo(f"default nDCG@10 {result.default_ndcg:.4f}   best {result.ndcg:.4f}")
    if result.recall_weight:
        click.echo(
            f"default Recall@100 {result.default_recall:.4f}   best {result.recall:.4f}   "
            f"(objective {1 - result.recall_weight:g} nDCG@10 + {result.recall_weight:g} Recall@100: "
            f"{result.default_score:.4f} -> {result.score:.4f})"
        )
    click.echo(
        format_table({"default": result.default.weights, "best": result.best.weights}, label="weights")
    )
    click.echo(f"best fusion: {result.best.family}")
    column = "objective" if result.recall_weight else "ndcg@10"
    click.echo(format_table({name: {column: v} for name, v in result.families.items()}, label="family"))
    click.echo("saved into the index config" if write else "not saved (use --write)")


commands: list[click.Command] = [tune_command]
