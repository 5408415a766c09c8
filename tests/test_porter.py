"""blendsearch's own Porter stemmer gives nltk's original-algorithm stems (the index terms depend on it)."""

from __future__ import annotations

import pytest

from blendsearch.expansion.wordnet_subset import read_subset
from blendsearch.porter import porter_stem

#: The examples of Porter's 1980 paper, step by step (nltk's docstrings list the same).
PAPER = {
    "caresses": "caress",
    "ponies": "poni",
    "cats": "cat",
    "feed": "feed",
    "agreed": "agre",
    "plastered": "plaster",
    "motoring": "motor",
    "sing": "sing",
    "hopping": "hop",
    "falling": "fall",
    "filing": "file",
    "happy": "happi",
    "sky": "sky",
    "relational": "relat",
    "generalization": "gener",
    "triplicate": "triplic",
    "revival": "reviv",
    "adoption": "adopt",
    "controll": "control",
    "roll": "roll",
    "dresses": "dress",
    "running": "run",
}


def test_paper_examples() -> None:
    assert {word: porter_stem(word) for word in PAPER} == PAPER


def test_same_stems_as_nltk_original_algorithm() -> None:
    porter = pytest.importorskip("nltk.stem.porter")
    nltk_stemmer = porter.PorterStemmer(mode=porter.PorterStemmer.ORIGINAL_ALGORITHM)
    subset = read_subset()
    lemmas = sorted({w.lower() for names in subset.lemmas.values() for w in names if "_" not in w})
    words = lemmas[::5] + [w + end for w in lemmas[::97] for end in ("s", "ed", "ing", "ly", "ness", "ies")]
    words += ["", "y", "yy", "yyyy", "syzygy", "toy", "crème", "naïve", "1234", "a1b2ing", "x" * 50]
    assert len(words) > 20_000
    differ = [w for w in words if porter_stem(w) != nltk_stemmer.stem(w, to_lowercase=False)]
    assert differ == []
