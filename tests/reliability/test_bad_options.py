"""Every bad option is a clear error naming it (never 0 hits, NaN scores or a silently dropped channel),
expansion switches off one way, and notices are printed once, on stderr, never among the results."""

from __future__ import annotations

import json
import math
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from pinned_settings import four_channel_search
from pydantic import ValidationError

from blendsearch.backends.embedded import EmbeddedBackend
from blendsearch.backends.memory import MemoryBackend
from blendsearch.cli import main
from blendsearch.config import EngineConfig, FieldMapping, SearchSettings, check_weights, load_config
from blendsearch.documents import Document
from blendsearch.encoders.fake import HashEncoder
from blendsearch.engine import Engine
from blendsearch.exceptions import ConfigError, QueryError
from blendsearch.filters import RangeFilter, TermFilter, parse_filter
from blendsearch.query.models import HybridQuery

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop" / "catalog.jsonl"
RANGE = "a weight must be a finite number from 0 to 1e+06 (0 switches the channel off)"
DOCS = [
    Document(id="d1", title="Red wrap dress", attributes={"gender": "Women", "price": 40}),
    Document(id="d2", title="Blue canvas shoes", attributes={"gender": "Men", "price": 60.5}),
    Document(id="d3", title="Red scarf", attributes={"gender": "Unisex", "size": "M"}),
]


# -- weights and channels: one check, used by config files, queries and the CLI -----------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [(-1.0, "-1.0"), (math.inf, "inf"), (math.nan, "nan"), (1e308, "1e+308"), ("2", "'2'")],
)
def test_check_weights_names_the_option_channel_and_value(value: object, shown: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_weights({"bm25": value}, "weights")
    assert str(caught.value) == f"weights: weight of channel 'bm25' is {shown}; {RANGE}"


def test_all_zero_and_unknown_channels() -> None:
    with pytest.raises(ConfigError) as caught:
        check_weights({"bm25": 0, "metadata": 0.0}, "search.weights")
    assert str(caught.value) == (
        "search.weights: every channel weight is 0 (bm25, metadata); "
        "give at least one channel a weight above 0"
    )
    with pytest.raises(ConfigError) as caught:
        check_weights({"colour": 1.0}, "weights")
    assert str(caught.value) == (
        "weights: unknown channels ['colour']; valid: bm25, metadata, vector_image, vector_text"
    )
    assert check_weights({"bm25": 0, "metadata": 2}) == {"bm25": 0.0, "metadata": 2.0}


@pytest.mark.parametrize("value", [-1.0, math.inf, math.nan, 1e308])
def test_query_weights_are_checked_when_the_query_is_built(value: float) -> None:
    with pytest.raises(ValidationError, match=r"weights: weight of channel 'vector_text' is"):
        HybridQuery(text="x", weights={"vector_text": value})


def test_query_channels_are_checked() -> None:
    with pytest.raises(ValidationError, match=r"channels: unknown channels \['bm52'\]"):
        HybridQuery(text="x", channels=["bm52"])
    with pytest.raises(ValidationError, match="channels: an empty list runs nothing"):
        HybridQuery(text="x", channels=[])


def test_config_weights_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"search.weights: weight of channel 'bm25' is -2.0"):
        SearchSettings(weights={"bm25": -2.0})
    file = tmp_path / "config.json"
    file.write_text(json.dumps({"search": {"weights": {"bm25": 0, "metadata": 0}}}))
    with pytest.raises(ConfigError, match="search.weights: every channel weight is 0 "):
        load_config(file)


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    config = EngineConfig(fields=FieldMapping(numeric=["price"]))
    with Engine.open(tmp_path / "idx", config, backend=MemoryBackend()) as opened:
        opened.ingest(DOCS)
        yield opened


