"""The main job through the CLI with ``--backend`` on the emulators: ingest, search, stats, delete, re-ingest.

noida-db (Elasticsearch API, k-NN served) and osmem-server (OpenSearch API, no k-NN: the engine falls back
to BM25 + metadata and says so). The same catalogue and model go into an embedded index beside, so the
cluster's answers are compared with the embedded backend's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pinned_settings import four_channel_cli_args
from servers import noida_url, osmem_emulator, osmem_url, unique_index  # noqa: F401 - pytest fixtures

from blendsearch.cli import main

MODEL = "hash:32"


def _run(*args: str) -> dict:
    result = CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def _ingest(catalog: Path, index: Path, *extra: str) -> dict:
    return _run("ingest", str(catalog), "--index", str(index), "--model", MODEL, "--numeric", "price", *extra)


def _ids(payload: dict) -> list[str]:
    return [hit["id"] for hit in payload["hits"]]


@pytest.fixture()
def catalog(shop: Path) -> Path:
    return shop / "catalog.jsonl"


@pytest.fixture()
def embedded(catalog: Path, tmp_path: Path) -> Path:
    index = tmp_path / "embedded"
    _ingest(catalog, index)
    return index


def _main_job(catalog: Path, index: Path, url: str, embedded: Path) -> dict:
    """Ingest into the cluster, search, stats, delete, search again, re-ingest; the first search."""
    summary = _ingest(catalog, index, "--backend", url)
    assert (summary["read"], summary["indexed"], summary["rejected"]) == (24, 24, 0)

    # Fusion pinned (every channel weighted; the defaults weight vector_text 0): each channel the backend
    # serves runs, so the tests can say which ones it does.
    pinned = four_channel_cli_args()
    first = _run("search", "red dress", "--index", str(index), "--k", "5", *pinned)
    reference = _run("search", "red dress", "--index", str(embedded), "--k", "5", *pinned)
    assert _ids(first)[0] == _ids(reference)[0] == "p009"

    filtered = _run("search", "shoes", "--index", str(index), "--filter", "price<40", "--k", "24")
    assert filtered["hits"] and all(hit["document"]["attributes"]["price"] < 40 for hit in filtered["hits"])

    stats = _run("stats", "--index", str(index))
    assert stats["documents"] == 24 and stats["backend"] != "EmbeddedBackend"

    assert _run("delete", "p009", "--index", str(index)) == {"requested": 1, "deleted": 1}
    assert "p009" not in _ids(_run("search", "red dress", "--index", str(index), "--k", "24"))

    again = _ingest(catalog, index, "--backend", url)
    assert (again["written"], again["unchanged"]) == (1, 23)  # only the deleted item comes back
    return first


def test_elasticsearch_emulator_through_the_cli(
    catalog: Path,
    embedded: Path,
    tmp_path: Path,
    noida_url: str,  # noqa: F811
    unique_index: str,  # noqa: F811
) -> None:
    first = _main_job(catalog, tmp_path / "es", f"elasticsearch+{noida_url}/{unique_index}", embedded)
    assert set(first["hits"][0]["channels"]) == {"bm25", "metadata", "vector_image", "vector_text"}
    # Pinned: the full-text fusion profile runs no vector channel.
    reference = _run("search", "red dress", "--index", str(embedded), "--k", "24", *four_channel_cli_args())
    cosines = {h["id"]: h["channels"]["vector_image"]["raw"] for h in reference["hits"]}
    for hit in first["hits"]:  # the same cosine for the same item (BM25 may order ties differently)
        assert hit["channels"]["vector_image"]["raw"] == pytest.approx(cosines[hit["id"]], abs=1e-5)


def test_opensearch_emulator_through_the_cli(
    catalog: Path,
    embedded: Path,
    tmp_path: Path,
    osmem_url: str,  # noqa: F811
) -> None:
    first = _main_job(catalog, tmp_path / "os", f"opensearch+{osmem_url}/products", embedded)
    assert set(first["hits"][0]["channels"]) == {"bm25", "metadata"}
    assert any("no k-NN" in notice for notice in first["notices"])


def test_search_backend_option_points_one_run_elsewhere(
    catalog: Path,
    tmp_path: Path,
    noida_url: str,  # noqa: F811
    unique_index: str,  # noqa: F811
) -> None:
    index = tmp_path / "es"
    _ingest(catalog, index, "--backend", f"elasticsearch+{noida_url}/{unique_index}")
    other = f"elasticsearch+{noida_url}/{unique_index}-empty"
    assert _run("search", "red dress", "--index", str(index), "--backend", other)["hits"] == []
    assert _ids(_run("search", "red dress", "--index", str(index)))[0] == "p009"  # stored URL unchanged
