"""Where blendsearch keeps its caches (trained models, decoded images, WordNet copy, benchmark indexes)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["blendsearch_home"]


def blendsearch_home() -> Path:
    """The cache root: ``$BLENDSEARCH_HOME``, default ``~/.cache/blendsearch``."""
    return Path(os.environ.get("BLENDSEARCH_HOME") or Path.home() / ".cache" / "blendsearch")
