"""Analysis settings that make the cluster tokenise like :mod:`blendsearch.text`, plus search-time synonyms.

``blendsearch.text.analyze`` folds case and diacritics, splits on anything that is not a letter or digit
and Porter-stems. The same chain in Lucene terms:

- char filters: drop combining marks (decomposed accents; ``pattern_replace`` over the combining-mark
  blocks) and turn the punctuation Unicode word segmentation keeps inside words (``'`` ``’`` ``.`` ``,``
  ``:`` ``;`` ``_`` ...) into spaces, so ``Men's`` gives ``men`` + ``s`` and ``3.5`` gives ``3`` + ``5``;
- the ``standard`` tokenizer, which then splits on every other non-letter, non-digit character
  (a ``pattern`` tokenizer would say this more directly, but the osmem emulator mis-applies it at
  search time, and the test suite runs there);
- ``lowercase``, ``asciifolding`` and ``porter_stem`` (the original Porter algorithm, as nltk's
  ``ORIGINAL_ALGORITHM`` mode).

Known differences from :func:`blendsearch.text.analyze`: runs of CJK ideographs become one token per
ideograph, emoji become tokens, and precomposed non-Latin accents (Greek tonos) are kept.

Synonyms are a ``synonym_graph`` filter in the *search* analyzer only (the Elasticsearch/OpenSearch
recommendation: rules can change without re-indexing, and multi-word rules need a graph at query time).
"""

from __future__ import annotations

from typing import Any

from blendsearch.mappings.settings import MappingSettings
from blendsearch.synonym_file import SynonymRule, default_synonyms_path, read_rules

__all__ = [
    "INDEX_ANALYZER",
    "KEYWORD_NORMALIZER",
    "SEARCH_ANALYZER",
    "analysis_settings",
    "keep_originals",
    "load_synonym_rules",
]

INDEX_ANALYZER = "blendsearch_text"
SEARCH_ANALYZER = "blendsearch_search"
KEYWORD_NORMALIZER = "blendsearch_lowercase"
_MARKS = "blendsearch_strip_marks"
_PUNCTUATION = "blendsearch_split_punctuation"
#: The Unicode combining-mark blocks (Java regex; some emulators lack \p{M}).
#: Literal characters, not \\u escapes: Java and Go (osmem) regexes disagree on escapes, not on literals.
_COMBINING_MARKS = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
#: Characters UAX #29 word segmentation keeps between letters/digits (MidLetter, MidNum, MidNumLet,
#: Single_Quote, ExtendNumLet) that blendsearch.text splits on.
_INNER_PUNCTUATION = (
    "'\u2018\u2019\uff07.\u2024\ufe52\uff0e"  # quotes and full stops
    ",;\u037e\uff0c\uff1b:\u00b7\u2027\ufe13\ufe55\uff1a"  # commas, semicolons, colons, middle dots
    "_\u203f\u2040"  # connector punctuation
)
_SYNONYMS = "blendsearch_synonyms"
_FOLD = ["lowercase", "asciifolding"]


def load_synonym_rules(path: str | None = None) -> list[str]:
    """The usable rules of a Solr synonym file, for ``synonyms: [...]``.

    Read by :func:`blendsearch.synonym_file.read_rules`, the parser the expansion stage uses, so both
    skip the same lines and read escapes alike; phrases come back as folded words (no escapes left).
    ``path`` None reads blendsearch's own file; where that is absent there are no rules.
    """
    if path is None and not default_synonyms_path().is_file():
        return []
    return [_lucene_rule(rule) for rule in read_rules(path).rules]


def _lucene_rule(rule: SynonymRule) -> str:
    if rule.one_way:
        return f"{', '.join(rule.sources)} => {', '.join(rule.targets)}"
    return ", ".join(rule.sources)


def keep_originals(rule: str) -> list[str]:
    """Rewrite a one-way rule so the query keeps its own words, as the expansion stage does.

    In Lucene ``a, b => c`` *replaces* a and b with c; blendsearch's synonym file means "a query with a
    or b also searches c", which in Lucene terms is ``a => a, c`` and ``b => b, c``. Equivalence rules
    (no ``=>``) already keep every word and pass through unchanged.
    """
    left, arrow, right = rule.partition("=>")
    if not arrow:
        return [rule]
    targets = [t.strip() for t in right.split(",") if t.strip()]
    rewritten = []
    for source in (s.strip() for s in left.split(",")):
        if source:
            extra = [t for t in targets if t != source]
            rewritten.append(f"{source} => {', '.join([source, *extra])}")
    return rewritten


def analysis_settings(settings: MappingSettings) -> dict[str, Any]:
    """The ``index.analysis`` section: the index analyzer, the search analyzer and the keyword normalizer."""
    search_filters = list(_FOLD)
    filters: dict[str, Any] = {}
    rules = []
    if settings.synonyms:
        rules = [r for rule in load_synonym_rules(settings.synonyms_file) for r in keep_originals(rule)]
    if rules:
        # lenient: a rule that analyses to nothing is skipped instead of failing index creation.
        filters[_SYNONYMS] = {"type": "synonym_graph", "synonyms": rules, "lenient": True}
        search_filters.append(_SYNONYMS)
    search_filters.append("porter_stem")
    analysis: dict[str, Any] = {
        "char_filter": {
            _MARKS: {"type": "pattern_replace", "pattern": _COMBINING_MARKS, "replacement": ""},
            _PUNCTUATION: {"type": "mapping", "mappings": [f"{ch}=>\\u0020" for ch in _INNER_PUNCTUATION]},
        },
        "analyzer": {
            INDEX_ANALYZER: {
                "type": "custom",
                "char_filter": [_MARKS, _PUNCTUATION],
                "tokenizer": "standard",
                "filter": [*_FOLD, "porter_stem"],
            },
            SEARCH_ANALYZER: {
                "type": "custom",
                "char_filter": [_MARKS, _PUNCTUATION],
                "tokenizer": "standard",
                "filter": search_filters,
            },
        },
        # Filters compare case-insensitively (blendsearch.filters.matches uses casefold); the documents
        # already carry casefolded values, the normalizer keeps hand-written queries case-insensitive too.
        "normalizer": {KEYWORD_NORMALIZER: {"type": "custom", "filter": ["lowercase"]}},
    }
    if filters:
        analysis["filter"] = filters
    return analysis
