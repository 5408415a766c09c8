"""The ``blendsearch`` command: a thin click layer over the library; each command group in its own module."""

from __future__ import annotations

import importlib

import click

__all__ = ["main"]

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
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="blendsearch")
def main() -> None:
    """Hybrid multimodal search for product catalogues."""


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(f"blendsearch.cli.{_name}").commands:
        main.add_command(_command)
