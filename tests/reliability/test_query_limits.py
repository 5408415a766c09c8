"""Queries cannot hang: every text step is linear, and the engine refuses over-long queries up front.

Timings use generous bounds (< 1 s for work that takes milliseconds): they guard against quadratic
behaviour (the old hyphen regex took 56 s on one 64k-character word), they are not benchmarks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from blendsearch.backends.memory import MemoryBackend
from blendsearch.cli import main
from blendsearch.config import EngineConfig, ExpansionSettings, FieldMapping, SearchSettings
from blendsearch.documents import Document
from blendsearch.engine import Engine
from blendsearch.exceptions import ConfigError, QueryError
from blendsearch.expansion import Expander
from blendsearch.expansion.normalise import normalise
from blendsearch.expansion.typos import MAX_WORD_LENGTH, correct
from blendsearch.query.models import HybridQuery

ONE_MB_WORD = "a" * 1_000_000
#: One 1 MB "word" with a hyphen in the middle: the shape the old ``(\w+)-(\w+)`` pattern choked on.
ONE_MB_HYPHENATED = "x" * 500_000 + "-" + "y" * 499_999
TEN_THOUSAND_WORDS = " ".join(f"{'qwertzuiop'[i % 10 :]}{'abc'[i % 3 :]}" for i in range(10_000))
VOCABULARY = {"red": 3, "dress": 4, "tshirts": 2, "shoes": 5, "handbags": 1, "blue": 2}


def _seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def test_the_inputs_are_what_they_say() -> None:
    assert len(ONE_MB_WORD) == len(ONE_MB_HYPHENATED) == 1_000_000
    assert len(TEN_THOUSAND_WORDS.split()) == 10_000


@pytest.mark.parametrize("text", [ONE_MB_WORD, ONE_MB_HYPHENATED], ids=["1MB-word", "1MB-hyphenated"])
def test_normalise_is_linear_on_a_1mb_word(text: str) -> None:
    tokens: list = []
    elapsed = _seconds(lambda: tokens.extend(normalise(text, VOCABULARY)[0]))
    assert elapsed < 1.0
    assert [len(t.surface) for t in tokens] == ([1_000_000] if "-" not in text else [500_000, 499_999])


def test_normalise_on_10000_words_is_fast() -> None:
    tokens: list = []
    elapsed = _seconds(lambda: tokens.extend(normalise(TEN_THOUSAND_WORDS, VOCABULARY)[0]))
    assert elapsed < 1.0
    assert len(tokens) == 10_000


@pytest.mark.parametrize(
    ("text", "vocabulary", "terms", "notes"),
    [
        (
            "t-shirt",
            {"tshirts": 3},
            ["tshirts"],
            [
                "t-shirt -> tshirt (joined: the index has 'tshirts' as one word)",
                "tshirt -> tshirts (the form in the index vocabulary)",
            ],
        ),
        ("t-shirt", {}, ["t", "shirt"], []),
        # Pairs do not overlap, left to right: "a-b" is looked at, then "c" alone (as the regex did).
        ("hand-bag-strap", {"handbags": 1, "bagstrap": 1}, ["handbags", "strap"], None),
        ("x--y -z q-", {"xy": 1, "zq": 1}, ["x", "y", "z", "q"], []),
    ],
)
def test_hyphen_joining_keeps_its_meaning(
    text: str, vocabulary: dict[str, int], terms: list[str], notes: list[str] | None
) -> None:
    tokens, got_notes = normalise(text, vocabulary)
    assert [t.term for t in tokens] == terms
    if notes is not None:
        assert got_notes == notes


@pytest.fixture(scope="module")
def expander() -> Expander:
    return Expander(ExpansionSettings(), VOCABULARY)


@pytest.mark.parametrize("text", [ONE_MB_WORD, ONE_MB_HYPHENATED], ids=["1MB-word", "1MB-hyphenated"])
def test_expander_directly_on_a_1mb_word_is_fast(expander: Expander, text: str) -> None:
    """The expander itself has no caps (the engine has): it must still be linear."""
    expander.expand("red dress")  # loads synonyms/shades/WordNet once, outside the timing
    elapsed = _seconds(lambda: expander.expand(text))
    assert elapsed < 1.0


def test_expander_directly_on_10000_words_is_linear(expander: Expander) -> None:
    """10x the words costs about 10x the time (quadratic work would be 100x); the bounds are generous
    because later stages (WordNet, the colour palette) do real work per word."""
    expander.expand("red dress")
    thousand = " ".join(TEN_THOUSAND_WORDS.split()[:1_000])
    small = min(_seconds(lambda: expander.expand(thousand)) for _ in range(3))
    result = []
    large = _seconds(lambda: result.append(expander.expand(TEN_THOUSAND_WORDS)))
    assert len(result[0].clauses[0].text.split()) == 10_000
    assert large < 5.0
    assert large < 30 * max(small, 0.005)


def test_typo_correction_skips_words_longer_than_any_vocabulary_word(expander: Expander) -> None:
    word = "dresss" * 20
    assert correct(word, VOCABULARY, sorted(VOCABULARY), 85.0) is None  # over MAX_WORD_LENGTH
    assert len(word) > MAX_WORD_LENGTH
    typos = next(s for s in expander.expand(word).stages if s.name == "typos")
    assert typos.notes == [
        f"{word[:40]}... (120 letters): unknown to the index, longer than any word it could be a typo of"
    ]


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    docs = [
        Document(id="d1", title="Red wrap dress", attributes={"gender": "Women", "price": 40}),
        Document(id="d2", title="Blue canvas shoes", attributes={"gender": "Men", "price": 60}),
    ]
    config = EngineConfig(fields=FieldMapping(numeric=["price"]))
    with Engine.open(tmp_path / "idx", config, backend=MemoryBackend()) as opened:
        opened.ingest(docs)
        yield opened


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ONE_MB_WORD, "query text is 1,000,000 characters long; the limit is 1,000 (search.max_query_chars)"),
        (
            TEN_THOUSAND_WORDS,
            f"query text is {len(TEN_THOUSAND_WORDS):,} characters long; the limit is 1,000 "
            "(search.max_query_chars)",
        ),
        ("w " * 65, "query text has 65 words; the limit is 64 (search.max_query_words)"),
    ],
    ids=["1MB-word", "10000-words", "65-words"],
)
def test_engine_refuses_over_long_queries_at_once(engine: Engine, text: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        started = time.perf_counter()
        try:
            engine.search(text)
        finally:
            elapsed = time.perf_counter() - started
    assert str(caught.value) == message
    assert isinstance(caught.value, ConfigError)
    assert elapsed < 1.0


def test_queries_at_the_limits_run(engine: Engine) -> None:
    assert engine.search(HybridQuery(text="red dress " + "x" * 990)).query_text is not None
    assert [h.id for h in engine.search(" ".join(["red"] * 64)).hits] == ["d1"]


def test_limits_are_settings_and_none_lifts_them(engine: Engine) -> None:
    engine.config.search = SearchSettings(max_query_chars=None, max_query_words=None)
    hits: list = []
    elapsed = _seconds(lambda: hits.extend(engine.search("red " + ONE_MB_WORD).hits))
    assert elapsed < 1.0
    assert [h.id for h in hits] == ["d1"]
    engine.config.search = SearchSettings(max_query_words=2)
    with pytest.raises(QueryError, match=r"has 3 words; the limit is 2 \(search.max_query_words\)"):
        engine.search("red wrap dress")


@pytest.mark.parametrize("field", ["max_query_chars", "max_query_words"])
def test_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        SearchSettings(**{field: 0})


def test_cli_says_which_limit(tmp_path: Path) -> None:
    runner = CliRunner()
    shop = Path(__file__).resolve().parents[2] / "examples" / "shop" / "catalog.jsonl"
    index = tmp_path / "idx"
    assert runner.invoke(main, ["ingest", str(shop), "--index", str(index)]).exit_code == 0
    result = runner.invoke(main, ["search", "x" * 1_001, "--index", str(index)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Error: query text is 1,001 characters long; the limit is 1,000 (search.max_query_chars)" in (
        result.stderr
    )
