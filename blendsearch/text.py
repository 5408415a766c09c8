"""Text analysis shared by every place that turns text into index terms.

Lower case, diacritics folded, split on anything that is not a letter or digit, Porter-stemmed: the
same as SQLite FTS5's ``porter unicode61 remove_diacritics 2`` tokenizer and OpenSearch's
``lowercase + asciifolding + porter_stem`` chain, so the in-memory, embedded and cluster backends
agree on what matches.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from blendsearch.porter import porter_stem

__all__ = ["analyze", "fold", "stem", "words"]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case and strip diacritics (``Crème`` -> ``creme``); ASCII text (most queries) only needs
    lower-casing, without the per-character pass."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Folded words, unstemmed (what users see and typo correction compares)."""
    return _WORD.findall(fold(text))


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Porter stem of one folded word (the original algorithm, as FTS5 and Lucene's porter_stem use)."""
    return porter_stem(word)


def analyze(text: str) -> list[str]:
    """Index terms of a text: folded, split, stemmed."""
    return [stem(w) for w in words(text)]
