"""``python -m blendsearch`` runs the CLI."""

from blendsearch.cli import run

run()
