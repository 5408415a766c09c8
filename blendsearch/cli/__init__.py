"""The ``blendsearch`` command: a thin click layer over the library; each command group in its own module.

Command modules load on first use: ``blendsearch search`` imports :mod:`blendsearch.cli.core` and what it
needs, not the trainer, the benchmarks or the web server (each CLI call is a new process, and imports are
most of its start-up). ``--help`` loads them all, to list every command with its summary.
"""

from __future__ import annotations

import importlib
import os

import click

from blendsearch.cli.notices import install_notice_printer

__all__ = ["COMMANDS", "COMMAND_MODULES", "main", "run"]

#: Modules under blendsearch.cli that each define ``commands: list[click.Command]``.
COMMAND_MODULES = (
    # -- command modules (one line each) --
    "train",
    "evaluate",
    "tune",
    "bench",
    "core",
    "expand",
    "calibrate",
    "debug",
    "mappings",
    "serve",
)

#: Where each command lives, so running one imports only its module. A command missing here still works
#: (the group then loads every module to find it); ``tests/test_startup.py`` checks this map is complete.
COMMANDS = {
    "bench": "bench",
    "calibrate": "calibrate",
    "debug-scores": "debug",
    "delete": "core",
    "eval": "evaluate",
    "expand": "expand",
    "ingest": "core",
    "mappings": "mappings",
    "search": "core",
    "serve": "serve",
    "stats": "core",
    "train": "train",
    "tune": "tune",
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is asked for."""

    def _load(self, module: str) -> None:
        for command in importlib.import_module(f"blendsearch.cli.{module}").commands:
            if command.name not in self.commands:
                self.add_command(command)

    def _load_all(self) -> None:
        for module in COMMAND_MODULES:
            self._load(module)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_all()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self._load(COMMANDS[cmd_name])
        if cmd_name not in self.commands:
            self._load_all()
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="blendsearch")
def main() -> None:
    """Hybrid multimodal search for product catalogues."""
    install_notice_printer()


def run() -> None:
    """The console entry point: :func:`main` in a process whose OpenBLAS uses one thread unless the user
    says otherwise (``OPENBLAS_NUM_THREADS``).

    blendsearch's numpy work is many small products (a query vector against the index, k-means on a
    48 px photo, a batch of tag logits); OpenBLAS's thread pool costs more than it gains on them, and on
    a busy machine its spinning threads steal the encoder's cores. Measured on the fashion test split
    (2 cores, loaded): warm query p50 40.1 -> 11.7 ms, ingest with enrichment 293 -> 431 items/s. It has
    to be set before numpy loads, so it lives here and not in the library (application code decides
    for its own process).
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    main()
