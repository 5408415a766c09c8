"""Typo correction against the index's own vocabulary, only for words the index does not know.

Candidates are vocabulary words within an edit budget (optimal string alignment distance, so a swap of
two letters is one edit), the budget growing with the word's length as Elasticsearch's ``fuzziness: AUTO``
does: words under 3 letters are never corrected, 3 letters only by one added or dropped letter,
4-5 letters by 1 edit, longer ones by 2. Among them the best Jaro-Winkler similarity (0-100, weighting
the first letters, which people rarely mistype) wins if it reaches the threshold; candidates within
:data:`TIE_MARGIN` of the best count as tied and the most frequent word in the index wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["MAX_WORD_LENGTH", "TIE_MARGIN", "Correction", "correct", "edit_budget"]

#: Similarity points within which two candidates count as tied (the more frequent word wins).
TIE_MARGIN = 1.0
#: Short (3-letter) words need at least this similarity besides being one added/dropped letter away.
SHORT_WORD_SCORE = 90.0
#: Words longer than this are never corrected: no product word is that long, and fuzzy matching costs
#: grow with the word's length times the vocabulary's size.
MAX_WORD_LENGTH = 48
_CANDIDATES = 25


@dataclass(frozen=True)
class Correction:
    """``word`` -> ``correction`` with its similarity score (0-100) and index document frequency."""

    word: str
    correction: str
    score: float
    frequency: int


def edit_budget(word: str) -> int:
    """Edits allowed when correcting a word of this length (Elasticsearch's AUTO fuzziness)."""
    if len(word) < 3:
        return 0
    if len(word) <= 5:
        return 1
    return 2


def correct(
    word: str, vocabulary: Mapping[str, int], choices: Sequence[str], threshold: float
) -> Correction | None:
    """The most likely vocabulary word meant by an unknown ``word``, or None when none is close enough.

    ``choices`` is the vocabulary's words as a sequence (built once per vocabulary by the caller).
    """
    from rapidfuzz import process
    from rapidfuzz.distance import OSA, Indel, JaroWinkler

    budget = edit_budget(word)
    if budget == 0 or len(word) > MAX_WORD_LENGTH or not choices or any(ch.isdigit() for ch in word):
        return None
    short = len(word) < 4
    cutoff = max(threshold, SHORT_WORD_SCORE) if short else threshold
    found = process.extract(
        word,
        choices,
        scorer=JaroWinkler.normalized_similarity,
        score_cutoff=cutoff / 100.0,
        limit=_CANDIDATES,
    )
    candidates: list[tuple[float, str]] = []
    for candidate, similarity, _ in found:
        if short:
            if Indel.distance(word, candidate) != 1:
                continue
        elif OSA.distance(word, candidate) > budget:
            continue
        candidates.append((100.0 * similarity, candidate))
    if not candidates:
        return None
    best = max(score for score, _ in candidates)
    tied = [(score, c) for score, c in candidates if score >= best - TIE_MARGIN]
    score, choice = max(tied, key=lambda sc: (vocabulary.get(sc[1], 0), sc[0], sc[1]))
    frequency = vocabulary.get(choice, 0)
    return Correction(word=word, correction=choice, score=round(score, 1), frequency=frequency)