def test_weights_that_leave_every_running_channel_at_zero_are_an_error(engine: Engine) -> None:
    zero = {"bm25": 0.0, "metadata": 0.0, "vector_image": 0.0, "vector_text": 0.0}
    with pytest.raises(
        ConfigError, match=r"^weights: every channel weight is 0 \(bm25, metadata, vector_image"
    ):
        engine.search(HybridQuery(text="red", weights=zero))
    with pytest.raises(ConfigError, match=r"^weights: every channel weight is 0 \(bm25\)"):
        engine.search(HybridQuery(text="red", weights={"bm25": 0.0}, channels=["bm25"]))
    # Zero for one channel switches it off; the others run.
    result = engine.search(HybridQuery(text="red", weights={"metadata": 0.0}))
    assert result.channels == ["bm25"] and [h.id for h in result.hits] == ["d3", "d1"]


def test_a_query_no_weighted_channel_applies_to_says_so(engine: Engine) -> None:
    """Only vector channels weighted, and no model: nothing runs, and the result says why."""
    weights = {"bm25": 0.0, "metadata": 0.0, "vector_image": 1.0, "vector_text": 0.5}  # pinned
    result = engine.search(HybridQuery(text="red", weights=weights))
    assert result.hits == [] and result.channels == []
    assert result.notices[-1] == (
        "no channel with a weight above 0 applies to this query (weights: vector_image=1, vector_text=0.5)"
    )


# -- filters --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["memory", "embedded"])
def test_backends_tell_filter_fields_and_which_are_numeric(tmp_path: Path, backend: str) -> None:
    store = MemoryBackend() if backend == "memory" else EmbeddedBackend(tmp_path / "store")
    config = EngineConfig(fields=FieldMapping(numeric=["price"]))
    with Engine.open(tmp_path / "idx", config, backend=store) as opened:
        assert opened.backend.filter_field_kinds() == {}
        opened.ingest(DOCS)
        assert opened.backend.filter_field_kinds() == {
            "gender": False,
            "id": False,
            "price": True,
            "size": False,
        }


@pytest.mark.parametrize("backend", ["memory", "embedded"])
@pytest.mark.parametrize(
    ("flt", "message"),
    [
        (
            TermFilter(field="colour2", value="Red"),
            "filter on unknown field 'colour2'; fields in this index: gender, id, price, size",
        ),
        (
            RangeFilter(field="gender", gt=5),
            "range filter on 'gender', which holds no numbers in this index; numeric fields: price",
        ),
    ],
)
def test_filters_that_cannot_match_are_errors(
    tmp_path: Path, backend: str, flt: TermFilter | RangeFilter, message: str
) -> None:
    store = MemoryBackend() if backend == "memory" else EmbeddedBackend(tmp_path / "store")
    config = EngineConfig(fields=FieldMapping(numeric=["price"]))
    with Engine.open(tmp_path / "idx", config, backend=store) as opened:
        opened.ingest(DOCS)
        with pytest.raises(QueryError) as caught:
            opened.search(HybridQuery(text="red", filters=[flt]))
        assert str(caught.value) == message


def test_nan_bounds_are_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_filter("price<nan")
    assert str(caught.value) == "range filter 'price<nan': the bound is NaN; a bound must be a number"
    with pytest.raises(
        ValidationError, match="range filter on 'price': bound lte is NaN; a bound must be a number"
    ):
        RangeFilter(field="price", lte=math.nan)


def test_declared_fields_without_values_are_a_notice(tmp_path: Path) -> None:
    fields = FieldMapping(attributes=["gender", "price", "colour"], numeric=["price", "weight"])
    with Engine.open(tmp_path / "idx", EngineConfig(fields=fields), backend=MemoryBackend()) as opened:
        opened.ingest(DOCS)
        result = opened.search(
            HybridQuery(
                text="red",
                filters=[TermFilter(field="colour", value="red"), TermFilter(field="tags", value="dress")],
            )
        )
        assert result.hits == []
        assert result.notices[-2:] == [
            "filter on 'colour': no document has a value for it yet, so nothing matches",
            "filter on 'tags': no document has a value for it yet, so nothing matches",
        ]
        ranged = opened.search(HybridQuery(text="red", filters=[RangeFilter(field="weight", lt=3)]))
        assert (
            ranged.notices[-1] == "filter on 'weight': no document has a value for it yet, so nothing matches"
        )


