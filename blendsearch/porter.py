"""The original Porter stemmer (M.F. Porter, "An algorithm for suffix stripping", Program 14(3), 1980).

Index terms must stem exactly as SQLite FTS5's ``porter`` tokenizer and Lucene's ``porter_stem`` do, which
is the 1980 algorithm without later extensions: nltk's ``PorterStemmer(mode=ORIGINAL_ALGORITHM)``. This
module is that algorithm in one small file, because importing any part of nltk loads the whole of nltk
(about half a second, on every CLI search). ``tests/test_porter.py`` checks it gives nltk's stems.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["porter_stem"]

_VOWELS = frozenset("aeiou")
_Rule = tuple[str, str, Callable[[str], bool] | None]


def _consonant_flags(word: str) -> list[bool]:
    """Per letter, whether it is a consonant: not a vowel, and a ``y`` only after a vowel or at the start."""
    flags: list[bool] = []
    for i, ch in enumerate(word):
        flags.append(ch not in _VOWELS and (ch != "y" or i == 0 or not flags[i - 1]))
    return flags


def _measure(stem: str) -> int:
    """m in ``[C](VC){m}[V]``: how many vowel-consonant transitions the stem has."""
    flags = _consonant_flags(stem)
    return sum(1 for a, b in zip(flags, flags[1:], strict=False) if not a and b)


def _positive(stem: str) -> bool:
    return _measure(stem) > 0


def _above_one(stem: str) -> bool:
    return _measure(stem) > 1


def _has_vowel(stem: str) -> bool:
    return not all(_consonant_flags(stem))


def _ends_double_consonant(word: str) -> bool:
    return len(word) >= 2 and word[-1] == word[-2] and _consonant_flags(word)[-1]


def _ends_cvc(word: str) -> bool:
    """*o: the stem ends consonant-vowel-consonant, the last not w, x or y."""
    if len(word) < 3 or word[-1] in "wxy":
        return False
    flags = _consonant_flags(word)
    return flags[-3] and not flags[-2] and flags[-1]


def _apply(word: str, rules: list[_Rule]) -> str:
    """The first rule whose suffix the word has decides: replaced if its condition holds, else unchanged."""
    for suffix, replacement, condition in rules:
        if suffix == "*d" and _ends_double_consonant(word):
            stem = word[:-2]
            return stem + replacement if condition is None or condition(stem) else word
        if word.endswith(suffix):
            stem = word[: len(word) - len(suffix)]
            return stem + replacement if condition is None or condition(stem) else word
    return word


def _step1b(word: str) -> str:
    if word.endswith("eed"):
        stem = word[:-3]
        return stem + "ee" if _measure(stem) > 0 else word
    for suffix in ("ed", "ing"):
        if word.endswith(suffix) and _has_vowel(word[: -len(suffix)]):
            stem = word[: -len(suffix)]
            break
    else:
        return word
    return _apply(
        stem,
        [
            ("at", "ate", None),
            ("bl", "ble", None),
            ("iz", "ize", None),
            ("*d", stem[-1], lambda _: stem[-1] not in "lsz"),
            ("", "e", lambda s: _measure(s) == 1 and _ends_cvc(s)),
        ],
    )


_STEP1A: list[_Rule] = [("sses", "ss", None), ("ies", "i", None), ("ss", "ss", None), ("s", "", None)]
_STEP1C: list[_Rule] = [("y", "i", _has_vowel)]
_STEP2: list[_Rule] = [
    (suffix, replacement, _positive)
    for suffix, replacement in (
        ("ational", "ate"),
        ("tional", "tion"),
        ("enci", "ence"),
        ("anci", "ance"),
        ("izer", "ize"),
        ("abli", "able"),
        ("alli", "al"),
        ("entli", "ent"),
        ("eli", "e"),
        ("ousli", "ous"),
        ("ization", "ize"),
        ("ation", "ate"),
        ("ator", "ate"),
        ("alism", "al"),
        ("iveness", "ive"),
        ("fulness", "ful"),
        ("ousness", "ous"),
        ("aliti", "al"),
        ("iviti", "ive"),
        ("biliti", "ble"),
    )
]
_STEP3: list[_Rule] = [
    (suffix, replacement, _positive)
    for suffix, replacement in (
        ("icate", "ic"),
        ("ative", ""),
        ("alize", "al"),
        ("iciti", "ic"),
        ("ical", "ic"),
        ("ful", ""),
        ("ness", ""),
    )
]
_STEP4: list[_Rule] = [
    (suffix, "", (lambda s: _measure(s) > 1 and s[-1] in "st") if suffix == "ion" else _above_one)
    for suffix in ("al ance ence er ic able ible ant ement ment ent ion ou ism ate iti ous ive ize".split())
]


def _step5a(word: str) -> str:
    if word.endswith("e"):
        stem = word[:-1]
        measure = _measure(stem)
        if measure > 1 or (measure == 1 and not _ends_cvc(stem)):
            return stem
    return word


def _step5b(word: str) -> str:
    return _apply(word, [("ll", "l", lambda _: _measure(word[:-1]) > 1)])


def porter_stem(word: str) -> str:
    """The Porter stem of one lower-case word (``"dresses"`` -> ``"dress"``, ``"running"`` -> ``"run"``)."""
    word = _apply(word, _STEP1A)
    word = _step1b(word)
    word = _apply(word, _STEP1C)
    word = _apply(word, _STEP2)
    word = _apply(word, _STEP3)
    word = _apply(word, _STEP4)
    return _step5b(_step5a(word))
