"""Query-level calibration features: how much of a query's wording the index knew (issue 13).

Counted where the engine expands a query, carried on QueryRun / RankedCandidates / SearchResult, and read
identically when search applies the fused calibration and when ``calibrate`` fits it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blendsearch.backends.memory import MemoryBackend
from blendsearch.calibration import calibrate_index, judged_hits
from blendsearch.calibration.fused import (
    FEATURE_NAMES,
    QUERY_FEATURES,
    candidate_features,
    hit_features,
    query_features,
)
from blendsearch.config import EngineConfig, ExpansionSettings
from blendsearch.documents import StoredDocument
from blendsearch.engine import Engine
from blendsearch.eval.judgements import Catalog, JudgedQuery
from blendsearch.expansion.expander import Expander, query_signals, unexpanded
from blendsearch.expansion.models import QuerySignals
from blendsearch.query.models import HybridQuery
from blendsearch.results import rank_run

VOCABULARY = {"red": 5, "shirt": 9, "shirts": 3, "navy": 2, "dress": 4}
#: No synonyms, WordNet or shades: the counts depend on the vocabulary alone.
PLAIN = ExpansionSettings(synonyms=False, wordnet=False, colours=False)


def _signals(text: str, settings: ExpansionSettings = PLAIN) -> QuerySignals:
    signals = Expander(settings, VOCABULARY).expand(text).signals
    assert signals is not None
    return signals


def test_known_words_count_as_typed_plurals_included_stopwords_left_out() -> None:
    assert _signals("red shirts for the navy") == QuerySignals(words=3, known=3)


def test_unknown_and_typo_words() -> None:
    assert _signals("red zzqx") == QuerySignals(words=2, known=1)  # nothing close: kept, unknown
    # "shrit" is unknown as typed (known counts before correction), then corrected to "shirt".
    assert _signals("red shrit") == QuerySignals(words=2, known=1, corrected=1)
    no_typos = PLAIN.model_copy(update={"typos": False})
    assert _signals("red shrit", no_typos) == QuerySignals(words=2, known=1)


def test_expansion_clauses_are_counted(tmp_path: Path) -> None:
    rules = tmp_path / "synonyms.txt"
    rules.write_text("slacks => dress\n")
    settings = PLAIN.model_copy(update={"synonyms": True, "synonyms_file": str(rules)})
    expansion = Expander(settings, VOCABULARY).expand("navy slacks")
    assert [c.text for c in expansion.clauses] == ["navy slacks", "dress"]
    assert expansion.signals == QuerySignals(words=2, known=1, expansions=1)


def test_without_expansion_the_vocabulary_check_alone() -> None:
    expected = QuerySignals(words=2, known=1)
    assert query_signals("red shrit", VOCABULARY) == expected
    assert unexpanded("red shrit", VOCABULARY).signals == expected
    assert unexpanded("red shrit").signals is None  # no vocabulary given: nothing counted
    off = Expander(PLAIN, VOCABULARY).expand("red shrit", {"enabled": False})
    assert off.signals == expected and [c.text for c in off.clauses] == ["red shrit"]
    assert query_signals("the a", VOCABULARY) == QuerySignals()  # stopwords only


def test_query_feature_values() -> None:
    x = query_features(QuerySignals(words=4, known=3, corrected=1, expansions=2))
    assert x.tolist() == pytest.approx([0.75, 0.25, np.log(3), np.log(5)])
    assert query_features(None).tolist() == [1.0, 0.0, 0.0, 0.0]  # no text: nothing unknown
    assert query_features(QuerySignals()).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert FEATURE_NAMES[-len(QUERY_FEATURES) :] == QUERY_FEATURES


# -- through the engine ------------------------------------------------------------------------------
COLOURS = ["red", "green", "blue"]
KINDS = ["shirt", "dress", "shoes", "bag"]


def _products() -> list[StoredDocument]:
    return [
        StoredDocument(id=f"{c}-{k}", title=f"{c} {k}", attributes={"colour": c.title(), "kind": k.title()})
        for c in COLOURS
        for k in KINDS
    ]


@pytest.fixture()
def engine(tmp_path: Path):  # noqa: ANN201
    backend = MemoryBackend()
    backend.upsert(_products())
    config = EngineConfig(expansion=PLAIN)
    with Engine.open(tmp_path / "idx", config, backend=backend) as opened:
        yield opened


def _catalog() -> Catalog:
    return Catalog([{"id": d.id, **d.attributes} for d in _products()])


def _judged(text: str) -> JudgedQuery:
    return JudgedQuery(qid="q", query=text, match={"colour": ["Red"], "kind": ["Shirt"]})


@pytest.mark.parametrize("text", ["red shirt", "red shrit", "red zzqx shirt"])
def test_search_and_fit_read_the_same_feature_rows(engine: Engine, text: str) -> None:
    fitted = judged_hits(engine, [_judged(text)], _catalog(), depth=50)[0].features
    run = engine.channel_results(HybridQuery(text=text, k=50))
    assert run.signals is not None and run.signals.words == len(text.split())
    ranked, _ = rank_run(run, run.query, None)
    assert ranked.signals == run.signals
    np.testing.assert_array_equal(candidate_features(ranked)[:50], fitted)
    result = engine.search(HybridQuery(text=text, k=50))
    assert result.signals == run.signals
    np.testing.assert_array_equal(hit_features(result.hits, result.signals)[:50], fitted)
    column = FEATURE_NAMES.index("query.known")
    assert fitted[:, column].tolist() == [run.signals.known / run.signals.words] * len(fitted)


def test_search_probabilities_use_the_query_features(engine: Engine) -> None:
    queries = [
        JudgedQuery(qid=f"q{i}", query=q, match={"colour": [c.title()], "kind": [k.title()]})
        for i, (q, c, k) in enumerate(
            (f"{c} {w}", c, k) for c in COLOURS for k in KINDS for w in (k, k[::-1], f"{k} zzqx")
        )
    ]
    engine.calibration = calibrate_index(engine, queries=queries, catalog=_catalog()).calibration
    fused = engine.calibration.fused
    assert fused is not None and fused.current
    for text in ("red shirt", "red shrit zzqx"):
        result = engine.search(HybridQuery(text=text, k=50))
        expected = fused.probability_of_features(judged_hits(engine, [_judged(text)], _catalog())[0].features)
        assert [h.probability for h in result.hits] == pytest.approx(expected.tolist())
        assert fused.probabilities(result.hits, result.signals).tolist() == pytest.approx(expected.tolist())


def test_an_engine_without_expansion_still_counts_known_words(engine: Engine) -> None:
    run = engine.channel_results(HybridQuery(text="red shrit", expand=False))
    assert run.signals == QuerySignals(words=2, known=1)
    assert engine.channel_results(HybridQuery(text="red shrit")).signals == QuerySignals(
        words=2, known=1, corrected=1
    )


def test_without_expansion_compounds_are_spelled_as_the_index_spells_them() -> None:
    """ "t-shirt" searches "tshirt" where the index has "Tshirts" (an attribute value), and nothing is
    added: no typo fixed, no joined pair ("hand bag" stays two words)."""
    vocabulary = {**VOCABULARY, "tshirts": 7, "handbags": 2, "hand": 1, "bag": 1}
    assert [c.text for c in unexpanded("Red T-shirt", vocabulary).clauses] == ["red tshirt"]
    assert [c.text for c in unexpanded("red t-shirt").clauses] == ["red t shirt"]  # no vocabulary
    assert [c.text for c in unexpanded("hand bag shrit", vocabulary).clauses] == ["hand bag shrit"]
    assert [c.text for c in unexpanded("men's shirt", vocabulary).clauses] == ["men shirt"]
