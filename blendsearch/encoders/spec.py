"""What an encoder spec names, told from the text alone: below the registry and the encoders, so both
can ask before anything reaches for torch or the network."""

from __future__ import annotations

from pathlib import Path

__all__ = ["names_a_folder"]

#: First path segments the Hugging Face hub reserves (its own pages), so never an organisation's name:
#: ``models/fashion`` is a folder, not a hub id.
_RESERVED_HUB_NAMES = frozenset({"models", "datasets", "spaces", "docs", "settings", "organizations"})


def names_a_folder(spec: str) -> bool:
    """Whether a spec can only mean a local folder (checked before anything reaches for the network).

    Hub ids are ``name`` or ``org/name``. Anything absolute, relative (``./``, ``../``, ``~``), with a
    backslash or more than one slash, whose first segment the hub reserves, or whose first segment is a
    folder here (``checkpoints/fashion`` beside a ``checkpoints`` folder) names a folder.
    """
    if spec.startswith(("/", ".", "~")) or "\\" in spec or spec.count("/") > 1:
        return True
    first, sep, _ = spec.partition("/")
    return bool(sep) and (first in _RESERVED_HUB_NAMES or Path(first).is_dir())
