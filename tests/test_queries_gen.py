"""Query-set generators: deterministic, judged correctly, and worded unlike the dev set / the catalogue."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from blendsearch.eval.judgements import Catalog, judge, load_queries, read_catalog
from blendsearch.eval.queries import UNLIKE_KINDS, generate_train_queries, generate_unlike_queries, typo
from blendsearch.eval.wordlists import COLOUR_FAMILIES, TYPE_NAMES
from blendsearch.text import words

BENCH_QUERIES = Path(__file__).resolve().parents[1] / "benchmarks" / "queries"

KINDS = ["Shirts", "Tshirts", "Watches", "Handbags", "Trousers", "Casual Shoes"]
COLOURS = ["Blue", "Navy Blue", "Red", "Black", "White", "Purple", "Multi"]
GENDERS = ["Men", "Women", "Unisex", "Boys"]
USAGES = ["Casual", "Formal", "Sports"]


def _catalog() -> Catalog:
    rows = []
    combos = itertools.product(KINDS, COLOURS, GENDERS, USAGES)
    for number, (kind, colour, gender, usage) in enumerate(combos):
        rows.append(
            {
                "id": str(number),
                "split": "train" if number % 3 else "test",
                "articleType": kind,
                "baseColour": colour,
                "gender": gender,
                "usage": usage,
                "title": f"{gender} {colour} {kind}",
            }
        )
    return Catalog(rows)


def _catalogue_words(match: dict[str, list[str]]) -> set[str]:
    """Every word the catalogue itself would use for this judgement rule (values and type names)."""
    out: set[str] = set()
    for values in match.values():
        for value in values:
            out.update(words(value))
            out.update(words(TYPE_NAMES.get(value, "")))
    return out


def test_generators_are_deterministic_per_seed() -> None:
    catalog = _catalog()
    first = generate_train_queries(catalog, n=40, seed=3)
    assert first == generate_train_queries(catalog, n=40, seed=3)
    assert [q.query for q in first] != [q.query for q in generate_train_queries(catalog, n=40, seed=4)]
    unlike = generate_unlike_queries(catalog, n=40, seed=3)
    assert unlike == generate_unlike_queries(catalog, n=40, seed=3)
    assert len(first) == 40 and len(unlike) == 40
    assert [q.qid for q in unlike[:2]] == ["u0000", "u0001"]


def test_train_queries_use_other_word_orders_than_the_dev_set() -> None:
    catalog = _catalog()
    queries = generate_train_queries(catalog, n=60, seed=0)
    train_ids = set(catalog.ids("train"))
    for query in queries:
        tokens = query.query.split()
        # The dev set writes bare value words in some order ("men blue shirt"); these never do.
        assert {"for", "in", "coloured", "wear"} & set(tokens) or "'s" in query.query, query.query
        # relevant counts the train split, which the query was built from.
        [judgement] = judge([query], catalog, sorted(train_ids))
        assert query.relevant == judgement.relevant >= 1


def test_unlike_queries_leave_the_catalogues_words() -> None:
    catalog = _catalog()
    queries = generate_unlike_queries(catalog, n=60, seed=1)
    seen_kinds: set[str] = set()
    for query in queries:
        assert query.kinds and set(query.kinds) <= set(UNLIKE_KINDS)
        seen_kinds.update(query.kinds)
        foreign = set(words(query.query)) - _catalogue_words(query.match)
        assert foreign, f"{query.query!r} uses only catalogue words"
        assert query.relevant == judge([query], catalog, catalog.ids("test"))[0].relevant >= 1
    assert seen_kinds == set(UNLIKE_KINDS)


def test_colour_families_hold_the_colour_itself() -> None:
    queries = generate_unlike_queries(_catalog(), n=60, seed=2)
    for query in queries:
        colours = query.match.get("baseColour")
        if colours:
            assert colours in COLOUR_FAMILIES.values()
    assert all("Multi" not in (q.match.get("baseColour") or []) for q in queries)


@pytest.mark.parametrize(
    ("seed", "expected"),
    [(0, "trouders"), (1, "trouers"), (4, "trouserrs")],
)
def test_typo_is_one_deterministic_edit_keeping_the_first_letter(seed: int, expected: str) -> None:
    assert typo("trousers", np.random.default_rng(seed)) == expected
    assert typo("tee", np.random.default_rng(seed)) == "tee"


@pytest.mark.slow
def test_committed_sets_are_what_the_generators_write(fashion_dir: Path) -> None:
    catalog = read_catalog(fashion_dir / "products.csv")
    train = load_queries(BENCH_QUERIES / "train-tune.jsonl")
    unlike = load_queries(BENCH_QUERIES / "unlike-test.jsonl")
    assert train == generate_train_queries(catalog, split="train", n=300, seed=0)
    assert unlike == generate_unlike_queries(catalog, split="test", n=300, seed=0)
    dev = {" ".join(sorted(q.query.split())) for q in load_queries(fashion_dir / "queries-dev.jsonl")}
    assert not dev & {" ".join(sorted(q.query.split())) for q in train + unlike}
    judge(unlike, catalog, catalog.ids("test"))  # raises if a relevant count is off
    # The hand-written set (benchmarks/build_shopper_queries.py): judged as written, none of the dev queries.
    shopper = load_queries(BENCH_QUERIES / "shopper-test.jsonl")
    judge(shopper, catalog, catalog.ids("test"))
    assert all(q.relevant is not None and q.relevant >= 3 for q in shopper)
    assert not dev & {" ".join(sorted(q.query.split())) for q in shopper}


def test_generate_command_writes_the_generators_output(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from blendsearch.cli import main

    catalog = _catalog()
    path = tmp_path / "products.csv"
    columns = list(next(iter(catalog.rows.values())))
    path.write_text(
        ",".join(columns)
        + "\n"
        + "".join(",".join(str(r[c]) for c in columns) + "\n" for r in catalog.rows.values())
    )
    out = tmp_path / "unlike.jsonl"
    args = ["eval", "generate", "--catalog", str(path), "--kind", "unlike", "--n", "12", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert load_queries(out) == generate_unlike_queries(read_catalog(path), split="test", n=12, seed=0)
