"""Greedy longest-match lookup of (multi-word) phrases in a token sequence, as Solr's synonym filter does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["PhraseMatch", "PhraseTable"]

T = TypeVar("T")


@dataclass(frozen=True)
class PhraseMatch(Generic[T]):
    """Tokens ``start:end`` matched a phrase whose payloads are ``values``."""

    start: int
    end: int
    values: tuple[T, ...]


@dataclass
class PhraseTable(Generic[T]):
    """Phrases keyed by their stem tuples; several payloads may share one phrase."""

    _entries: dict[tuple[str, ...], list[T]] = field(default_factory=dict)
    _longest: int = 0
    #: Every stem of every phrase, so :meth:`keys_containing` is one set lookup per query word.
    _members: set[str] = field(default_factory=set)

    def add(self, key: tuple[str, ...], value: T) -> None:
        if not key:
            return
        values = self._entries.setdefault(key, [])
        if value not in values:
            values.append(value)
        self._longest = max(self._longest, len(key))
        self._members.update(key)

    def __len__(self) -> int:
        return len(self._entries)

    def keys_containing(self, key: str) -> bool:
        """Whether any phrase has this key (stem) as one of its words."""
        return key in self._members

    def get(self, key: tuple[str, ...]) -> tuple[T, ...]:
        return tuple(self._entries.get(key, ()))

    def find(self, keys: Sequence[str]) -> list[PhraseMatch[T]]:
        """Left to right, the longest phrase starting at each position; matches do not overlap."""
        out: list[PhraseMatch[T]] = []
        i = 0
        while i < len(keys):
            for length in range(min(self._longest, len(keys) - i), 0, -1):
                values = self._entries.get(tuple(keys[i : i + length]))
                if values:
                    out.append(PhraseMatch(i, i + length, tuple(values)))
                    i += length
                    break
            else:
                i += 1
        return out
