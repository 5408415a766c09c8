"""Build blendsearch/expansion/data/wordnet-3.0-subset.tsv.gz from a WordNet 3.0 database.

    .venv/bin/python scripts/build_wordnet_subset.py [--source /usr/share/wordnet] [--out PATH]

The source is a WordNet database folder (Debian's ``wordnet-base``: ``index.noun``, ``data.noun``,
``noun.exc``, ...). Lemma lists and exception lists are read from its files the way nltk reads them; product
senses (artifact nouns with a :data:`~blendsearch.expansion.wordnet.PRODUCT_ROOTS` category among their
ancestors) are read through nltk, with the same code the nltk fallback path of the expander uses. The output
is deterministic: rebuilding from the same database gives the same bytes. Rebuild after changing
``PRODUCT_ROOTS``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from tempfile import TemporaryDirectory

from blendsearch.expansion.wordnet import PRODUCT_ROOTS, load_wordnet, sense_fields
from blendsearch.expansion.wordnet_subset import POS_LIST, SUBSET_FILE, SenseRecord, WordNetSubset, dumps

_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}


def read_index(source: Path, pos: str) -> dict[str, list[int]]:
    """A part of speech's lemmas and their synset offsets, in file order (nltk's index parse)."""
    out: dict[str, list[int]] = {}
    for line in (source / f"index.{_FILES[pos]}").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith(" "):
            continue
        fields = line.split()
        count, pointers = int(fields[2]), int(fields[3])
        out[fields[0]] = [int(f) for f in fields[6 + pointers : 6 + pointers + count]]
    return out


def read_exceptions(source: Path, pos: str) -> dict[str, tuple[str, ...]]:
    """An exception list (``noun.exc``, ...): inflected form -> base forms."""
    out: dict[str, tuple[str, ...]] = {}
    for line in (source / f"{_FILES[pos]}.exc").read_text(encoding="utf-8").splitlines():
        terms = line.split()
        if terms:
            out[terms[0]] = tuple(terms[1:])
    return out


def build(source: Path) -> WordNetSubset:
    """The subset of the database in ``source``."""
    with TemporaryDirectory() as cache:
        reader, reason = load_wordnet([source], Path(cache), use_nltk_data=False, use_subset=False)
        if reader is None:
            raise SystemExit(f"cannot read WordNet in {source}: {reason}")
        indexes = {pos: read_index(source, pos) for pos in POS_LIST}
        senses: dict[str, SenseRecord] = {}
        by_offset: dict[int, str] = {}
        for synset in reader.all_synsets("n"):
            if synset.lexname() != "noun.artifact":
                continue
            name, closure, lemmas, parents = sense_fields(synset)
            categories = tuple(c for c in closure if c in PRODUCT_ROOTS)
            if categories:
                senses[name] = SenseRecord(name, categories, lemmas, parents)
                by_offset[synset.offset()] = name
    nouns = {
        lemma: tuple(by_offset[o] for o in offsets if o in by_offset)
        for lemma, offsets in indexes["n"].items()
        if any(o in by_offset for o in offsets)
    }
    return WordNetSubset(
        roots=PRODUCT_ROOTS,
        lemmas={pos: frozenset(indexes[pos]) for pos in POS_LIST},
        exceptions={pos: read_exceptions(source, pos) for pos in POS_LIST},
        senses=senses,
        nouns=nouns,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", type=Path, default=Path("/usr/share/wordnet"), help="WordNet database folder"
    )
    parser.add_argument("--out", type=Path, default=SUBSET_FILE, help="the file to write")
    args = parser.parse_args(argv)
    subset = build(args.source)
    header = [
        "WordNet 3.0 subset for blendsearch query expansion, built by scripts/build_wordnet_subset.py.",
        "WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.",
        "Distributed under the WordNet 3.0 licence: see WORDNET-LICENSE.txt beside this file.",
    ]
    data = dumps(subset, header)
    args.out.write_bytes(data)
    print(
        f"{args.out}: {len(data):,} bytes; lemmas "
        + ", ".join(f"{pos} {len(subset.lemmas[pos]):,}" for pos in POS_LIST)
        + f"; {len(subset.senses):,} product senses of {len(subset.nouns):,} nouns",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
