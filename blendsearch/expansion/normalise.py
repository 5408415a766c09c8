"""Normalisation: fold case and accents, drop punctuation, and map words to the spelling the index uses.

The index's vocabulary is folded, unstemmed words. A query word absent from it but present as its plural
or singular ("shirt" where the catalogue says "shirts") is mapped to that form, so later stages (typo
correction above all) treat it as known instead of "correcting" it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from blendsearch.text import fold, stem, words

__all__ = ["STOPWORDS", "Token", "normalise", "phrase_form", "stems", "variants", "vocabulary_form"]

#: Function words never typo-corrected nor expanded (they are still searched: BM25 gives them little weight).
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is it of on or the to with without under over".split()
)

_VOWELS = frozenset("aeiou")
#: Runs of letters/digits. Hyphenated pairs are found by comparing neighbouring runs (linear), not with a
#: ``(\w+)-(\w+)`` pattern, which re-scans a long word from every start position (quadratic backtracking).
_RUN = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"(?<=[^\W_])['\u2019]s\b")


@dataclass
class Token:
    """One query word: ``surface`` is the user's folded word (what the vector channel reads), ``term`` the
    form searched in the index (its vocabulary spelling where one exists). A compound normalisation adds
    ("hand bag" -> also "handbags") has no surface: the vector channel reads what the user wrote."""

    surface: str
    term: str


def variants(word: str) -> list[str]:
    """The word and its simple singular/plural spellings (shirt/shirts, dress/dresses, bootie/booties)."""
    out = [word]
    if len(word) < 3 or not word.isalpha():
        return out
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es"):
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        out.append(word[:-1])
    if word.endswith(("ss", "x", "z", "ch", "sh")):
        out.append(word + "es")
    elif word.endswith("y") and word[-2] not in _VOWELS:
        out.append(word[:-1] + "ies")
    elif not word.endswith("s"):
        out.append(word + "s")
    return list(dict.fromkeys(out))


def vocabulary_form(word: str, vocabulary: Mapping[str, int]) -> str | None:
    """The word itself if the index knows it, else its most frequent known singular/plural, else None."""
    if word in vocabulary:
        return word
    known = [v for v in variants(word)[1:] if v in vocabulary]
    return max(known, key=lambda v: (vocabulary[v], v)) if known else None


def phrase_form(phrase: str, vocabulary: Mapping[str, int]) -> str | None:
    """A phrase with every word in its vocabulary spelling, or None when a word is unknown.

    With an empty vocabulary (nothing to check against) the folded phrase is returned as it is.
    """
    folded = words(phrase)
    if not folded:
        return None
    if not vocabulary:
        return " ".join(folded)
    forms = [vocabulary_form(w, vocabulary) for w in folded]
    return None if any(f is None for f in forms) else " ".join(f for f in forms if f)


def normalise(text: str, vocabulary: Mapping[str, int]) -> tuple[list[Token], list[str]]:
    """Tokens of a query text and a note per change: folded, split on punctuation, vocabulary spellings.

    A possessive ``'s`` is dropped ("men's" -> "men"). A hyphenated compound whose joined form the index
    knows is joined ("t-shirt" -> "tshirts"); two words whose joined form the index knows also search it
    ("hand bag" -> also "handbags").
    """
    notes: list[str] = []
    folded = fold(text)

    folded = _join_hyphenated(_POSSESSIVE.sub("", folded), vocabulary, notes)
    tokens: list[Token] = []
    for word in words(folded):
        form = vocabulary_form(word, vocabulary) if vocabulary else None
        if form is not None and form != word:
            notes.append(f"{word} -> {form} (the form in the index vocabulary)")
        tokens.append(Token(surface=word, term=form or word))
    for token in list(tokens):
        other = _split_number(token.term, vocabulary)
        if other is not None:
            notes.append(f"{token.term} -> also {other} (the stemmer files them under different stems)")
            tokens.append(Token(surface="", term=other))
    for first, second in zip(list(tokens), tokens[1:], strict=False):
        pair = (first.surface, second.surface)
        if not all(w.isalpha() and w not in STOPWORDS for w in pair) or len(pair[0] + pair[1]) < 5:
            continue
        joined = vocabulary_form(pair[0] + pair[1], vocabulary)
        if joined is not None:
            notes.append(f"{' '.join(pair)} -> also {joined} (the index has it as one word)")
            tokens.append(Token(surface="", term=joined))
    return tokens, notes


def _split_number(word: str, vocabulary: Mapping[str, int]) -> str | None:
    """The word's singular or plural the index also holds, where the Porter stemmer (the one FTS5 and
    Lucene's ``porter_stem`` use) files it under another stem: "tie" -> "tie" but "ties" -> "ti", so a
    query for "tie" finds no product the catalogue calls "Ties". None for the usual case, one stem."""
    if not vocabulary or not word.isalpha():
        return None
    key = stem(word)
    others = [v for v in variants(word)[1:] if v in vocabulary and stem(v) != key]
    return max(others, key=lambda v: (vocabulary[v], v)) if others else None


def _join_hyphenated(text: str, vocabulary: Mapping[str, int], notes: list[str]) -> str:
    """Join ``left-right`` where the index knows the joined word; pairs do not overlap ("a-b-c": a-b only).

    One pass over the runs of word characters, so its cost is linear in the text whatever it holds.
    """
    runs = list(_RUN.finditer(text))
    parts: list[str] = []
    done = 0
    i = 0
    while i < len(runs) - 1:
        left, right = runs[i], runs[i + 1]
        if right.start() != left.end() + 1 or text[left.end()] != "-":
            i += 1
            continue
        joined = left.group() + right.group()
        form = vocabulary_form(joined, vocabulary)
        if form is not None:
            pair = f"{left.group()}-{right.group()}"
            notes.append(f"{pair} -> {joined} (joined: the index has {form!r} as one word)")
            parts += [text[done : left.start()], joined]
            done = right.end()
        i += 2
    parts.append(text[done:])
    return "".join(parts)


def stems(phrase_words: list[str]) -> tuple[str, ...]:
    """Matching key of a phrase: its Porter stems (so plural and singular match the same entry)."""
    return tuple(stem(w) for w in phrase_words)
