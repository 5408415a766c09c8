"""``map_exceptions``: the one place a third-party error becomes blendsearch's (issue 10)."""

from __future__ import annotations

import pytest

from blendsearch.exceptions import BackendError, EncoderError, IndexError_, first_line, map_exceptions


def test_the_first_matching_entry_wins_and_keeps_the_cause() -> None:
    original = KeyError("k")
    mapping = {KeyError: IndexError_, LookupError: BackendError}
    with pytest.raises(IndexError_) as info, map_exceptions(mapping):
        raise original
    assert info.value.__cause__ is original and str(info.value) == "'k'"


def test_a_message_function_words_the_error() -> None:
    def worded(exc: BaseException) -> str:
        return f"cannot load model 'm': {first_line(exc)} (no network?)"

    with pytest.raises(EncoderError) as info, map_exceptions({Exception: EncoderError}, worded):
        raise OSError("404 Client Error\nTraceback-sized details\nmore")
    assert str(info.value) == "cannot load model 'm': 404 Client Error (no network?)"


def test_unmapped_and_own_errors_pass_through() -> None:
    with pytest.raises(ValueError), map_exceptions({KeyError: IndexError_}):
        raise ValueError("x")
    with pytest.raises(BackendError, match="mine"), map_exceptions({Exception: EncoderError}):
        raise BackendError("mine")


def test_first_line_falls_back_to_the_type_name() -> None:
    assert first_line(RuntimeError("  \n")) == "RuntimeError"
    assert first_line(RuntimeError(" a \n b")) == "a"
