"""What the benchmark scripts share: the evaluation query sets they read, and opening an index that
``bench quality`` cached with today's search settings.

The scripts run as ``python benchmarks/NAME.py``, so this folder is on ``sys.path`` and ``import common``
finds this module.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from blendsearch.config import SearchSettings
from blendsearch.engine import Engine
from blendsearch.eval.judgements import JudgedQuery, load_queries
from blendsearch.index_dir import read_info

__all__ = ["add_query_set_options", "load_query_sets", "open_cached_index", "query_set_paths"]

HERE = Path(__file__).resolve().parent
UNLIKE_QUERIES = HERE / "queries" / "unlike-test.jsonl"


def add_query_set_options(parser: argparse.ArgumentParser, *, more_sets: bool = True) -> None:
    """``--dev``, ``--unlike`` and (``more_sets``) the repeatable ``--set NAME=PATH``."""
    parser.add_argument("--dev", type=Path, help="default: queries-dev.jsonl beside the catalogue")
    parser.add_argument("--unlike", type=Path, default=UNLIKE_QUERIES)
    if more_sets:
        parser.add_argument(
            "--set", action="append", default=[], metavar="NAME=PATH", help="another query set to evaluate on"
        )


def query_set_paths(args: argparse.Namespace) -> dict[str, Path]:
    """Set name -> file: ``dev`` (default: beside ``args.catalog``), ``unlike``, then each ``--set``."""
    paths = {"dev": args.dev or args.catalog.parent / "queries-dev.jsonl", "unlike": args.unlike}
    for spec in getattr(args, "set", []):
        name, _, path = spec.partition("=")
        paths[name] = Path(path)
    return paths


def load_query_sets(args: argparse.Namespace) -> dict[str, list[JudgedQuery]]:
    """The judged queries of :func:`query_set_paths`, by set name."""
    return {name: load_queries(path) for name, path in query_set_paths(args).items()}


def open_cached_index(index: Path, search: SearchSettings | None = None) -> Engine:
    """A cached bench index searched with ``search`` (default: today's built-in settings, field boosts
    too), not the settings it was saved with."""
    info = read_info(index)
    if info is None:
        raise SystemExit(f"{index} is not an index: run `blendsearch bench quality` first")
    return Engine.open(index, info.config.model_copy(update={"search": search or SearchSettings()}))
