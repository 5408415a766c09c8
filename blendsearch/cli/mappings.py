"""``mappings show`` and ``mappings apply``: the cluster index bodies blendsearch uses, printed or created."""

from __future__ import annotations

import json
from typing import Any

import click

from blendsearch.cli.options import json_option, library_errors

__all__ = ["commands"]


@click.group()
def mappings() -> None:
    """OpenSearch / Elasticsearch index mappings."""


@mappings.command("show")
@click.option(
    "--backend", "product", type=click.Choice(["opensearch", "elasticsearch"]), required=True, help="Dialect."
)
@click.option("--dim", type=click.IntRange(min=1), help="Vector dimension (omit for a lexical-only mapping).")
@click.option("--engine", type=click.Choice(["faiss", "lucene"]), default="faiss", show_default=True)
@click.option(
    "--similarity", type=click.Choice(["dot_product", "cosine"]), default="dot_product", show_default=True
)
@click.option("--no-synonyms", is_flag=True, help="Leave out the search-time synonym filter.")
@click.option("--template", "pattern", help="Print an index template for this index pattern instead.")
@json_option
def show(
    product: str,
    dim: int | None,
    engine: str,
    similarity: str,
    no_synonyms: bool,
    pattern: str | None,
    as_json: bool,
) -> None:
    """Print the index body (settings + mappings) blendsearch creates."""
    from blendsearch.mappings import (
        MappingSettings,
        build_elasticsearch_mapping,
        build_index_template,
        build_opensearch_mapping,
    )

    with library_errors():
        settings = MappingSettings(dim=dim, engine=engine, similarity=similarity, synonyms=not no_synonyms)
        build = build_opensearch_mapping if product == "opensearch" else build_elasticsearch_mapping
        body: dict[str, Any] = build(settings)
        if pattern:
            body = build_index_template(body, [pattern])
    click.echo(json.dumps(body) if as_json else json.dumps(body, indent=2, ensure_ascii=False))


@mappings.command("apply")
@click.option("--backend-url", required=True, help="opensearch+http(s)://... or elasticsearch+http(s)://...")
@click.option("--index", "index_name", required=True, help="Concrete index to create.")
@click.option("--alias", help="Point this alias at the new index (atomically moved from any other index).")
@click.option("--dim", type=click.IntRange(min=1), help="Vector dimension (else the URL's dim option).")
@json_option
def apply(backend_url: str, index_name: str, alias: str | None, dim: int | None, as_json: bool) -> None:
    """Create an index with the blendsearch mapping (and optionally move an alias to it)."""
    from blendsearch.backends.cluster.backend import RemoteBackend
    from blendsearch.backends.cluster.migrate import create_index
    from blendsearch.backends.cluster.url import backend_from_url

    with library_errors():
        backend = backend_from_url(backend_url, index_name=index_name)
        if not isinstance(backend, RemoteBackend):  # pragma: no cover - backend_from_url makes only these
            raise click.ClickException(f"{backend_url} is not a cluster backend URL")
        with backend:
            settings = backend.mapping if dim is None else backend.mapping.model_copy(update={"dim": dim})
            moved = create_index(backend.client, index_name, backend.index_body(settings), alias)
    result = {"index": index_name, "alias": alias, "alias_moved_from": moved, "dim": settings.dim}
    if as_json:
        click.echo(json.dumps(result))
    elif alias:
        left = f" (moved from {', '.join(moved)})" if moved else ""
        click.echo(f"created {index_name}, alias {alias}{left}")
    else:
        click.echo(f"created {index_name}")


commands: list[click.Command] = [mappings]