class _BlindBackend(MemoryBackend):
    """A backend that cannot list its fields (as the cluster backends): the config's list is used."""

    def filter_field_kinds(self) -> None:
        return None


def test_backends_that_cannot_tell_fall_back_to_the_configured_fields(tmp_path: Path) -> None:
    fields = FieldMapping(attributes=["gender", "price"], numeric=["price"])
    with Engine.open(tmp_path / "a", EngineConfig(fields=fields), backend=_BlindBackend()) as opened:
        opened.ingest(DOCS)
        with pytest.raises(
            QueryError, match="^filter on unknown field 'size'; fields in this index: colours, "
        ):
            opened.search(HybridQuery(text="red", filters=[TermFilter(field="size", value="M")]))
        with pytest.raises(QueryError, match="^range filter on 'gender', which holds no numbers"):
            opened.search(HybridQuery(text="red", filters=[RangeFilter(field="gender", gt=1)]))
    # attributes=None means "every column": nothing to check against, so the filter just runs.
    with Engine.open(tmp_path / "b", EngineConfig(), backend=_BlindBackend()) as opened:
        opened.ingest(DOCS)
        assert opened.search(HybridQuery(text="red", filters=[TermFilter(field="size", value="M")])).hits


# -- one way to switch expansion off ---------------------------------------------------------------------


def test_both_ways_to_switch_expansion_off_send_the_same_text(tmp_path: Path) -> None:
    config = EngineConfig(search=four_channel_search())  # both vector channels run
    with Engine.open(
        tmp_path / "idx", config, backend=MemoryBackend(), encoder=HashEncoder(dim=16)
    ) as opened:
        opened.ingest(DOCS)
        plans = [
            opened.plan(HybridQuery(text="Red, Dress!", expand=expand))
            for expand in (False, {"enabled": False})
        ]
        off = HashEncoder(dim=16).encode_texts(["Red, Dress!"])[0]  # the encoder reads the text as typed
        for plan in plans:
            assert [(c.text, c.weight) for c in plan.clauses] == [("red dress", 1.0)]
            vectors = {r.channel: r.vector for r in plan.requests if hasattr(r, "vector")}
            assert set(vectors) == {"vector_image", "vector_text"}
            np.testing.assert_array_equal(vectors["vector_text"], off)


# -- notices: once, on stderr ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("cli") / "idx"
    result = CliRunner().invoke(main, ["ingest", str(SHOP), "--index", str(index), "--numeric", "price"])
    assert result.exit_code == 0, result.output
    assert "note:" not in result.stdout
    assert result.stderr.count("note: no model configured") == 1
    return index


@pytest.mark.parametrize("as_json", [False, True])
def test_search_prints_each_notice_once_on_stderr(shop_index: Path, as_json: bool) -> None:
    args = ["search", "red dress", "--index", str(shop_index), "--k", "2", *(["--json"] if as_json else [])]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "note: no model configured: searching with BM25 + metadata + colours only (no vectors)\n"
    )
    assert "note" not in result.stdout
    if as_json:
        hits = [h["id"] for h in json.loads(result.stdout)["hits"]]
        assert len(hits) == 2 and hits[0] == "p009"
    else:
        assert result.stdout.splitlines()[0].split()[:2] == ["1.", "p009"]


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        ("bm25=-1", f"Error: --weight: weight of channel 'bm25' is -1.0; {RANGE}"),
        ("bm25=inf", f"Error: --weight: weight of channel 'bm25' is inf; {RANGE}"),
        ("bm25=nan", f"Error: --weight: weight of channel 'bm25' is nan; {RANGE}"),
        ("bm25=1e308", f"Error: --weight: weight of channel 'bm25' is 1e+308; {RANGE}"),
        (
            "colour=1",
            "Error: --weight: unknown channels ['colour']; valid: bm25, metadata, vector_image, vector_text",
        ),
        ("bm25", "Error: Invalid value for --weight: 'bm25': use CHANNEL=WEIGHT"),
    ],
)
def test_cli_weight_errors(shop_index: Path, weight: str, message: str) -> None:
    result = CliRunner().invoke(main, ["search", "red", "--index", str(shop_index), "--weight", weight])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--filter", "colour2=Red"],
            "Error: filter on unknown field 'colour2'; fields in this index: "
            "articleType, colour, colours, gender, id, price\n",
        ),
        (
            ["--filter", "gender>5"],
            "Error: range filter on 'gender', which holds no numbers in this index; numeric fields: price\n",
        ),
        (
            ["--filter", "price<nan"],
            "Error: range filter 'price<nan': the bound is NaN; a bound must be a number\n",
        ),
        (
            [
                arg
                for c in ("bm25", "metadata", "vector_image", "vector_text")
                for arg in ("--weight", f"{c}=0")
            ],
            "Error: weights: every channel weight is 0 (bm25, metadata, vector_image, vector_text); give at "
            "least one channel a weight above 0\n",
        ),
    ],
)
def test_cli_query_errors(shop_index: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["search", "red", "--index", str(shop_index), *args])
    assert result.exit_code == 1
    assert result.stderr.endswith(message)
    assert result.stdout == ""


