"""A short generated description for items that arrive with an image and no text.

It only restates what enrichment found (colours, then tags), so it invents nothing; ingest stores it
in :class:`~blendsearch.documents.Enrichment` (``generated=True``), never in the user's own fields,
and indexes it in the ``generated`` field so BM25 can find image-only items by those words.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["describe"]


def _join(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _distinct(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        text = " ".join(str(value).split()).lower()
        if text and text not in out:
            out.append(text)
    return out


def describe(colours: Sequence[str], tags: Sequence[str]) -> str:
    """``"navy blue shirts"``, ``"black and white casual shoes, sports"``: colours, then the best tag
    as the noun, then any further tags; lower case, deterministic, empty when there is nothing to say.

    The result is generated text (see :attr:`blendsearch.documents.Enrichment.generated`).
    """
    colour_words = _distinct(colours)
    tag_words = [t for t in _distinct(tags) if t not in colour_words]
    head = " ".join(part for part in (_join(colour_words), tag_words[0] if tag_words else "") if part)
    return ", ".join([head, *tag_words[1:]]) if head else ""
