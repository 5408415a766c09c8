"""Colour shade names -> the colour names a catalogue uses ("aubergine" -> purple, "navy" -> navy blue).

The table is ``data/colour_shades.tsv`` (shade, family, catalogue names to try first). Words the table
lacks are looked up in :func:`blendsearch.enrichment.colours.colour_family` where that module exists, so
the palette that names image colours at ingest also widens queries.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from blendsearch.expansion.normalise import stems
from blendsearch.expansion.phrases import PhraseTable
from blendsearch.text import words

__all__ = ["enrichment_family", "load_shades", "shades_path"]


#: Longer words are no colour name (the longest palette names are about 20 letters).
_LONGEST_COLOUR_NAME = 40


def shades_path() -> Path:
    return Path(str(resources.files("blendsearch.expansion") / "data" / "colour_shades.tsv"))


@functools.lru_cache(maxsize=1)
def load_shades() -> PhraseTable[tuple[str, ...]]:
    """Shade phrase (by stems) -> candidate colour names, catalogue names first, then the family."""
    table: PhraseTable[tuple[str, ...]] = PhraseTable()
    for line in shades_path().read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        shade, family, *rest = (line.split("\t") + ["", ""])[:3]
        if shade == "shade":  # the header
            continue
        family = " ".join(words(family))
        targets = [" ".join(words(t)) for t in rest[0].split(",") if words(t)]
        names = tuple(dict.fromkeys([*(t for t in targets if t != family), family]))
        table.add(stems(words(shade)), names)
    return table


@functools.lru_cache(maxsize=4096)
def enrichment_family(word: str) -> str | None:
    """The colour family (folded) the enrichment palette gives a colour name, or None for other words.

    The palette maps names it does not know to themselves; that counts as no family. None also when
    :mod:`blendsearch.enrichment.colours` is absent. Cached: a query may repeat words, and the palette's
    lookup is not free. Words longer than any colour name are not looked up.
    """
    if len(word) > _LONGEST_COLOUR_NAME:
        return None
    try:
        from blendsearch.enrichment.colours import colour_family
    except ImportError:
        return None
    family = colour_family(word)
    folded = " ".join(words(family)) if isinstance(family, str) else ""
    return folded if folded and folded != " ".join(words(word)) else None
