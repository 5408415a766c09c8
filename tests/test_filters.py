from __future__ import annotations

import pytest

from blendsearch.exceptions import ConfigError
from blendsearch.filters import RangeFilter, TermFilter, TermsFilter, matches, parse_filter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gender=Men", TermFilter(field="gender", value="Men")),
        ("colour=Red,Blue", TermsFilter(field="colour", values=["Red", "Blue"])),
        ("price>=10", RangeFilter(field="price", gte=10)),
        ("price<5.5", RangeFilter(field="price", lt=5.5)),
    ],
)
def test_parse_filter(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text", ["gender", "=Men", "price>=cheap", "gender="])
def test_parse_filter_rejects_bad_input(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_filter(text)


def test_matches_semantics() -> None:
    fields = {"gender": "Men", "price": 12.0, "colours": ["Navy Blue", "White"]}
    assert matches(fields, [TermFilter(field="gender", value="men")])  # case-insensitive
    assert matches(fields, [TermFilter(field="colours", value="white")])  # multi-valued: contains
    assert matches(fields, [TermsFilter(field="gender", values=["Women", "Men"])])
    assert matches(fields, [RangeFilter(field="price", gte=12, lt=13)])
    assert not matches(fields, [RangeFilter(field="price", gt=12)])
    assert not matches(fields, [TermFilter(field="missing", value="x")])
    assert not matches(fields, [TermFilter(field="gender", value="Men"), TermFilter(field="price", value=3)])
