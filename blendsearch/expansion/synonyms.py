"""Synonym files in Solr's format, and the synonyms stage's lookup.

Format (the same file works in Solr and Elasticsearch's ``synonym`` filter)::

    # a comment line
    sneakers, trainers, running shoes        equivalent: each expands to the others
    slacks, chinos => trousers               one-way: slacks or chinos expand to trousers, not back
    t\\,shirt                                 a backslash escapes a comma, "=>" or another backslash

Phrases match the query's words by Porter stem, so plural and singular forms match the same entry.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from blendsearch._types import PathInput
from blendsearch.exceptions import ConfigError
from blendsearch.expansion.normalise import stems
from blendsearch.expansion.phrases import PhraseTable
from blendsearch.text import words

__all__ = ["SynonymRules", "default_synonyms_path", "load_synonyms", "parse_synonyms"]

_SPLIT_ARROW = re.compile(r"(?<!\\)=>")
_SPLIT_COMMA = re.compile(r"(?<!\\),")
_UNESCAPE = re.compile(r"\\(.)")


@dataclass
class SynonymRules:
    """Parsed rules: phrase stems -> the phrases (folded) it expands to; ``problems``: skipped lines."""

    table: PhraseTable[str]
    rules: int
    problems: list[str]
    source: str


def default_synonyms_path() -> Path:
    """The packaged default product-vocabulary synonyms."""
    return Path(str(resources.files("blendsearch.expansion") / "data" / "synonyms.txt"))


def _phrases(side: str) -> list[str]:
    out: list[str] = []
    for part in _SPLIT_COMMA.split(side):
        text = " ".join(words(_UNESCAPE.sub(r"\1", part)))
        if text:
            out.append(text)
    return list(dict.fromkeys(out))


def parse_synonyms(text: str, source: str = "<text>") -> SynonymRules:
    """Parse Solr synonym rules; unusable lines are listed in ``problems`` instead of failing the file."""
    table: PhraseTable[str] = PhraseTable()
    problems: list[str] = []
    rules = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        sides = _SPLIT_ARROW.split(line)
        if len(sides) > 2:
            problems.append(f"{source}:{number}: more than one '=>'")
            continue
        if len(sides) == 2:
            left, right = _phrases(sides[0]), _phrases(sides[1])
            if not left or not right:
                problems.append(f"{source}:{number}: '=>' needs phrases on both sides")
                continue
            pairs = [(phrase, right) for phrase in left]
        else:
            group = _phrases(sides[0])
            if len(group) < 2:
                problems.append(f"{source}:{number}: an equivalence needs at least two phrases")
                continue
            pairs = [(phrase, [other for other in group if other != phrase]) for phrase in group]
        rules += 1
        for phrase, targets in pairs:
            for target in targets:
                if target != phrase:
                    table.add(stems(phrase.split()), target)
    return SynonymRules(table=table, rules=rules, problems=problems, source=source)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> SynonymRules:
    return parse_synonyms(Path(path).read_text(encoding="utf-8"), source=Path(path).name)


def load_synonyms(path: PathInput | None = None) -> SynonymRules:
    """Read a synonym file (default: the packaged one); re-read only when the file changes."""
    file = Path(path) if path is not None else default_synonyms_path()
    try:
        return _load_cached(str(file.resolve()), file.stat().st_mtime_ns)
    except FileNotFoundError as exc:
        raise ConfigError(f"synonyms file {file} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read synonyms file {file}: {exc}") from exc
