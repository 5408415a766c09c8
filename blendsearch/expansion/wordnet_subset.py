"""A compact copy of the part of WordNet 3.0 that query expansion reads, shipped with the package.

Loading WordNet through nltk parses ~30 MB of database files and costs 1.5-2 s in every process (every CLI
``search``). Expansion asks WordNet only two things: is a word English at all (nltk's ``morphy``: every
lemma per part of speech and the exception lists), and which noun senses of a word fall under a product
category (the lemmas, categories and parents of those senses only). This module holds exactly that, read
from ``data/wordnet-3.0-subset.tsv.gz`` (about 0.7 MB, loaded in tens of milliseconds), and answers both
questions the way nltk's reader does (``tests/test_wordnet_subset.py`` compares them).

The file is built by ``scripts/build_wordnet_subset.py`` from a WordNet 3.0 database (Debian's
``wordnet-base``) through nltk; WordNet's licence, which allows redistribution with its notice, is in
``data/WORDNET-LICENSE.txt``. Its lines are tab-separated records::

    @format 1                          the layout version
    @roots  NAME NAME ...              the product categories the senses were chosen under
    @lemmas POS LEMMA LEMMA ...        every lemma of one part of speech (n, v, a, r), as nltk's index holds
    @exc    POS FORM BASE BASE ...     one exception-list entry (``noun.exc``, ...)
    @sense  SYNSET CATEGORIES LEMMAS PARENTS   a product sense: categories, its lemmas, its parents' lemmas
    @noun   LEMMA SYNSET SYNSET ...    a noun's product senses, in WordNet's order
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FORMAT",
    "POS_LIST",
    "SUBSET_FILE",
    "SUBSTITUTIONS",
    "SenseRecord",
    "WordNetSubset",
    "dumps",
    "read_subset",
]

#: The layout version written by :func:`dumps` and required by :func:`read_subset`.
FORMAT = 1
#: The subset shipped with the package.
SUBSET_FILE = Path(__file__).parent / "data" / "wordnet-3.0-subset.tsv.gz"
#: Parts of speech in the order nltk's ``morphy`` tries them.
POS_LIST = ("n", "v", "a", "r")
#: nltk's detachment rules (``WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS``, from WordNet's morphy(7)).
SUBSTITUTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "n": (
        ("s", ""),
        ("ses", "s"),
        ("ves", "f"),
        ("xes", "x"),
        ("zes", "z"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("men", "man"),
        ("ies", "y"),
    ),
    "v": (
        ("s", ""),
        ("ies", "y"),
        ("es", "e"),
        ("es", ""),
        ("ed", "e"),
        ("ed", ""),
        ("ing", "e"),
        ("ing", ""),
    ),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}


@dataclass(frozen=True)
class SenseRecord:
    """One noun sense filed under a product category, with what expansion reads of it."""

    synset: str
    #: The product categories (synset names) among its ancestors, sorted.
    categories: tuple[str, ...]
    #: Its lemma names, as WordNet spells them ("Levi's", "tank_top").
    lemmas: tuple[str, ...]
    #: The lemma names of its direct hypernyms, parent by parent.
    parents: tuple[str, ...]


@dataclass(frozen=True)
class WordNetSubset:
    """The lemma index, exception lists and product senses of one WordNet database."""

    roots: frozenset[str]
    lemmas: Mapping[str, frozenset[str]]
    exceptions: Mapping[str, Mapping[str, tuple[str, ...]]]
    senses: Mapping[str, SenseRecord]
    nouns: Mapping[str, tuple[str, ...]]

    def base_forms(self, form: str, pos: str) -> list[str]:
        """The lemmas ``form`` may be an inflection of, in one part of speech (nltk's ``_morphy``)."""
        exceptions = self.exceptions.get(pos, {})
        if form in exceptions:
            forms = list(exceptions[form])
        else:
            forms = [form[: -len(old)] + new for old, new in SUBSTITUTIONS[pos] if form.endswith(old)]
        known = self.lemmas.get(pos, frozenset())
        return list(dict.fromkeys(f for f in [form, *forms] if f in known))

    def morphy(self, form: str) -> str | None:
        """The first base form in any part of speech, or None when WordNet does not know the word."""
        for pos in POS_LIST:
            found = self.base_forms(form, pos)
            if found:
                return found[0]
        return None

    def noun_senses(self, lemma: str) -> list[SenseRecord]:
        """The product senses of a noun, as ``reader.synsets(lemma, pos="n")`` would list them."""
        forms = self.base_forms(lemma.lower(), "n")
        return [self.senses[name] for form in forms for name in self.nouns.get(form, ())]


def dumps(subset: WordNetSubset, header: Iterable[str] = ()) -> bytes:
    """The gzip file for a subset: sorted lines and no timestamp, so a rebuild gives the same bytes."""
    lines = [f"# {line}" for line in header]
    lines += [f"@format\t{FORMAT}", "@roots\t" + " ".join(sorted(subset.roots))]
    lines += [f"@lemmas\t{pos}\t" + " ".join(sorted(subset.lemmas.get(pos, ()))) for pos in POS_LIST]
    for pos in POS_LIST:
        for form, bases in sorted(subset.exceptions.get(pos, {}).items()):
            lines.append("\t".join(["@exc", pos, form, *bases]))
    for name, record in sorted(subset.senses.items()):
        parts = (record.categories, record.lemmas, record.parents)
        lines.append("\t".join(["@sense", name, *(" ".join(p) for p in parts)]))
    for lemma, names in sorted(subset.nouns.items()):
        lines.append("\t".join(["@noun", lemma, *names]))
    return gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=9, mtime=0)


def read_subset(path: Path = SUBSET_FILE) -> WordNetSubset:
    """Read a subset file; ``OSError`` if it cannot be read, ``ValueError`` if it is not one."""
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    version: str | None = None
    roots: frozenset[str] = frozenset()
    lemmas: dict[str, frozenset[str]] = {}
    exceptions: dict[str, dict[str, tuple[str, ...]]] = {pos: {} for pos in POS_LIST}
    senses: dict[str, SenseRecord] = {}
    nouns: dict[str, tuple[str, ...]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        try:
            if kind == "@exc":
                exceptions[fields[0]][fields[1]] = tuple(fields[2:])
            elif kind == "@noun":
                nouns[fields[0]] = tuple(fields[1:])
            elif kind == "@sense":
                name, categories, names, parents = fields
                split = (tuple(categories.split()), tuple(names.split()), tuple(parents.split()))
                senses[name] = SenseRecord(name, *split)
            elif kind == "@lemmas":
                lemmas[fields[0]] = frozenset(fields[1].split(" "))
            elif kind == "@roots":
                roots = frozenset(rest.split())
            elif kind == "@format":
                version = rest
            else:
                raise ValueError(f"unknown record {kind!r}")
        except (IndexError, KeyError, ValueError) as exc:
            raise ValueError(f"{path}: line {number} is not a WordNet subset record ({exc})") from exc
    if version != str(FORMAT):
        raise ValueError(f"{path}: format {version!r}, expected {FORMAT}")
    missing = sorted({n for names in nouns.values() for n in names} - senses.keys())
    if missing or set(lemmas) != set(POS_LIST):
        parts = f"parts of speech {sorted(lemmas)}, unknown senses {missing[:3]}"
        raise ValueError(f"{path}: incomplete ({parts})")
    return WordNetSubset(roots=roots, lemmas=lemmas, exceptions=exceptions, senses=senses, nouns=nouns)
