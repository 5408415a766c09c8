"""The main job through the CLI on the embedded backend: ingest, search, filters, JSON, stats, delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from blendsearch.cli import main


@pytest.fixture()
def index(tmp_path: Path, shop: Path) -> Path:
    index = tmp_path / "index"
    result = CliRunner().invoke(
        main,
        [
            "ingest",
            str(shop / "catalog.jsonl"),
            "--index",
            str(index),
            "--numeric",
            "price",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["read"], summary["indexed"], summary["rejected"]) == (24, 24, 0)
    return index


def test_search_json_has_hits_with_channels(index: Path) -> None:
    result = CliRunner().invoke(main, ["search", "red dress", "--index", str(index), "--k", "3", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["hits"][0]["id"] == "p009"
    assert set(payload["hits"][0]["channels"]) == {"bm25", "metadata"}
    assert len(payload["hits"]) == 3


def test_search_says_which_photos_fed_the_image_search(tmp_path: Path, shop: Path) -> None:
    index = tmp_path / "with-model"
    ingest = ["ingest", str(shop / "catalog.jsonl"), "--index", str(index), "--model", "hash:32"]
    assert CliRunner().invoke(main, ingest).exit_code == 0
    result = CliRunner().invoke(main, ["search", "red dress", "--index", str(index), "--k", "3"])
    assert result.exit_code == 0, result.output
    assert "image search also looked for photos like: p009" in result.stdout
    off = CliRunner().invoke(main, ["search", "red dress", "--index", str(index), "--image-feedback", "0"])
    assert off.exit_code == 0 and "photos like" not in off.stdout


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        (["--filter", "gender=Women"], lambda d: d["attributes"]["gender"] == "Women"),
        (["--filter", "price<40"], lambda d: d["attributes"]["price"] < 40),
        (["--filter", "gender=Men,Unisex"], lambda d: d["attributes"]["gender"] in {"Men", "Unisex"}),
    ],
)
def test_search_filters(index: Path, filters: list[str], check: object) -> None:
    result = CliRunner().invoke(
        main, ["search", "shoes bag tshirt", "--index", str(index), "--json", *filters]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["hits"]
    assert hits and all(check(h["document"]) for h in hits)  # type: ignore[operator]


def test_text_output_stats_and_delete(index: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["search", "leather", "--index", str(index)])
    assert text.exit_code == 0 and "Leather" in text.output
    stats = runner.invoke(main, ["stats", "--index", str(index), "--json"])
    assert json.loads(stats.stdout)["documents"] == 24
    deleted = runner.invoke(main, ["delete", "p001", "p404", "--index", str(index), "--json"])
    assert json.loads(deleted.stdout) == {"requested": 2, "deleted": 1}


def test_reingest_changes_nothing(index: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["ingest", str(tmp_path / "shop" / "catalog.jsonl"), "--index", str(index), "--json"]
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["written"], summary["unchanged"]) == (0, 24)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "x", "--index", "nowhere"], "not a blendsearch index"),
        (["search", "x", "--filter", "broken"], "key=value"),
        (["search", "x", "--weight", "colour=2"], "--weight: unknown channels ['colour']"),
    ],
)
def test_errors_are_clear(index: Path, args: list[str], message: str) -> None:
    if "--index" not in args:
        args = [*args, "--index", str(index)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert message in result.output


def test_unloadable_model_is_a_clear_error(tmp_path: Path, shop: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "ingest",
            str(shop / "catalog.jsonl"),
            "--index",
            str(tmp_path / "i"),
            "--model",
            str(tmp_path / "none"),
        ],
    )
    assert result.exit_code != 0
    assert "could not be loaded" in result.output
