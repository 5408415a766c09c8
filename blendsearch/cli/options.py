"""Options and helpers shared by the command modules (one place for --index, --config, error mapping)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import BaseModel

from blendsearch.config import EngineConfig, load_config
from blendsearch.engine import Engine
from blendsearch.exceptions import BlendsearchError

__all__ = [
    "backend_option",
    "config_option",
    "expand_option",
    "echo_json",
    "engine_config",
    "index_option",
    "json_option",
    "judged_catalog_option",
    "library_errors",
    "queries_file_option",
]

F = TypeVar("F", bound=Callable[..., Any])

index_option = click.option(
    "--index",
    "index_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Index directory.",
)
backend_option = click.option(
    "--backend",
    "backend_url",
    help="opensearch+http(s)://... or elasticsearch+http(s)://... URL (ingest saves it with the index).",
)
config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="EngineConfig JSON (replaces the index's stored config).",
)
expand_option = click.option(
    "--expand/--no-expand", default=None, help="Query expansion on/off (default: the index's config)."
)


def queries_file_option(help: str, required: bool = False) -> Callable[[F], F]:  # noqa: A002 - click's name
    """``--queries FILE`` (a JSONL query set) as ``queries_file``, with the command's own help."""
    return click.option(
        "--queries",
        "queries_file",
        required=required,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=help,
    )


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
judged_catalog_option = click.option(
    "--catalog",
    "catalog_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Catalogue file whose TRUE fields judge the results.",
)


@contextlib.contextmanager
def library_errors() -> Iterator[None]:
    """Turn blendsearch's errors into clean CLI errors (no traceback)."""
    try:
        yield
    except BlendsearchError as exc:
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:  # pydantic validation of CLI-built models
        raise click.ClickException(str(exc)) from exc


def engine_config(index_dir: Path, config_file: Path | None) -> EngineConfig | None:
    """The config to open an index with: the file given, else None (the index's stored config)."""
    if config_file is not None:
        return load_config(config_file)
    return None


def stored_or_default_config(index_dir: Path, config_file: Path | None) -> EngineConfig:
    """The file's config, else the index's stored config, else defaults (for commands that modify it).

    The stored config is read by the engine's own reader, so a damaged or newer index file is refused here
    exactly as on open.
    """
    if config_file is not None:
        return load_config(config_file)
    return Engine.stored_config(index_dir) or EngineConfig()


def echo_json(value: BaseModel | dict[str, Any] | list[Any]) -> None:
    """Print one JSON document."""
    if isinstance(value, BaseModel):
        click.echo(value.model_dump_json(exclude_none=False))
    else:
        click.echo(json.dumps(value, default=str))
