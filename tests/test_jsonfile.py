"""The one reader of versioned JSON files (index info, calibration, model folder; issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from blendsearch.calibration.model import load_calibration, save_calibration
from blendsearch.encoders.own.folder import read_model_info, write_model_info
from blendsearch.exceptions import EncoderError, IndexCorruptError, IndexFormatError
from blendsearch.jsonfile import load_versioned_model, read_versioned_json

HINT = "run `fix it`"


class Info(BaseModel):
    format_version: int
    name: str


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty"),
        (b"{not json", "is not valid JSON"),
        (b"[1, 2]", "does not hold a JSON object"),
        (b"\xff\xfe", "cannot be read"),
    ],
)
def test_a_damaged_file_raises_the_callers_error_with_its_hint(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    file = tmp_path / "f.json"
    file.write_bytes(content)
    with pytest.raises(IndexCorruptError) as info:
        read_versioned_json(file, 1, hint=HINT)
    assert str(info.value).startswith(f"{file} {reason}") and str(info.value).endswith(HINT)
    with pytest.raises(EncoderError, match=reason):
        read_versioned_json(file, 1, hint=HINT, damaged=EncoderError)


def test_versions_are_checked_exactly_or_up_to(tmp_path: Path) -> None:
    file = tmp_path / "f.json"
    assert read_versioned_json(file, 1, hint=HINT) is None
    file.write_text(json.dumps({"format_version": 1, "name": "a"}))
    assert read_versioned_json(file, 2, hint=HINT, older=True) == {"format_version": 1, "name": "a"}
    with pytest.raises(IndexFormatError) as info:
        read_versioned_json(file, 2, hint=HINT)
    assert str(info.value) == f"{file} has format version 1; this blendsearch reads version 2: {HINT}"
    for bad in (3, True, "1", None):
        file.write_text(json.dumps({"format_version": bad}))
        with pytest.raises(IndexFormatError, match=f"format version {bad!r}; this blendsearch reads up to 2"):
            read_versioned_json(file, 2, hint=HINT, older=True)


def test_a_model_that_does_not_validate_is_damaged(tmp_path: Path) -> None:
    file = tmp_path / "f.json"
    file.write_text(json.dumps({"format_version": 1, "name": "a"}))
    loaded = load_versioned_model(file, Info, 1, what="info file", hint=HINT)
    assert loaded == Info(format_version=1, name="a")
    file.write_text(json.dumps({"format_version": 1}))
    damaged = r"(?s)f\.json is not a valid info file \(.*name.*run `fix it`$"
    with pytest.raises(IndexCorruptError, match=damaged):
        load_versioned_model(file, Info, 1, what="info file", hint=HINT)


def test_calibration_and_model_folder_use_it(tmp_path: Path) -> None:
    (tmp_path / "calibration.json").write_text("")
    with pytest.raises(IndexFormatError, match="is empty .*re-run `blendsearch calibrate`"):
        load_calibration(tmp_path)
    with pytest.raises(EncoderError, match="is not a blendsearch model folder"):
        read_model_info(tmp_path)
    write_model_info(tmp_path, {"kind": "x"}, None)
    assert read_model_info(tmp_path) == {"format_version": 1, "kind": "x", "training": None}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blendsearch_model.json", "calibration.json"]
    (tmp_path / "blendsearch_model.json").write_text("{")
    with pytest.raises(EncoderError, match="is not valid JSON .*blendsearch train"):
        read_model_info(tmp_path)


def test_save_calibration_leaves_no_temporary_file(tmp_path: Path) -> None:
    from blendsearch.calibration.model import Calibration

    save_calibration(tmp_path, Calibration())
    assert [p.name for p in tmp_path.iterdir()] == ["calibration.json"]
    assert load_calibration(tmp_path) == Calibration()
