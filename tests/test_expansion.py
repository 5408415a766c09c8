"""Query expansion, stage by stage, on a small hand-made vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blendsearch.config import ExpansionSettings
from blendsearch.exceptions import ConfigError
from blendsearch.expansion import Expander, parse_synonyms
from blendsearch.expansion import expander as expander_module
from blendsearch.expansion.colours import enrichment_family, load_shades
from blendsearch.expansion.normalise import normalise, variants, vocabulary_form
from blendsearch.expansion.synonyms import default_synonyms_path, load_synonyms
from blendsearch.expansion.typos import correct, edit_budget
from blendsearch.expansion.wordnet import LEXNAMES, _lexnames_text, load_wordnet
from blendsearch.text import stem

VOCAB = {
    "men": 200, "women": 150, "shirts": 90, "tshirts": 100, "trousers": 50, "sandals": 80, "sands": 2,
    "blue": 100, "navy": 30, "red": 60, "purple": 40, "sports": 70, "shoes": 120, "casual": 60,
    "sweater": 10, "handbags": 30, "bag": 30, "fall": 3, "guy": 2, "chump": 1, "mug": 4, "watches": 25,
}  # fmt: skip

ONLY = {"typos": False, "synonyms": False, "wordnet": False, "colours": False}


def expander(**settings: object) -> Expander:
    return Expander(ExpansionSettings(**settings), VOCAB)


def clauses(expansion) -> list[tuple[str, float]]:  # noqa: ANN001
    return [(c.text, c.weight) for c in expansion.clauses]


# -- normalisation -------------------------------------------------------------------------------------
def test_variants_cover_simple_plurals() -> None:
    assert variants("dress") == ["dress", "dresses"]
    assert variants("shirts") == ["shirts", "shirt"]
    assert variants("accessories") == ["accessories", "accessory", "accessori", "accessorie"]
    assert variants("xl") == ["xl"]


def test_vocabulary_form_prefers_the_frequent_known_spelling() -> None:
    assert vocabulary_form("shirt", VOCAB) == "shirts"
    assert vocabulary_form("shirts", VOCAB) == "shirts"
    assert vocabulary_form("jumper", VOCAB) is None


def test_normalise_folds_joins_and_maps_to_vocabulary_forms() -> None:
    tokens, notes = normalise("Men's T-Shirt, Crème!", VOCAB)
    pairs = [(t.surface, t.term) for t in tokens]
    assert pairs == [("men", "men"), ("tshirt", "tshirts"), ("creme", "creme")]
    assert notes == [
        "t-shirt -> tshirt (joined: the index has 'tshirts' as one word)",
        "tshirt -> tshirts (the form in the index vocabulary)",
    ]


def test_normalise_stage_output_and_vector_text() -> None:
    result = expander().expand("Blue SHIRT", ONLY)
    assert result.stages[0].name == "normalise"
    assert result.stages[0].output == "blue shirts"
    assert clauses(result) == [("blue shirts", 1.0)]
    # The vector channel reads the user's own word forms, not the index's spelling.
    assert result.vector_text == "blue shirt"


def test_two_words_the_index_writes_as_one_also_search_the_compound() -> None:
    result = expander().expand("hand bag", ONLY)
    assert clauses(result) == [("hand bag handbags", 1.0)]
    assert result.vector_text == "hand bag"
    assert result.stages[0].notes == ["hand bag -> also handbags (the index has it as one word)"]


def test_a_number_the_stemmer_files_apart_also_searches_the_other() -> None:
    # Porter: "ties" -> "ti" but "tie" -> "tie"; a query for "tie" must still reach the catalogue's "Ties".
    assert stem("ties") != stem("tie")
    vocabulary = {**VOCAB, "ties": 56, "tie": 54}
    result = Expander(ExpansionSettings(), vocabulary).expand("red tie", ONLY)
    assert clauses(result) == [("red tie ties", 1.0)]
    assert result.vector_text == "red tie"
    assert "tie -> also ties (the stemmer files them under different stems)" in result.stages[0].notes
    # The usual case, one stem for both numbers, adds nothing; a known form the index lacks adds nothing.
    assert clauses(expander().expand("red shirt", ONLY)) == [("red shirts", 1.0)]
    assert clauses(expander().expand("tie", ONLY)) == [("tie", 1.0)]


# -- typos -------------------------------------------------------------------------------------------
def test_edit_budget_grows_with_length() -> None:
    assert [edit_budget(w) for w in ("ab", "abc", "abcd", "abcde", "abcdef")] == [0, 1, 1, 1, 2]


def test_sandls_is_corrected_to_sandals_with_its_score() -> None:
    result = expander().expand("sandls", {**ONLY, "typos": True})
    assert clauses(result) == [("sandals", 1.0)]
    assert result.vector_text == "sandals"
    typos = result.stages[1]
    assert (typos.input, typos.output) == ("sandls", "sandals")
    assert typos.notes == [
        "sandls -> sandals (score 97.1, not in index vocabulary; 'sandals' is in 80 documents)"
    ]


def test_ties_prefer_the_more_frequent_word() -> None:
    # sandals scores 97.1 and sands 96.7: within the tie margin, so document frequency decides.
    rare_sandals = {"sandals": 1, "sands": 500}
    fix = correct("sandls", rare_sandals, sorted(rare_sandals), 85.0)
    assert fix is not None and fix.correction == "sands"
    fix = correct("sandls", VOCAB, sorted(VOCAB), 85.0)
    assert fix is not None and (fix.correction, fix.score, fix.frequency) == ("sandals", 97.1, 80)


def test_known_words_and_short_words_are_left_alone() -> None:
    vocab = {"blue": 5, "cup": 5, "shirts": 5}
    ex = Expander(ExpansionSettings(), vocab)
    # "shirt" is known through its plural; "cap" is one substitution from "cup": too unsure for 3 letters.
    assert clauses(ex.expand("shirt cap", ONLY | {"typos": True})) == [("shirts cap", 1.0)]
    # One missing letter on a 3-letter word is confident enough.
    assert clauses(ex.expand("blu", ONLY | {"typos": True})) == [("blue", 1.0)]


def test_words_a_later_stage_knows_are_not_typos() -> None:
    vocab = {**VOCAB, "slick": 40}
    ex = Expander(ExpansionSettings(wordnet=False), vocab)
    result = ex.expand("slacks")
    assert result.stages[1].notes == ["slacks: unknown to the index, kept (a synonym rule knows it)"]
    assert clauses(result) == [("slacks", 1.0), ("trousers", 0.5)]
    # With the synonyms stage off, nothing vouches for "slacks": it is corrected to "slick".
    assert clauses(ex.expand("slacks", {"synonyms": False, "colours": False})) == [("slick", 1.0)]


def test_threshold_is_respected() -> None:
    result = expander().expand("sandls", ONLY | {"typos": True, "typo_threshold": 98.0})
    assert clauses(result) == [("sandls", 1.0)]
    assert result.stages[1].notes == ["sandls: unknown to the index, no word close enough (threshold 98)"]


def test_no_vocabulary_means_no_correction() -> None:
    result = Expander(ExpansionSettings(), {}).expand("sandls", ONLY | {"typos": True})
    assert clauses(result) == [("sandls", 1.0)]
    assert result.stages[1].notes == ["the index has no vocabulary yet: nothing to correct against"]


# -- synonyms ----------------------------------------------------------------------------------------
def test_parse_solr_synonyms() -> None:
    rules = parse_synonyms(
        "# comment\n"
        "\n"
        "sneakers, trainers, running shoes\n"
        "slacks, chinos => trousers, dress pants\n"
        "a\\,b => c\n"
        "lonely\n"
        "x => y => z\n"
        " => nothing\n",
        source="t.txt",
    )
    assert rules.rules == 3
    assert rules.table.get((stem("trainers"),)) == ("sneakers", "running shoes")
    assert rules.table.get((stem("running"), stem("shoes"))) == ("sneakers", "trainers")
    assert rules.table.get((stem("chinos"),)) == ("trousers", "dress pants")
    assert rules.table.get((stem("trousers"),)) == ()  # one-way rules do not go back
    assert rules.table.get(("a", "b")) == ("c",)
    assert rules.problems == [
        "t.txt:6: an equivalence needs at least two phrases",
        "t.txt:7: more than one '=>'",
        "t.txt:8: '=>' needs phrases on both sides",
    ]


def test_packaged_synonyms_parse_cleanly() -> None:
    rules = load_synonyms()
    assert rules.problems == []
    assert rules.rules > 60
    assert default_synonyms_path().name == "synonyms.txt"


def test_slacks_expand_to_trousers_with_less_weight() -> None:
    result = expander(expansion_weight=0.4).expand("navy slacks", ONLY | {"synonyms": True})
    assert clauses(result) == [("navy slacks", 1.0), ("trousers", 0.4)]
    assert result.stages[2].output == "trousers"
    assert result.stages[2].notes == ["slacks -> trousers (synonyms in synonyms.txt)"]
    assert result.vector_text == "navy slacks trousers"  # the model may know only the catalogue's word


def test_unsearched_expansions_stay_out_of_vector_text() -> None:
    result = expander(expansion_weight=0.0).expand("navy slacks", ONLY | {"synonyms": True})
    assert clauses(result) == [("navy slacks", 1.0)]
    assert result.vector_text == "navy slacks"


def test_multi_word_synonyms_both_sides(tmp_path: Path) -> None:
    file = tmp_path / "syn.txt"
    file.write_text("running shoes => sports shoes\n")
    result = expander(synonyms_file=str(file)).expand("red running shoes", ONLY | {"synonyms": True})
    # "shoes" is already the user's: the expansion clause adds only the new word.
    assert clauses(result) == [("red running shoes", 1.0), ("sports", 0.5)]
    assert result.stages[2].output == "sports shoes"


def test_expansions_missing_from_the_vocabulary_are_skipped(tmp_path: Path) -> None:
    file = tmp_path / "syn.txt"
    file.write_text("jumper => pullover, sweater\n")
    result = expander(synonyms_file=str(file)).expand("jumper", ONLY | {"synonyms": True})
    assert clauses(result) == [("jumper", 1.0), ("sweater", 0.5)]
    assert result.stages[2].notes == [
        "jumper -> sweater (synonyms in syn.txt)",
        "jumper: skipped pullover (not in index vocabulary)",
    ]


def test_reach_counts_documents_by_stem_and_a_phrase_by_its_rarest_word() -> None:
    ex = Expander(ExpansionSettings(), {"shirt": 5, "shirts": 90, "sports": 70, "shoes": 120, "for": 300})
    assert ex.reach("shirt") == 95  # the backend matches by stem: "shirt" also finds "shirts"
    assert ex.reach("sports shoes") == 70
    assert ex.reach("shoes for sports") == 70  # stop words do not count
    assert ex.reach("jumper") == 0


def test_a_word_the_catalogue_uses_is_not_widened_to_a_sibling(tmp_path: Path) -> None:
    # WordNet and loose synonym lists call shorts "trunks" and flip-flops "thongs": in a catalogue that says
    # "Shorts" in 120 documents, adding the 15 "boxers" documents only pushes underwear above shorts.
    file = tmp_path / "syn.txt"
    file.write_text("shorts => boxers\ntee => tshirts\n")
    vocab = {"shorts": 120, "boxers": 15, "tee": 3, "tshirts": 100, "men": 200}
    ex = Expander(ExpansionSettings(synonyms_file=str(file)), vocab)
    only_synonyms = ONLY | {"synonyms": True}
    result = ex.expand("men shorts", only_synonyms)
    assert clauses(result) == [("men shorts", 1.0)]
    assert result.stages[2].notes == [
        "shorts: not widened to boxers (15) (the index has 'shorts' in 120 documents, "
        "at least rare_ratio 0.1 of theirs)"
    ]
    # A word the catalogue rarely uses is widened: 3 "tee" documents against 100 "tshirts".
    assert clauses(ex.expand("men tee", only_synonyms)) == [("men tee", 1.0), ("tshirts", 0.5)]
    # rare_ratio=None widens every word (per query here); 0 widens only words the index lacks.
    assert clauses(ex.expand("men shorts", only_synonyms | {"rare_ratio": None})) == [
        ("men shorts", 1.0),
        ("boxers", 0.5),
    ]
    assert clauses(ex.expand("men tee", only_synonyms | {"rare_ratio": 0})) == [("men tee", 1.0)]


def test_missing_synonyms_file_turns_the_stage_off_with_a_notice(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    result = expander(synonyms_file=str(missing)).expand("slacks", ONLY | {"synonyms": True})
    assert clauses(result) == [("slacks", 1.0)]
    assert result.notices == [f"synonyms file {missing} does not exist: the synonyms stage is off"]


# -- colours -----------------------------------------------------------------------------------------
def test_aubergine_expands_to_purple() -> None:
    result = expander().expand("aubergine shirt", ONLY | {"colours": True})
    assert clauses(result) == [("aubergine shirts", 1.0), ("purple", 0.5)]
    assert result.stages[4].notes == ["aubergine -> purple (colour shade)"]


def test_a_shade_the_catalogue_uses_widely_is_not_widened() -> None:
    # 3 "navy" documents of 9 "blue" ones: the catalogue speaks the user's word, "blue" would only re-rank.
    vocab = {"navy": 3, "blue": 9, "shirts": 4}
    result = Expander(ExpansionSettings(), vocab).expand("navy shirts", ONLY | {"colours": True})
    assert clauses(result) == [("navy shirts", 1.0)]
    assert result.stages[4].notes == [
        "navy: not widened to navy blue (3), blue (9) (the index has 'navy' in 3 documents, "
        "at least rare_ratio 0.1 of theirs)"
    ]


def test_a_rare_shade_is_widened_to_its_family() -> None:
    # "navy blue" reaches no more than "navy" does; the family "blue" reaches 40 times as many products.
    vocab = {"navy": 1, "blue": 40, "shirts": 4}
    result = Expander(ExpansionSettings(), vocab).expand("navy shirts", ONLY | {"colours": True})
    assert result.stages[4].output == "blue"
    assert clauses(result) == [("navy shirts", 1.0), ("blue", 0.5)]


def test_colour_names_absent_from_the_index_are_not_added() -> None:
    result = Expander(ExpansionSettings(), {"dress": 3}).expand("crimson dress", ONLY | {"colours": True})
    assert clauses(result) == [("crimson dress", 1.0)]
    assert result.stages[4].notes == ["crimson: skipped red (not in index vocabulary)"]


def test_shades_table_uses_known_families() -> None:
    families = {"red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "beige", "white",
                "grey", "black", "gold", "silver", "multi"}  # fmt: skip
    table = load_shades()
    assert len(table) > 120
    assert {names[-1] for key in table._entries for names in table.get(key)} <= families
    assert table.get((stem("aubergine"),)) == (("purple",),)


def test_enrichment_palette_families() -> None:
    pytest.importorskip("blendsearch.enrichment.colours")
    assert enrichment_family("teal") == "blue"
    assert enrichment_family("Navy Blue") == "blue"
    assert enrichment_family("shirt") is None
    assert enrichment_family("blue") is None  # a family is no expansion of itself


# -- wordnet -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wordnet_available() -> None:
    reader, reason = load_wordnet()
    if reader is None:
        pytest.skip(f"WordNet not available: {reason}")


def test_wordnet_adds_product_synonyms_known_to_the_index(wordnet_available: None) -> None:
    result = expander().expand("jumper", ONLY | {"wordnet": True})
    assert result.stages[3].output == "sweater"
    assert result.stages[3].notes[0] == "jumper -> sweater (WordNet: sweater.n.01 under clothing, " + (
        "jumper.n.04 under clothing, jumper.n.06 under clothing, jumper.n.07 under clothing)"
    )
    assert clauses(result) == [("jumper", 1.0), ("sweater", 0.5)]


def test_wordnet_leaves_a_word_the_catalogue_uses_alone(wordnet_available: None) -> None:
    vocab = {**VOCAB, "jumper": 40}  # a catalogue that says "jumper" more often than "sweater" (10)
    result = Expander(ExpansionSettings(), vocab).expand("jumper", ONLY | {"wordnet": True})
    assert clauses(result) == [("jumper", 1.0)]
    assert result.stages[3].notes == [
        "jumper: skipped pinafore, pinny (not in index vocabulary)",
        "jumper: not widened to sweater (10) (the index has 'jumper' in 40 documents, "
        "at least rare_ratio 0.1 of theirs)",
    ]


def test_wordnet_does_not_turn_a_mug_into_a_fall_guy(wordnet_available: None) -> None:
    # WordNet files "mug" under chump / fall guy (a person) and under containers: neither is a product.
    result = expander().expand("mug", ONLY | {"wordnet": True})
    assert clauses(result) == [("mug", 1.0)]
    assert result.stages[3].notes == ["no product sense in WordNet"]


def test_wordnet_uses_parents_only_for_unknown_words(wordnet_available: None) -> None:
    # "tote" is unknown to the index: its parent "bag" is offered; the synonym "holdall" is not indexed.
    result = expander().expand("tote", ONLY | {"wordnet": True})
    assert clauses(result) == [("tote", 1.0), ("bag", 0.5)]


def test_missing_wordnet_is_one_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expander_module, "load_wordnet", lambda: (None, "no database here"))
    result = expander().expand("jumper", ONLY | {"wordnet": True})
    assert result.notices == ["WordNet not found (no database here): the wordnet stage is off"]
    assert result.stages[3].notes == ["off: no database here"]


def test_load_wordnet_reports_where_it_looked(tmp_path: Path) -> None:
    reader, reason = load_wordnet(search_dirs=[tmp_path], cache_dir=tmp_path / "c", use_nltk_data=False)
    assert reader is None
    assert reason is not None and str(tmp_path) in reason and "apt-get install wordnet-base" in reason


def test_lexnames_file_is_the_standard_list() -> None:
    lines = _lexnames_text().splitlines()
    assert len(lines) == len(LEXNAMES) == 45
    assert lines[0] == "00\tadj.all\t3"
    assert lines[6] == "06\tnoun.artifact\t1"
    assert lines[44] == "44\tadj.ppl\t3"


# -- the whole pipeline ------------------------------------------------------------------------------
def test_all_stages_together_weigh_expansions_less() -> None:
    result = expander().expand("Aubergine slacks", {"wordnet": False})
    assert [s.name for s in result.stages] == ["normalise", "typos", "synonyms", "wordnet", "colours"]
    assert clauses(result) == [("aubergine slacks", 1.0), ("trousers", 0.5), ("purple", 0.5)]
    assert all(c.weight < result.clauses[0].weight for c in result.clauses[1:])


def test_per_query_override_disables_a_stage() -> None:
    ex = expander()
    assert ("trousers", 0.5) in clauses(ex.expand("slacks", {"wordnet": False}))
    result = ex.expand("slacks", {"wordnet": False, "synonyms": False})
    assert clauses(result) == [("slacks", 1.0)]
    assert result.stages[2].notes == ["off"]
    assert ex.settings.synonyms is True  # the engine's settings are untouched


def test_enabled_false_searches_the_plain_words() -> None:
    result = expander().expand("Navy slacks", {"enabled": False})
    assert clauses(result) == [("navy slacks", 1.0)]
    assert result.stages == []


def test_bad_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid expansion options"):
        expander().expand("slacks", {"typo_threshold": 150})
    with pytest.raises(ConfigError):
        expander().expand("slacks", {"no_such_stage": True})


def test_zero_expansion_weight_searches_only_the_user_words() -> None:
    result = expander(expansion_weight=0.0).expand("slacks", {"wordnet": False})
    assert clauses(result) == [("slacks", 1.0)]
    assert result.notices == ["expansion_weight is 0: expansions are listed but not searched"]


def test_empty_text_gives_no_clauses() -> None:
    result = expander().expand("!!!", ONLY)
    assert result.clauses == [] and result.vector_text == ""


# -- the CLI -------------------------------------------------------------------------------------------
def _index(path: Path) -> Path:
    from blendsearch.documents import StoredDocument
    from blendsearch.engine import Engine

    titles = ["Navy blue trousers", "Leather sandals", "Red sports shoes", "Purple kurta"]
    with Engine.open(path) as engine:
        engine.backend.upsert([StoredDocument(id=str(i), title=t) for i, t in enumerate(titles)])
        engine.backend.flush()
    return path


def test_cli_expand_shows_each_stage(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from blendsearch.cli import main

    index = _index(tmp_path / "idx")
    runner = CliRunner()
    args = ["expand", "Navy slacks sandls", "--index", str(index), "--set", "wordnet=false"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "query: Navy slacks sandls"
    assert "  typos      navy slacks sandals" in lines
    assert "               slacks -> trousers (synonyms in synonyms.txt)" in lines
    assert "  'navy slacks sandals'  1" in lines and "  'trousers'  0.5" in lines
    as_json = runner.invoke(main, ["expand", "sandls", "--index", str(index), "--json"])
    data = json.loads(as_json.output)
    assert data["clauses"] == [{"text": "sandals", "weight": 1.0}]
    assert [s["name"] for s in data["stages"]] == ["normalise", "typos", "synonyms", "wordnet", "colours"]
    bad = runner.invoke(main, ["expand", "x", "--index", str(index), "--set", "typo_threshold=500"])
    assert bad.exit_code != 0 and "invalid expansion options" in bad.output
    missing = runner.invoke(main, ["expand", "x", "--index", str(tmp_path / "none")])
    assert missing.exit_code != 0 and "no blendsearch index" in missing.output
