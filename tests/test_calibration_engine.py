"""Calibration against a real Engine over a MemoryBackend: catalogue pairs, judged hits, probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from blendsearch.backends.memory import MemoryBackend
from blendsearch.calibration import (
    calibrate_index,
    catalogue_pairs,
    fit_temperature,
    judged_hits,
    load_calibration,
    save_calibration,
)
from blendsearch.cli import main
from blendsearch.config import EncoderSettings, EngineConfig
from blendsearch.documents import StoredDocument
from blendsearch.encoders.base import l2_normalise
from blendsearch.engine import Engine
from blendsearch.eval.judgements import Catalog, JudgedQuery, write_queries
from blendsearch.exceptions import CalibrationError

COLOURS = ["red", "green", "blue"]
KINDS = ["shirt", "dress", "shoes", "bag"]


def _products() -> list[StoredDocument]:
    rng = np.random.default_rng(0)
    basis = np.eye(8)
    docs = []
    for c, colour in enumerate(COLOURS):
        for k, kind in enumerate(KINDS):
            text = l2_normalise(basis[c] + 0.5 * basis[3 + k])
            image = l2_normalise(basis[c] + 0.3 * basis[3 + k] + 0.1 * rng.standard_normal(8))
            docs.append(
                StoredDocument(
                    id=f"{colour}-{kind}",
                    title=f"{colour} {kind}",
                    attributes={"colour": colour.title(), "kind": kind.title()},
                    text_vector=text,
                    image_vector=image,
                )
            )
    return docs


@pytest.fixture()
def engine(tmp_path: Path):  # noqa: ANN201
    backend = MemoryBackend()
    backend.upsert(_products())
    with Engine.open(tmp_path / "idx", backend=backend) as opened:
        yield opened


def _catalog() -> Catalog:
    return Catalog([{"id": d.id, **d.attributes} for d in _products()])


def _queries() -> list[JudgedQuery]:
    pairs = [(colour, kind) for colour in COLOURS for kind in KINDS]
    return [
        JudgedQuery(qid=f"q{i}", query=f"{c} {k}", match={"kind": [k.title()], "colour": [c.title()]})
        for i, (c, k) in enumerate(pairs)
    ]


def test_catalogue_pairs_pair_each_product_with_its_own_image(engine: Engine) -> None:
    cosines, labels = catalogue_pairs(engine, n_pos=12, neg_per_pos=2, seed=0)
    assert int(labels.sum()) == 12
    assert labels.size == 12 * 3 and labels.dtype == np.int64
    docs = {d.id: d for d in _products()}
    own = sorted(float(d.text_vector @ d.image_vector) for d in docs.values())
    assert sorted(cosines[labels == 1].tolist()) == pytest.approx(own)
    # A product's own image is closer than random others on average: the pairs are learnable.
    assert cosines[labels == 1].mean() > cosines[labels == 0].mean() + 0.2
    cal = fit_temperature(cosines, labels, scale=10.0, bias=-5.0)
    assert cal.temperature > 0 and cal.ece_after <= cal.ece_before


def test_catalogue_pairs_need_vectors(tmp_path: Path) -> None:
    backend = MemoryBackend()
    backend.upsert([StoredDocument(id="a", title="a"), StoredDocument(id="b", title="b")])
    with Engine.open(tmp_path / "idx", backend=backend) as bare:
        with pytest.raises(CalibrationError, match="0 items with both"):
            catalogue_pairs(bare, n_pos=5)


def test_judged_hits_label_from_the_catalogue(engine: Engine) -> None:
    rows = judged_hits(engine, _queries()[:1], _catalog(), depth=5)
    assert rows[0].qid == "q0"
    assert rows[0].features.shape[0] == rows[0].labels.size <= 5
    assert rows[0].labels[0] == 1 and int(rows[0].labels.sum()) == 1  # "red shirt": only red-shirt is gain 2


def test_calibrate_save_and_search_with_probabilities(engine: Engine) -> None:
    run = calibrate_index(engine, queries=_queries(), catalog=_catalog(), depth=12, seed=0)
    assert run.calibration.vector is None
    assert run.messages == ["vector channel not calibrated: the index has no model"]
    fused = run.calibration.fused
    assert fused is not None and fused.n_holdout > 0 and fused.n > 0
    summary = run.summary()
    assert summary["fused"]["n_holdout"] == fused.n_holdout and "coef" not in summary["fused"]
    save_calibration(engine.index_dir, run.calibration)
    assert load_calibration(engine.index_dir) == run.calibration
    engine.calibration = run.calibration
    hits = engine.search("red shirt").hits
    assert hits[0].id == "red-shirt"
    probabilities = [h.probability for h in hits]
    assert all(p is not None and 0 < p < 1 for p in probabilities)
    assert probabilities[0] == max(probabilities)


def test_calibrate_without_anything_to_fit_fails(engine: Engine) -> None:
    with pytest.raises(CalibrationError, match="nothing could be calibrated"):
        calibrate_index(engine)


# -- the CLI -------------------------------------------------------------------------------------------
@pytest.fixture()
def index_dir(tmp_path: Path) -> Path:
    """An embedded index holding the hand-built products (written directly: no ingest, no images)."""
    path = tmp_path / "idx"
    with Engine.open(path, EngineConfig(encoder=EncoderSettings(model="hash:8"))) as engine:
        engine.backend.upsert(_products())
        engine.backend.flush()
    return path


def _write_judged(tmp_path: Path) -> tuple[Path, Path]:
    queries = tmp_path / "judged.jsonl"
    write_queries(queries, _queries())
    catalog = tmp_path / "products.csv"
    rows = [f"{d.id},{d.attributes['kind']},{d.attributes['colour']}" for d in _products()]
    lines = ["id,kind,colour", *rows]
    catalog.write_text("\n".join(lines) + "\n")
    return queries, catalog


def test_cli_calibrate_fits_both_parts_and_saves(tmp_path: Path, index_dir: Path) -> None:
    queries, catalog = _write_judged(tmp_path)
    plot = tmp_path / "reliability.png"
    args = ["calibrate", "--index", str(index_dir), "--queries", str(queries), "--catalog", str(catalog)]
    result = CliRunner().invoke(main, [*args, "--pairs", "12", "--plot", str(plot), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["vector"]["n"] + data["vector"]["n_holdout"] == 48  # 12 positives + 36 negatives
    assert data["fused"]["n_holdout"] > 0
    assert data["saved"] == str(index_dir / "calibration.json")
    saved = load_calibration(index_dir)
    assert saved is not None and saved.vector is not None and saved.fused is not None
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_cli_calibrate_text_output_and_errors(tmp_path: Path, index_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["calibrate", "--index", str(index_dir), "--pairs", "12"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("vector channel: temperature ")
    assert "held-out catalogue pairs" in result.output
    queries, _ = _write_judged(tmp_path)
    no_catalog = runner.invoke(main, ["calibrate", "--index", str(index_dir), "--queries", str(queries)])
    assert no_catalog.exit_code != 0 and "--queries needs --catalog" in no_catalog.output
    missing = runner.invoke(main, ["calibrate", "--index", str(tmp_path / "nothing")])
    assert missing.exit_code != 0 and "no blendsearch index" in missing.output


def test_a_fused_model_with_other_features_is_set_aside_with_a_notice(engine: Engine) -> None:
    run = calibrate_index(engine, queries=_queries(), catalog=_catalog(), depth=12, seed=0)
    fused = run.calibration.fused
    stale = fused.model_copy(
        update={n: [*getattr(fused, n), v] for n, v in (("feature_names", "gone"), ("coef", 0.0),
                                                          ("mean", 0.0), ("std", 1.0))}
    )  # fmt: skip
    save_calibration(engine.index_dir, run.calibration.model_copy(update={"fused": stale}))
    reopened = Engine.open(engine.index_dir, backend=engine.backend)
    hits = reopened.search("red shirt").hits
    assert hits[0].id == "red-shirt" and all(h.probability is None for h in hits)  # no model, no vector cal
    assert any("blendsearch calibrate" in notice for notice in reopened.notices)
