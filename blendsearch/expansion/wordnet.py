"""WordNet for query expansion: find it, and keep only product senses whose words the index knows.

Where WordNet comes from, first found wins:

1. the compact copy shipped in the package (:mod:`blendsearch.expansion.wordnet_subset`: the lemma index,
   exception lists and product senses of WordNet 3.0, read in tens of milliseconds instead of nltk's 1.5-2 s,
   and with no system package to install);
2. nltk's own data (``nltk.download("wordnet")``), if ``nltk.data.find("corpora/wordnet")`` finds it;
3. a WordNet 3.x database folder (``data.noun``, ``index.noun``, ...): ``$WNSEARCHDIR``, ``$WNHOME/dict``,
   or Debian/Ubuntu's ``wordnet-base`` package in ``/usr/share/wordnet`` (``apt-get install wordnet-base``).
   nltk's reader also wants a ``lexnames`` file and an ``index.sense`` beside the data, and reads only
   below its data path, so the files are copied once to ``$BLENDSEARCH_HOME/wordnet`` (default
   ``~/.cache/blendsearch/wordnet``) with those two files written there;
4. otherwise the stage is off, with one notice saying why.

The nltk readers (2, 3) are the fallback when the shipped copy is missing or was built for other product
categories, and the source ``scripts/build_wordnet_subset.py`` builds the copy from.

WordNet alone is a poor product thesaurus ("mug" is also a "fall guy"), so expansion uses only noun senses
filed under a product category (:data:`PRODUCT_ROOTS`), and only words the index's vocabulary holds.
"""

from __future__ import annotations

import os
import shutil
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blendsearch.expansion.wordnet_subset import SUBSET_FILE, WordNetSubset, read_subset
from blendsearch.paths import blendsearch_home

__all__ = [
    "GENERIC_SENSES",
    "GENERIC_WORDS",
    "LEXNAMES",
    "PRODUCT_ROOTS",
    "WordNetSense",
    "is_english_word",
    "load_subset",
    "load_wordnet",
    "product_senses",
    "sense_fields",
    "system_wordnet_dirs",
]

#: Synsets whose hyponyms count as products.
PRODUCT_ROOTS = frozenset(
    {
        "clothing.n.01",
        "garment.n.01",
        "footwear.n.01",
        "footwear.n.02",
        "accessory.n.01",
        "bag.n.01",
        "bag.n.04",
        "jewelry.n.01",
        "consumer_goods.n.01",
        "toiletry.n.01",
        "cosmetic.n.01",
        "timepiece.n.01",
        "spectacles.n.01",
        "headdress.n.01",
    }
)

#: Senses that name a whole category: expanding one says nothing about a kind of product.
GENERIC_SENSES = PRODUCT_ROOTS | {"apparel.n.01", "attire.n.01", "clothing.n.01", "wear.n.03"}
#: Category words never offered as expansions (catalogues use them as top-level categories).
GENERIC_WORDS = frozenset(
    "apparel attire clothes clothing garb garment wear footwear accessory accessories commodity goods".split()
)

