"""The synonyms stage's lookup, built from a Solr synonym file.

The file format and its parser live in :mod:`blendsearch.synonym_file` (the cluster search analyzer reads
the same rules). Phrases match the query's words by Porter stem, so plural and singular forms match the
same entry.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from blendsearch._types import PathInput
from blendsearch.expansion.normalise import stems
from blendsearch.expansion.phrases import PhraseTable
from blendsearch.synonym_file import SynonymRuleSet, default_synonyms_path, parse_rules, read_rules

__all__ = ["SynonymRules", "default_synonyms_path", "load_synonyms", "parse_synonyms"]


@dataclass
class SynonymRules:
    """Parsed rules: phrase stems -> the phrases (folded) it expands to; ``problems``: skipped lines."""

    table: PhraseTable[str]
    rules: int
    problems: list[str]
    source: str


def parse_synonyms(text: str, source: str = "<text>") -> SynonymRules:
    """Parse Solr synonym rules; unusable lines are listed in ``problems`` instead of failing the file."""
    return _lookup(parse_rules(text, source))


def load_synonyms(path: PathInput | None = None) -> SynonymRules:
    """Read a synonym file (default: the packaged one); re-read only when the file changes."""
    return _lookup(read_rules(path))


@functools.lru_cache(maxsize=8)
def _lookup(parsed: SynonymRuleSet) -> SynonymRules:
    table: PhraseTable[str] = PhraseTable()
    for rule in parsed.rules:
        for phrase, target in rule.expansions():
            table.add(stems(phrase.split()), target)
    problems = list(parsed.problems)
    return SynonymRules(table=table, rules=len(parsed.rules), problems=problems, source=parsed.source)
