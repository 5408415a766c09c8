"""One synonym-file parser for the expansion stage and the cluster search analyzer (issue 10).

Before, ``mappings.analysis.load_synonym_rules`` passed raw lines to Lucene while the expansion stage
skipped unusable lines and honoured ``\\,`` escapes, so the two read one file differently.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from blendsearch.exceptions import ConfigError
from blendsearch.expansion.normalise import stems
from blendsearch.expansion.synonyms import load_synonyms
from blendsearch.mappings.analysis import keep_originals, load_synonym_rules
from blendsearch.synonym_file import parse_rules

TRICKY = (
    "# a comment\r\n"
    "\r\n"
    "  Tee, T\\,Shirt, tee   \r\n"  # escaped comma, a duplicate, capitals, CRLF
    "slacks, chinos => trousers, slacks\n"  # a target that is also a source
    "a => b => c\n"  # two arrows: skipped
    " => jeans\n"  # nothing on the left: skipped
    "lonely\n"  # an equivalence of one phrase: skipped
    "Crème, cream\n"  # diacritics fold
)

#: What the file means: (phrase, phrase it expands to).
EXPECTED = {
    ("tee", "t shirt"),
    ("t shirt", "tee"),
    ("slacks", "trousers"),
    ("chinos", "trousers"),
    ("chinos", "slacks"),
    ("creme", "cream"),
    ("cream", "creme"),
}


def _lucene_pairs(rules: list[str]) -> set[tuple[str, str]]:
    """Read Solr rules the way Lucene's synonym filter applies them (``a => a, c``: a also searches c)."""
    pairs = set()
    for rule in rules:
        left, arrow, right = rule.partition("=>")
        sources = [p.strip() for p in left.split(",")]
        targets = [p.strip() for p in right.split(",")] if arrow else sources
        pairs.update((s, t) for s in sources for t in targets if s != t)
    return pairs


@pytest.fixture
def tricky(tmp_path: Path) -> Path:
    path = tmp_path / "synonyms.txt"
    path.write_bytes(TRICKY.encode("utf-8"))
    return path


def test_the_cluster_analyzer_and_the_expansion_stage_read_a_tricky_file_the_same(tricky: Path) -> None:
    rules = load_synonym_rules(str(tricky))
    assert rules == ["tee, t shirt", "slacks, chinos => trousers, slacks", "creme, cream"]
    assert _lucene_pairs([r for rule in rules for r in keep_originals(rule)]) == EXPECTED

    expansion = load_synonyms(tricky)
    assert expansion.rules == 3
    assert expansion.problems == [
        "synonyms.txt:5: more than one '=>'",
        "synonyms.txt:6: '=>' needs phrases on both sides",
        "synonyms.txt:7: an equivalence needs at least two phrases",
    ]
    phrases = {phrase for pair in EXPECTED for phrase in pair}
    found = {(p, t) for p in phrases for t in expansion.table.get(tuple(stems(p.split())))}
    assert found == EXPECTED


def test_both_report_an_unreadable_file_alike(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(ConfigError, match="does not exist"):
        load_synonym_rules(str(missing))
    with pytest.raises(ConfigError, match="does not exist"):
        load_synonyms(missing)


def test_rules_keep_their_line_numbers() -> None:
    parsed = parse_rules("# c\nA, b\nx => y\n", source="s.txt")
    found = [(r.sources, r.targets, r.line) for r in parsed.rules]
    assert found == [(("a", "b"), (), 2), (("x",), ("y",), 3)]
    assert parsed.problems == ()