#: WordNet 3.0's lexicographer files, in order (the ``lexnames`` file of the database's ``dict`` folder).
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_POS_NUMBER = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
_DATABASE_FILES = tuple(
    f"{kind}.{pos}" for kind in ("data", "index") for pos in ("noun", "verb", "adj", "adv")
) + tuple(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv"))
_OPTIONAL_FILES = ("cntlist.rev",)

_LOCK = threading.Lock()
_READERS: dict[str, tuple[Any, str | None]] = {}


def system_wordnet_dirs() -> list[Path]:
    """Folders where a WordNet database may be installed, in the order they are tried."""
    out: list[Path] = []
    if os.environ.get("WNSEARCHDIR"):
        out.append(Path(os.environ["WNSEARCHDIR"]))
    if os.environ.get("WNHOME"):
        out.append(Path(os.environ["WNHOME"]) / "dict")
    out += [Path("/usr/share/wordnet"), Path("/usr/local/share/wordnet"), Path("/usr/share/wordnet/dict")]
    return out


def _is_database(folder: Path) -> bool:
    return all((folder / name).is_file() for name in _DATABASE_FILES)


def _lexnames_text() -> str:
    return "".join(f"{i:02d}\t{name}\t{_POS_NUMBER[name.split('.')[0]]}\n" for i, name in enumerate(LEXNAMES))


def _prepare_copy(source: Path, cache: Path) -> None:
    """Copy the database to a folder nltk may read, adding ``lexnames`` and an empty ``index.sense``."""
    cache.mkdir(parents=True, exist_ok=True)
    for name in _DATABASE_FILES + _OPTIONAL_FILES:
        src, dst = source / name, cache / name
        if not src.is_file():
            continue
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
            shutil.copyfile(src, dst)
    lexnames = cache / "lexnames"
    if not lexnames.is_file():
        lexnames.write_text(_lexnames_text())
    sense = cache / "index.sense"
    if not sense.is_file() and not (source / "index.sense").is_file():
        sense.write_text("")
    elif (source / "index.sense").is_file() and not sense.is_file():
        shutil.copyfile(source / "index.sense", sense)


def _reader_for(folder: Path) -> Any:
    import nltk.data
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _LocalWordNet(WordNetCorpusReader):
        def map_wn(self, version: str = "wordnet") -> None:  # noqa: ARG002 - only for multilingual data
            """No mapping to nltk's own WordNet copy (which is absent here); it only serves OMW languages."""
            return None

    if str(folder) not in nltk.data.path:
        nltk.data.path.append(str(folder))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available"
        return _LocalWordNet(str(folder), None)


def _load_nltk_data() -> Any | None:
    import nltk.data

    try:
        nltk.data.find("corpora/wordnet")
    except LookupError:
        try:
            nltk.data.find("corpora/wordnet.zip")
        except LookupError:
            return None
    from nltk.corpus import wordnet

    wordnet.ensure_loaded()
    return wordnet


def load_subset(path: Path = SUBSET_FILE) -> tuple[WordNetSubset | None, str | None]:
    """The shipped compact WordNet, or ``(None, why not)`` when it is absent, unreadable or was built for
    other product categories than :data:`PRODUCT_ROOTS` (its senses would then be the wrong ones)."""
    try:
        subset = read_subset(path)
    except FileNotFoundError:
        return None, f"the packaged WordNet subset {path} is missing"
    except (OSError, EOFError, ValueError) as exc:
        return None, f"the packaged WordNet subset {path} is unreadable ({type(exc).__name__}: {exc})"
    if subset.roots != PRODUCT_ROOTS:
        return None, f"the WordNet subset at {path} was built for other product categories (rebuild it)"
    return subset, None


def load_wordnet(
    search_dirs: list[Path] | None = None,
    cache_dir: Path | None = None,
    use_nltk_data: bool = True,
    use_subset: bool | None = None,
) -> tuple[Any | None, str | None]:
    """``(reader, None)`` when WordNet is available, else ``(None, reason)``; loaded once per process.

    The reader is the shipped :class:`WordNetSubset` or an nltk ``WordNetCorpusReader``; pass it to
    :func:`product_senses` and :func:`is_english_word`. ``use_subset`` defaults to "only when no
    ``search_dirs`` were given", so asking for a particular database folder gets that database.
    """
    dirs = system_wordnet_dirs() if search_dirs is None else search_dirs
    subset_first = search_dirs is None if use_subset is None else use_subset
    key = f"{subset_first}|{use_nltk_data}|{'|'.join(map(str, dirs))}"
    with _LOCK:
        if key in _READERS:
            return _READERS[key]
        result: tuple[Any | None, str | None] = (None, None)
        subset_reason = ""
        if subset_first:
            subset, why = load_subset()
            result = (subset, None)
            subset_reason = f"{why}; " if why else ""
        if result[0] is None:
            result = _load_nltk_reader(dirs, cache_dir, use_nltk_data)
            if result[0] is None:
                result = (None, subset_reason + (result[1] or ""))
        _READERS[key] = result
        return result


def _load_nltk_reader(
    dirs: list[Path], cache_dir: Path | None, use_nltk_data: bool
) -> tuple[Any | None, str | None]:
    try:
        reader = _load_nltk_data() if use_nltk_data else None
        if reader is not None:
            return reader, None
        source = next((d for d in dirs if _is_database(d)), None)
        if source is None:
            tried = ", ".join(str(d) for d in dirs) or "no folders"
            return (
                None,
                "no nltk 'wordnet' data and no WordNet database in "
                f"{tried} (install it with `apt-get install wordnet-base` or "
                "`python -m nltk.downloader wordnet`)",
            )
        cache = cache_dir or blendsearch_home() / "wordnet"
        _prepare_copy(source, cache)
        return _reader_for(cache), None
    except (OSError, LookupError, ValueError, AssertionError, PermissionError) as exc:
        return None, f"WordNet could not be read ({type(exc).__name__}: {exc})"


@dataclass(frozen=True)
class WordNetSense:
    """A product sense of a query word: its synset name, the product category, synonyms and parents."""

    synset: str
    category: str
    synonyms: tuple[str, ...]
    hypernyms: tuple[str, ...]


def _single_words(names: list[str]) -> tuple[str, ...]:
    """One-word lemmas, lower-cased, minus category words. Multi-word lemmas ("tennis_shoe", "blue_jean")
    are left out: the index's vocabulary is single words, and their parts alone mean something else."""
    out = (n.lower() for n in names if "_" not in n and "-" not in n)
    return tuple(dict.fromkeys(w for w in out if w not in GENERIC_WORDS))


def is_english_word(reader: Any, word: str) -> bool:
    """Whether WordNet knows the word in any part of speech (so it is no typo)."""
    return bool(reader.morphy(word))  # the same call on a WordNetSubset and on nltk's reader


def product_senses(reader: Any, phrase: str) -> list[WordNetSense]:
    """Noun senses of ``phrase`` (words joined by spaces) that fall under a product category."""
    spellings = dict.fromkeys([phrase.replace(" ", "_"), phrase.replace(" ", "-")])
    if isinstance(reader, WordNetSubset):
        records = {r.synset: r for spelling in spellings for r in reader.noun_senses(spelling)}
        found = [(r.synset, r.categories, r.lemmas, r.parents) for r in records.values()]
    else:
        found = _nltk_product_senses(reader, spellings)
    senses: list[WordNetSense] = []
    for synset, closure, lemmas, parents in found:
        categories = sorted(set(closure) & PRODUCT_ROOTS)
        if synset in GENERIC_SENSES or not categories:
            continue
        senses.append(
            WordNetSense(
                synset=synset,
                category=categories[0].split(".")[0],
                synonyms=_single_words(list(lemmas)),
                hypernyms=_single_words(list(parents)),
            )
        )
    return senses


def _nltk_product_senses(
    reader: Any, spellings: Iterable[str]
) -> list[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]]:
    """``(synset, ancestors, lemmas, parents' lemmas)`` of the artifact noun senses, read through nltk
    (also what ``scripts/build_wordnet_subset.py`` stores for every such sense)."""
    synsets = dict.fromkeys(s for spelling in spellings for s in reader.synsets(spelling, pos="n"))
    return [sense_fields(synset) for synset in synsets if synset.lexname() == "noun.artifact"]


def sense_fields(synset: Any) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """An nltk synset's name, ancestors (hypernyms and instance hypernyms, transitively), lemma names and
    its direct hypernyms' lemma names, parents in name order (nltk keeps them in a set, whose order
    changes from process to process with the string hash seed)."""
    closure = tuple(sorted({s.name() for path in synset.hypernym_paths() for s in path}))
    lemmas = tuple(lemma.name() for lemma in synset.lemmas())
    parents = tuple(lemma.name() for parent in sorted(synset.hypernyms()) for lemma in parent.lemmas())
    return synset.name(), closure, lemmas, parents