# -- model specs fail fast; the README's Python example runs as written --------------------------------


@pytest.mark.parametrize(
    ("spec", "folder"),
    [
        ("models/fashion", True),  # "models" is a page of the hub, never an organisation
        ("./fashion", True),
        ("/nowhere/fashion", True),
        ("~/fashion", True),
        ("a/b/c", True),
        ("google/siglip-base-patch16-224", False),
        ("siglip", False),
    ],
)
def test_which_specs_name_a_folder(spec: str, folder: bool) -> None:
    from blendsearch.encoders.registry import names_a_folder

    assert names_a_folder(spec) is folder


def test_a_missing_model_folder_fails_at_once_without_torch(tmp_path: Path) -> None:
    code = (
        "import sys, time\n"
        "from blendsearch.encoders.registry import load_encoder\n"
        "started = time.perf_counter()\n"
        "try:\n"
        "    load_encoder('models/fashion')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
        "print(round(time.perf_counter() - started, 3), 'torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True, env=_offline()
    )
    error, timing = out.stdout.strip().splitlines()
    assert error.startswith(
        f"EncoderError cannot load model 'models/fashion': no such folder ({tmp_path / 'models' / 'fashion'})"
    )
    seconds, torch_loaded = timing.split()
    assert float(seconds) < 0.5 and torch_loaded == "False"


def test_hub_probe_answers_within_its_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from blendsearch.encoders.hf import hub_unreachable

    with socket.socket() as unused:  # a port that nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    started = time.perf_counter()
    reason = hub_unreachable(timeout_s=1.0)
    assert reason is not None and reason.startswith(f"127.0.0.1:{port}: ")
    assert time.perf_counter() - started < 1.5
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_unreachable() == "HF_HUB_OFFLINE is set"
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        monkeypatch.delenv("HF_HUB_OFFLINE")
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{listening.getsockname()[1]}")
        assert hub_unreachable(timeout_s=1.0) is None


def _offline() -> dict[str, str]:
    """The environment with the hub pointed at a closed local port: nothing can leave the machine."""
    env = {k: v for k, v in os.environ.items() if k not in {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}}
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"
    return env


def test_readme_python_example_runs_as_written_without_network(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    match = re.search(r"## Python API\n\n```python\n(.*?)```", readme, re.S)
    assert match is not None
    (tmp_path / "examples").symlink_to(SHOP.parents[1], target_is_directory=True)
    (tmp_path / "example.py").write_text(match.group(1))
    code = (
        "import runpy, sys, time\n"
        "started = time.perf_counter()\n"
        "runpy.run_path('example.py')\n"
        "print('seconds', round(time.perf_counter() - started, 3), 'torch', 'torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=_offline(), timeout=60
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("p009 ")  # "red dress" for women: the wrap midi dress first
    _, seconds, _, torch_loaded = lines[-1].split()
    assert float(seconds) < 2.0 and torch_loaded == "False"
    assert out.stderr.count("model 'models/fashion' could not be loaded (cannot load model") == 1
