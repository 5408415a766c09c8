"""Bounds on what one query may ask for, so one request cannot tie up a search process.

Checked before any work (expansion, encoding, retrieval); a query over a bound is a
:class:`~blendsearch.exceptions.QueryError` naming the setting, never a silent truncation that would
search something other than what was asked.
"""

from __future__ import annotations

from blendsearch.config import SearchSettings
from blendsearch.exceptions import QueryError
from blendsearch.text import words

__all__ = ["check_query_size"]


def check_query_size(text: str | None, settings: SearchSettings) -> None:
    """Raise QueryError when ``text`` is longer than ``max_query_chars`` or has more than ``max_query_words``.

    The character bound is checked first, so the word count only ever reads a bounded text.
    """
    if not text:
        return
    limit = settings.max_query_chars
    if limit is not None and len(text) > limit:
        raise QueryError(
            f"query text is {len(text):,} characters long; the limit is {limit:,} (search.max_query_chars)"
        )
    limit = settings.max_query_words
    if limit is not None:
        count = len(words(text))
        if count > limit:
            raise QueryError(
                f"query text has {count:,} words; the limit is {limit:,} (search.max_query_words)"
            )
