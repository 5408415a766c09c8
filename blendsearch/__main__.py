"""``python -m blendsearch`` runs the CLI."""

from blendsearch.cli import main

main()
