"""Synonym files in Solr's format, read once for both places that use them.

The query-expansion stage (:mod:`blendsearch.expansion.synonyms`) and the cluster search analyzer
(:mod:`blendsearch.mappings.analysis`) read the same file; both take its rules from :func:`parse_rules`,
so a line one of them skips the other skips too, and an escaped comma means the same to both.

Format (the same file works in Solr and Elasticsearch's ``synonym`` filter)::

    # a comment line
    sneakers, trainers, running shoes        equivalent: each expands to the others
    slacks, chinos => trousers               one-way: slacks or chinos expand to trousers, not back
    t\\,shirt                                 a backslash escapes a comma, "=>" or another backslash

Phrases are kept as folded words (:func:`blendsearch.text.words`), the form both the expansion stage and
the cluster analyzers compare.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from blendsearch._types import PathInput
from blendsearch.exceptions import ConfigError
from blendsearch.text import words

__all__ = ["SynonymRule", "SynonymRuleSet", "default_synonyms_path", "parse_rules", "read_rules"]

_SPLIT_ARROW = re.compile(r"(?<!\\)=>")
_SPLIT_COMMA = re.compile(r"(?<!\\),")
_UNESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class SynonymRule:
    """One usable line: ``sources`` expand to ``targets``; an equivalence has no ``targets``."""

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    line: int

    @property
    def one_way(self) -> bool:
        return bool(self.targets)

    def expansions(self) -> list[tuple[str, str]]:
        """(phrase, phrase it expands to) pairs, never a phrase to itself."""
        if self.one_way:
            return [(s, t) for s in self.sources for t in self.targets if t != s]
        return [(s, t) for s in self.sources for t in self.sources if t != s]


@dataclass(frozen=True)
class SynonymRuleSet:
    """The usable rules of a file, and its skipped lines as ``source:line: why`` (frozen: it is cached)."""

    rules: tuple[SynonymRule, ...]
    problems: tuple[str, ...]
    source: str


def default_synonyms_path() -> Path:
    """The packaged default product-vocabulary synonyms."""
    return Path(str(resources.files("blendsearch.expansion") / "data" / "synonyms.txt"))


def _phrases(side: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in _SPLIT_COMMA.split(side):
        text = " ".join(words(_UNESCAPE.sub(r"\1", part)))
        if text:
            out.append(text)
    return tuple(dict.fromkeys(out))


def parse_rules(text: str, source: str = "<text>") -> SynonymRuleSet:
    """Parse Solr synonym rules; unusable lines are listed in ``problems`` instead of failing the file."""
    rules: list[SynonymRule] = []
    problems: list[str] = []
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
            rules.append(SynonymRule(sources=left, targets=right, line=number))
            continue
        group = _phrases(sides[0])
        if len(group) < 2:
            problems.append(f"{source}:{number}: an equivalence needs at least two phrases")
            continue
        rules.append(SynonymRule(sources=group, targets=(), line=number))
    return SynonymRuleSet(rules=tuple(rules), problems=tuple(problems), source=source)


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, mtime_ns: int) -> SynonymRuleSet:
    return parse_rules(Path(path).read_text(encoding="utf-8"), source=Path(path).name)


def read_rules(path: PathInput | None = None) -> SynonymRuleSet:
    """Read a synonym file (default: the packaged one); re-read only when the file changes."""
    file = Path(path) if path is not None else default_synonyms_path()
    try:
        return _read_cached(str(file.resolve()), file.stat().st_mtime_ns)
    except FileNotFoundError as exc:
        raise ConfigError(f"synonyms file {file} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read synonyms file {file}: {exc}") from exc
