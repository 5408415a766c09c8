"""A CLI search loads only what it needs: each call is a new process, and imports are most of its start-up.

Checked by module presence in a fresh interpreter, not by timing (deterministic on any machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from blendsearch import cli
from blendsearch.cli import COMMAND_MODULES, COMMANDS, main

SHOP = Path(__file__).resolve().parents[1] / "examples" / "shop"
#: Never needed to search an index without a model or with the numpy hash encoder.
HEAVY = (
    "torch",
    "transformers",
    "matplotlib",
    "pyarrow",
    "faiss",
    "opensearchpy",
    "elasticsearch",
    "nltk",
    "fastapi",
    "uvicorn",
)
#: Command modules a search must not import.
OTHER_COMMANDS = ("train", "evaluate", "tune", "bench", "calibrate", "debug", "mappings", "serve")

_PROBE = """
import json, sys
from blendsearch.cli import main
main(sys.argv[1:], standalone_mode=False)
from blendsearch.expansion import wordnet
readers = [type(reader).__name__ for reader, _ in wordnet._READERS.values()]
print("@@" + json.dumps({"modules": sorted(sys.modules), "wordnet": readers}))
"""


@pytest.fixture(scope="module", params=[None, "hash:64"], ids=["no-model", "hash-encoder"])
def index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("startup") / "index"
    args = ["ingest", str(SHOP / "catalog.jsonl"), "--index", str(folder), "--numeric", "price"]
    if request.param:
        args += ["--model", request.param]
    with pytest.MonkeyPatch.context() as patch:  # set up before the autouse home fixture: isolate it here
        patch.setenv("BLENDSEARCH_HOME", str(tmp_path_factory.mktemp("startup-home")))
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return folder


def _run(*args: str) -> dict[str, list[str]]:
    out = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=True)
    line = next(line for line in out.stdout.splitlines() if line.startswith("@@"))
    return json.loads(line[2:])


def test_search_imports_no_heavy_package_and_no_other_command(index: Path) -> None:
    probe = _run("search", "red dress", "--index", str(index))
    loaded = set(probe["modules"])
    assert [name for name in HEAVY if name in loaded] == []
    assert [name for name in OTHER_COMMANDS if f"blendsearch.cli.{name}" in loaded] == []
    # Expansion ran with WordNet on, read from the shipped subset (not through nltk).
    assert probe["wordnet"] == ["WordNetSubset"]


def test_importing_the_cli_loads_no_command_module() -> None:
    probe = _run("--version")
    loaded = set(probe["modules"])
    assert [name for name in COMMAND_MODULES if f"blendsearch.cli.{name}" in loaded] == []
    assert [name for name in HEAVY if name in loaded] == []


def test_command_map_names_every_command_where_it_lives() -> None:
    found = {
        command.name: module
        for module in COMMAND_MODULES
        for command in __import__(f"blendsearch.cli.{module}", fromlist=["commands"]).commands
    }
    assert COMMANDS == found


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == sorted(COMMANDS)


def test_unknown_command_is_still_an_error() -> None:
    result = CliRunner().invoke(main, ["serch"])
    assert result.exit_code == 2
    assert "No such command 'serch'" in result.output
    assert isinstance(cli.main, click.Group)
