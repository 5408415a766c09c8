"""``blendsearch expand``: show what query expansion does to a query, stage by stage, and why."""

from __future__ import annotations

import json
from pathlib import Path

import click

from blendsearch.cli.options import echo_json, index_option, json_option, library_errors
from blendsearch.expansion import Expansion

__all__ = ["commands", "format_expansion"]


def format_expansion(expansion: Expansion) -> str:
    """Plain-text view: each stage's output and its notes, then the clauses searched."""
    lines = [f"query: {expansion.original}"]
    width = max((len(s.name) for s in expansion.stages), default=0)
    for stage in expansion.stages:
        lines.append(f"  {stage.name:<{width}}  {stage.output or '-'}")
        lines += [f"  {'':<{width}}    {note}" for note in stage.notes]
    lines.append("searched clauses (text, weight):")
    lines += [f"  {c.text!r}  {c.weight:g}" for c in expansion.clauses]
    lines.append(f"vector text: {expansion.vector_text!r}")
    lines += [f"notice: {n}" for n in expansion.notices]
    return "\n".join(lines)


@click.command()
@click.argument("query")
@index_option
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Override an expansion setting for this query (e.g. --set wordnet=false --set typo_threshold=90).",
)
@json_option
def expand(query: str, index_dir: Path, settings: tuple[str, ...], as_json: bool) -> None:
    """Show how QUERY is normalised, typo-corrected and expanded against an index's vocabulary."""
    from blendsearch.engine import INDEX_FILE, Engine
    from blendsearch.expansion import Expander

    if not (index_dir / INDEX_FILE).is_file():
        raise click.ClickException(f"no blendsearch index in {index_dir}")
    overrides: dict[str, object] = {}
    for item in settings:
        field, sep, value = item.partition("=")
        if not sep:
            raise click.ClickException(f"--set wants FIELD=VALUE, got {item!r}")
        try:
            overrides[field.strip()] = json.loads(value)
        except json.JSONDecodeError:
            overrides[field.strip()] = value
    with library_errors(), Engine.open(index_dir) as engine:
        expander = Expander(engine.config.expansion, engine.vocabulary())
        result = expander.expand(query, overrides or None)
    if as_json:
        echo_json(result)
    else:
        click.echo(format_expansion(result))


commands = [expand]
