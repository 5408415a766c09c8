"""WordNet for query expansion: find it, and keep only product senses whose words the index knows.

Where WordNet comes from, first found wins:

1. nltk's own data (``nltk.download("wordnet")``), if ``nltk.data.find("corpora/wordnet")`` finds it;
2. a WordNet 3.x database folder (``data.noun``, ``index.noun``, ...): ``$WNSEARCHDIR``, ``$WNHOME/dict``,
   or Debian/Ubuntu's ``wordnet-base`` package in ``/usr/share/wordnet`` (``apt-get install wordnet-base``).
   nltk's reader also wants a ``lexnames`` file and an ``index.sense`` beside the data, and reads only
   below its data path, so the files are copied once to ``$BLENDSEARCH_HOME/wordnet`` (default
   ``~/.cache/blendsearch/wordnet``) with those two files written there;
3. otherwise the stage is off, with one notice saying why.

WordNet alone is a poor product thesaurus ("mug" is also a "fall guy"), so expansion uses only noun senses
filed under a product category (:data:`PRODUCT_ROOTS`), and only words the index's vocabulary holds.
"""

from __future__ import annotations

import os
import shutil
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blendsearch.paths import blendsearch_home

__all__ = [
    "GENERIC_SENSES",
    "GENERIC_WORDS",
    "LEXNAMES",
    "PRODUCT_ROOTS",
    "WordNetSense",
    "is_english_word",
    "load_wordnet",
    "product_senses",
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


def load_wordnet(
    search_dirs: list[Path] | None = None, cache_dir: Path | None = None, use_nltk_data: bool = True
) -> tuple[Any | None, str | None]:
    """``(reader, None)`` when WordNet is available, else ``(None, reason)``; loaded once per process."""
    dirs = system_wordnet_dirs() if search_dirs is None else search_dirs
    key = f"{use_nltk_data}|{'|'.join(map(str, dirs))}"
    with _LOCK:
        if key in _READERS:
            return _READERS[key]
        result: tuple[Any | None, str | None]
        try:
            reader = _load_nltk_data() if use_nltk_data else None
            if reader is not None:
                result = (reader, None)
            else:
                source = next((d for d in dirs if _is_database(d)), None)
                if source is None:
                    tried = ", ".join(str(d) for d in dirs) or "no folders"
                    result = (
                        None,
                        "no nltk 'wordnet' data and no WordNet database in "
                        f"{tried} (install it with `apt-get install wordnet-base` or "
                        "`python -m nltk.downloader wordnet`)",
                    )
                else:
                    cache = cache_dir or blendsearch_home() / "wordnet"
                    _prepare_copy(source, cache)
                    result = (_reader_for(cache), None)
        except (OSError, LookupError, ValueError, AssertionError, PermissionError) as exc:
            result = (None, f"WordNet could not be read ({type(exc).__name__}: {exc})")
        _READERS[key] = result
        return result


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
    return bool(reader.morphy(word))


def product_senses(reader: Any, phrase: str) -> list[WordNetSense]:
    """Noun senses of ``phrase`` (words joined by spaces) that fall under a product category."""
    senses: list[WordNetSense] = []
    spellings = dict.fromkeys([phrase.replace(" ", "_"), phrase.replace(" ", "-")])
    synsets = dict.fromkeys(s for spelling in spellings for s in reader.synsets(spelling, pos="n"))
    for synset in synsets:
        if synset.lexname() != "noun.artifact" or synset.name() in GENERIC_SENSES:
            continue
        closure = {s.name() for path in synset.hypernym_paths() for s in path}
        categories = sorted(closure & PRODUCT_ROOTS)
        if not categories:
            continue
        synonyms = _single_words([lemma.name() for lemma in synset.lemmas()])
        parents = [lemma.name() for parent in synset.hypernyms() for lemma in parent.lemmas()]
        hypernyms = _single_words(parents)
        senses.append(
            WordNetSense(
                synset=synset.name(),
                category=categories[0].split(".")[0],
                synonyms=synonyms,
                hypernyms=hypernyms,
            )
        )
    return senses
