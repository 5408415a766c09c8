"""The shipped WordNet subset answers as nltk's reader over the full database does, and loads on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from blendsearch.expansion import wordnet as wordnet_module
from blendsearch.expansion.wordnet import (
    PRODUCT_ROOTS,
    is_english_word,
    load_subset,
    load_wordnet,
    product_senses,
    system_wordnet_dirs,
)
from blendsearch.expansion.wordnet_subset import SUBSET_FILE, WordNetSubset, dumps, read_subset

#: Query words a shop sees, in several inflections, plus two-word nouns and words with no product sense.
PRODUCT_WORDS = """
dress dresses frock jumper jumpers sweater cardigan hoodie tee shirt shirts tshirt blouse top tops trousers
pants jeans jean denim shorts skirt skirts gown coat coats jacket blazer parka anorak vest waistcoat suit
tuxedo kimono sari pyjamas pajamas nightgown robe bra panties boxers briefs socks sock stockings tights
leggings scarf scarves shawl glove gloves mitten hat hats cap beanie beret bonnet helmet shoe shoes sneaker
sneakers trainers boot boots bootie booties sandal sandals slipper slippers loafer loafers pump pumps heel
heels moccasin clog clogs flip-flop thong espadrille bag bags handbag purse tote wallet backpack rucksack
satchel clutch briefcase luggage suitcase belt belts tie ties bowtie necklace bracelet earring earrings ring
rings brooch pendant watch watches wristwatch clock sunglasses spectacles glasses goggles umbrella perfume
cologne lipstick mascara makeup shampoo soap toothbrush comb mug cup jug vase lamp phone laptop camera toy
running red blue dresses children men women geese mice knives wolves churches boxes buses ladies bigger
happiest went
""".split()
#: Two-word nouns (looked up as "tote_bag" and "tote-bag").
PHRASES = "tote bag|tank top|running shoe|tennis shoe|blue jean|dinner jacket|evening gown|t shirt|swim suit"


@pytest.fixture(scope="module")
def subset() -> WordNetSubset:
    reader, reason = load_subset()
    assert reason is None
    assert isinstance(reader, WordNetSubset)
    return reader


@pytest.fixture(scope="module")
def nltk_reader(tmp_path_factory: pytest.TempPathFactory) -> object:
    folder = next((d for d in system_wordnet_dirs() if (d / "index.noun").is_file()), None)
    if folder is None:
        pytest.skip("no WordNet database installed (apt-get install wordnet-base) to compare the subset with")
    cache = tmp_path_factory.mktemp("wordnet")  # not the user's home: this fixture outlives the autouse one
    reader, reason = load_wordnet([folder], cache, use_nltk_data=False, use_subset=False)
    assert reader is not None, reason
    return reader


def test_default_reader_is_the_shipped_subset(subset: WordNetSubset) -> None:
    reader, reason = load_wordnet()
    assert reason is None and isinstance(reader, WordNetSubset)
    assert subset.roots == PRODUCT_ROOTS
    assert {pos: len(names) for pos, names in subset.lemmas.items()} == {
        "n": 117798,
        "v": 11529,
        "a": 21479,
        "r": 4481,
    }


def test_subset_file_is_small_and_licensed() -> None:
    assert SUBSET_FILE.stat().st_size < 1_000_000
    licence = (SUBSET_FILE.parent / "WORDNET-LICENSE.txt").read_text()
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in licence


def test_product_senses_match_nltk(subset: WordNetSubset, nltk_reader: object) -> None:
    words = (
        PRODUCT_WORDS + PHRASES.split("|") + sorted(subset.nouns)
    )  # every noun with a product sense, as WordNet spells it
    words = [w.replace("_", " ") for w in words]
    differ = [w for w in words if product_senses(subset, w) != product_senses(nltk_reader, w)]
    assert differ == []
    assert product_senses(subset, "tote")[0].hypernyms == ("bag",)


def test_english_words_match_nltk(subset: WordNetSubset, nltk_reader: object) -> None:
    vocabulary = Path(__file__).resolve().parents[1] / "examples" / "shop" / "catalog.jsonl"
    words = PRODUCT_WORDS + vocabulary.read_text().lower().replace('"', " ").split()
    words += ["xqzt", "dresss", "jumpr", "sneekers", "colour", "greyish", "fastest", "abaci", "hardrock"]
    words += [w + suffix for w in PRODUCT_WORDS[:80] for suffix in ("s", "es", "ed", "ing", "er", "est")]
    differ = [w for w in words if is_english_word(subset, w) != is_english_word(nltk_reader, w)]
    assert differ == []
    assert [is_english_word(subset, w) for w in ("abaci", "went", "xqzt")] == [True, True, False]


def test_roundtrip_is_byte_identical(subset: WordNetSubset, tmp_path: Path) -> None:
    copy = tmp_path / "subset.tsv.gz"
    copy.write_bytes(dumps(subset))
    again = read_subset(copy)
    assert again == subset
    assert dumps(again) == dumps(subset)


def test_unusable_subset_falls_back_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.tsv.gz"
    broken.write_bytes(b"not gzip")
    reader, reason = load_subset(broken)
    assert reader is None and reason is not None and "BadGzipFile" in reason

    monkeypatch.setattr(wordnet_module, "load_subset", lambda: load_subset(broken))
    monkeypatch.setattr(wordnet_module, "_READERS", {})
    reader, reason = load_wordnet(use_nltk_data=False, search_dirs=[tmp_path], use_subset=True)
    assert reader is None
    assert reason is not None and reason.startswith(f"the packaged WordNet subset {broken} is unreadable")
    assert "apt-get install wordnet-base" in reason


def test_missing_subset_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "missing.tsv.gz"
    assert load_subset(missing) == (None, f"the packaged WordNet subset {missing} is missing")


def test_subset_for_other_categories_is_refused(subset: WordNetSubset, tmp_path: Path) -> None:
    other = tmp_path / "other.tsv.gz"
    other.write_bytes(dumps(WordNetSubset({"toy.n.01"}, subset.lemmas, subset.exceptions, {}, {})))
    assert load_subset(other) == (
        None,
        f"the WordNet subset at {other} was built for other product categories (rebuild it)",
    )


def test_expansions_match_nltk(
    subset: WordNetSubset, nltk_reader: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blendsearch.config import ExpansionSettings
    from blendsearch.expansion import expander as expander_module

    # An index that knows most product words (some often, some rarely), so synonyms, parents and the
    # rare_ratio rule all come into play; typos ("jumpr") go through the English-word check.
    vocabulary = {word: 1 + (i * 7) % 50 for i, word in enumerate(PRODUCT_WORDS) if "-" not in word}
    queries = PRODUCT_WORDS + PHRASES.split("|") + ["red jumpr", "blue frok with pockets", "leather totes"]
    outputs = []
    for reader in (subset, nltk_reader):
        monkeypatch.setattr(expander_module, "load_wordnet", lambda reader=reader: (reader, None))
        for settings in (ExpansionSettings(), ExpansionSettings(rare_ratio=None)):
            expander = expander_module.Expander(settings, vocabulary)
            outputs.append([expander.expand(query).model_dump() for query in queries])
    assert outputs[:2] == outputs[2:]
    assert sum("WordNet:" in str(out["stages"]) for out in outputs[0]) == 70
    # Synonyms, WordNet and colours together ("ties" searches "tie" in its own clause: normalisation adds
    # the number the Porter stemmer files apart, so no expansion clause is needed for it).
    assert sum(len(out["clauses"]) > 1 for out in outputs[1]) == 54
