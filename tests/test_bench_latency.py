"""``bench latency``: every mode timed on every query, ratios computed from the same run."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from blendsearch.cli import main
from blendsearch.config import EngineConfig
from blendsearch.engine import Engine
from blendsearch.eval.bench_latency import bench_latency


def _index(shop: Path, tmp_path: Path, model: str | None) -> Path:
    config = EngineConfig()
    config.fields.numeric = ["price"]
    config.encoder.model = model
    index = tmp_path / "index"
    with Engine.open(index, config) as engine:
        assert engine.ingest(shop / "catalog.jsonl").indexed == 24
    return index


def test_hybrid_and_its_parts_are_timed_on_every_query(shop: Path, tmp_path: Path) -> None:
    report = bench_latency(_index(shop, tmp_path, "hash:64"), ["red dress", "sneakers", "black bag"])
    assert report.documents == 24 and report.queries == 3 and report.vectors
    assert set(report.modes) == {"bm25", "vector_image", "hybrid"}
    hybrid, bm25, vector = (report.modes[m] for m in ("hybrid", "bm25", "vector_image"))
    assert 0 < hybrid.p50_ms <= hybrid.p99_ms
    assert report.hybrid_p50_over_parts == round(hybrid.p50_ms / (bm25.p50_ms + vector.p50_ms), 3)
    assert report.hybrid_p99_over_p50 == round(hybrid.p99_ms / hybrid.p50_ms, 3)


def test_without_a_model_only_bm25_is_timed(shop: Path, tmp_path: Path) -> None:
    index = _index(shop, tmp_path, None)
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"query": "red dress"}\n{"text": "sneakers"}\n')
    result = CliRunner().invoke(
        main, ["bench", "latency", "--index", str(index), "--queries", str(queries), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["queries"] == 2 and report["vectors"] is False
    assert set(report["modes"]) == {"bm25"} and report["hybrid_p50_over_parts"] is None
