"""The score debugger: exact score arithmetic on hand-built vectors, and each warning from a crafted case."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from pinned_settings import four_channel_search

from blendsearch.calibration import Calibration, VectorCalibration
from blendsearch.cli import main
from blendsearch.debug import debug_scores, format_report, plot_report
from blendsearch.debug.checks import check_models
from blendsearch.debug.scores import pair_scores, softmax, verdict
from blendsearch.encoders.base import Encoder
from blendsearch.encoders.fake import HashEncoder
from blendsearch.exceptions import ConfigError

TEXTS = {
    "red dress": [1.0, 0.0, 0.0],
    "crimson gown": [0.8, 0.6, 0.0],
    "blue shirt": [0.0, 1.0, 0.0],
    "red frock": [0.999, 0.0447, 0.0],
}
COLOURS = {(255, 0, 0): [0.6, 0.8, 0.0], (0, 0, 255): [0.0, 0.0, 1.0]}


class TableEncoder(Encoder):
    """Vectors from fixed tables: texts by content, images by their (solid) colour."""

    name = "table"
    dim = 3
    logit_scale = 10.0
    logit_bias = -5.0

    def __init__(self, normalise: bool = True, **attributes: object) -> None:
        super().__init__()
        self.normalise = normalise
        for key, value in attributes.items():
            setattr(self, key, value)

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        return np.array([TEXTS.get(t.lower(), [0.0, 0.0, 1.0]) for t in texts])

    def _encode_image_batch(self, images: list) -> np.ndarray:
        return np.array([COLOURS[img.convert("RGB").getpixel((0, 0))] for img in images])

    def encode_texts(self, texts, batch_size=None):  # noqa: ANN001, ANN201
        if self.normalise:
            return super().encode_texts(texts, batch_size)
        return 2.0 * self._encode_text_batch(list(texts)).astype(np.float32)


def _solid(colour: tuple[int, int, int]) -> Image.Image:
    return Image.new("RGB", (4, 4), colour)


def _vector_calibration(temperature: float = 2.0, shift: float = 0.0) -> Calibration:
    return Calibration(
        vector=VectorCalibration(
            temperature=temperature,
            bias_shift=shift,
            scale=10.0,
            model_bias=-5.0,
            n=10,
            ece_before=0,
            ece_after=0,
            brier_before=0,
            brier_after=0,
        )  # fmt: skip
    )


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# -- pure arithmetic ---------------------------------------------------------------------------------
def test_pair_scores_exact_values() -> None:
    scores = pair_scores([1.0, 0.0], [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], scale=10.0, bias=-5.0)
    assert scores.cosine.tolist() == pytest.approx([1.0, 0.0, 0.6])
    assert scores.logit.tolist() == pytest.approx([5.0, -5.0, 1.0])
    assert scores.sigmoid.tolist() == pytest.approx([_sig(5.0), _sig(-5.0), _sig(1.0)])
    expected = np.exp([5.0, -5.0, 1.0]) / np.exp([5.0, -5.0, 1.0]).sum()
    assert scores.softmax.tolist() == pytest.approx(expected.tolist())


def test_pair_scores_uses_true_cosines_for_long_vectors() -> None:
    scores = pair_scores([2.0, 0.0], [[0.0, 3.0], [1.5, 2.0]], scale=1.0, bias=0.0)
    assert scores.cosine.tolist() == pytest.approx([0.0, 0.6])
    assert scores.norms.tolist() == pytest.approx([3.0, 2.5]) and scores.query_norm == 2.0


def test_softmax_and_verdicts() -> None:
    assert softmax([0.0, 0.0]).tolist() == [0.5, 0.5]
    assert verdict(["a"], [0.3], [0.5]) == "one candidate (cosine 0.300): nothing to compare it with"
    assert verdict(["a", "b"], [0.300, 0.305], [0.5, 0.5]).startswith("scores barely vary")
    assert verdict(["a", "b"], [0.1, 0.3], [0.01, 0.05]).startswith("none of the candidates looks like")
    assert verdict(["a", "b", "c"], [0.9, 0.2, 0.1], [0.9, 0.2, 0.1]).startswith("one clear favourite: 'a'")
    assert verdict(["a", "b", "c"], [0.5, 0.4, 0.1], [0.9, 0.8, 0.1]).startswith("scores spread normally")


# -- debug_scores ------------------------------------------------------------------------------------
def test_text_query_against_candidate_texts_and_images() -> None:
    report = debug_scores(
        "red dress",
        candidates_texts=["crimson gown", "blue shirt"],
        candidate_images=[_solid((255, 0, 0)), _solid((0, 0, 255))],
        encoder=TableEncoder(),
        calibration=_vector_calibration(temperature=2.0, shift=0.5),
    )
    texts = [c for c in report.candidates if c.source == "text"]
    assert [c.cosine for c in texts] == pytest.approx([0.8, 0.0])
    assert [c.logit for c in texts] == pytest.approx([3.0, -5.0])
    assert [c.sigmoid for c in texts] == pytest.approx([_sig(3.0), _sig(-5.0)])
    assert [c.probability for c in texts] == [None, None]  # text vs text: the calibration does not cover it
    images = [c for c in report.candidates if c.source == "image"]
    assert [c.label for c in images] == ["image: <PIL image>", "image: <PIL image>"]
    assert [c.cosine for c in images] == pytest.approx([0.6, 0.0])
    # sigmoid((10 * 0.6 - 5) / 2 + 0.5) = sigmoid(1.0)
    assert images[0].probability == pytest.approx(_sig(1.0))
    assert [(g.query, g.source, g.n) for g in report.groups] == [("text", "text", 2), ("text", "image", 2)]
    assert report.groups[0].spread == pytest.approx(0.8)
    assert report.groups[0].variance == pytest.approx(0.16)
    assert report.temperature == 2.0 and report.warnings == []


def test_indistinguishable_candidates_get_the_plain_verdict() -> None:
    report = debug_scores("red dress", candidates_texts=["red dress", "red frock"], encoder=TableEncoder())
    assert report.verdict.startswith("scores barely vary")
    assert report.verdict.endswith("the model cannot tell these apart")


def test_hash_encoder_identical_text_scores_the_full_logit() -> None:
    report = debug_scores("red dress", candidates_texts=["red dress", "blue shirt"], encoder=HashEncoder())
    assert report.candidates[0].cosine == pytest.approx(1.0, abs=1e-6)
    assert report.candidates[0].logit == pytest.approx(5.0, abs=1e-5)  # 10 * 1 - 5
    assert report.model == "hash:64"


def test_bad_calls_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="query text, a query image"):
        debug_scores(None, candidates_texts=["x"], encoder=TableEncoder())
    with pytest.raises(ConfigError, match="candidate texts or images"):
        debug_scores("red dress", encoder=TableEncoder())
    with pytest.raises(ConfigError, match="needs a model"):
        debug_scores("red dress", candidates_texts=["x"])


# -- warnings, one crafted case each ---------------------------------------------------------------------
def _warnings(encoder: Encoder, text: str = "red dress", **kwargs: object) -> list[str]:
    return debug_scores(text, candidates_texts=["blue shirt"], encoder=encoder, **kwargs).warnings


def test_warns_about_vectors_that_are_not_unit_length() -> None:
    warnings = _warnings(TableEncoder(normalise=False))
    assert warnings[0] == (
        "1 of 1 query vectors are not unit length (norms 2 to 2): the index ranks by dot product, "
        "which equals the cosine only for unit vectors"
    )
    assert warnings[1].startswith("1 of 1 candidate text vectors are not unit length")


def test_warns_about_vectors_from_different_models() -> None:
    encoder = HashEncoder(dim=16)
    warnings = check_models(encoder, "hash:32", 32, [32])
    assert warnings == [
        "query vectors come from hash:16 but the index's from hash:32: vectors of different models are not "
        "comparable (re-ingest, or query with the index's model)",
        "the model makes 16-d vectors but the index holds 32-d ones: image and text vectors from different "
        "models",
    ]
    assert check_models(encoder, "hash:16", 16, [16]) == []


def test_warns_that_softmax_scores_are_no_probabilities() -> None:
    report = debug_scores(
        "red dress", candidates_texts=["crimson gown", "blue shirt"], encoder=TableEncoder(loss="softmax")
    )
    assert len(report.warnings) == 1 and "trained with a softmax" in report.warnings[0]
    assert report.candidates[0].softmax == pytest.approx(float(softmax([3.0, -5.0])[0]))
    assert "softmax" in format_report(report).splitlines()[4]  # the column is shown


def test_warns_about_siglip_padding_truncation_and_case() -> None:
    encoder = TableEncoder(name="siglip-test", text_padding="longest", text_lowercase=True, max_text_length=8)
    warnings = _warnings(encoder, text="Red dress in a soft silk for summer")
    assert warnings[0].startswith("SigLIP was trained with text padded to max_length (8 tokens)")
    assert warnings[1] == (
        "text 'Red dress in a soft silk for summer' is 13 tokens (estimated): the model reads only the "
        "first 8, the rest is cut off"
    )
    assert warnings[2].startswith("the model was trained on lower-case text and 1 text(s) have capitals")


def test_warns_about_odd_temperatures_and_scales() -> None:
    warnings = _warnings(TableEncoder(logit_scale=0.5), calibration=_vector_calibration(temperature=0.01))
    assert warnings[0].startswith("logit scale 0.5 is outside [1, 200]")
    assert warnings[1].startswith("calibrated temperature 0.01 is outside [0.05, 20]")


# -- output --------------------------------------------------------------------------------------------
def test_format_and_plot(tmp_path: Path) -> None:
    candidates = ["crimson gown", "blue shirt"]
    report = debug_scores("red dress", candidates_texts=candidates, encoder=TableEncoder())
    text = format_report(report)
    assert "query: text 'red dress'" in text
    assert "text: crimson gown" in text and "0.8000" in text
    assert text.splitlines()[-1] == f"verdict: {report.verdict}"
    assert plot_report(report, tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_debug_scores_json_and_text() -> None:
    runner = CliRunner()
    args = ["debug-scores", "red dress", "--model", "hash:32", "--candidates-texts", "red dress"]
    result = runner.invoke(main, [*args, "--candidates-texts", "blue shirt", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["model"] == "hash:32" and len(data["candidates"]) == 2
    assert data["candidates"][0]["cosine"] == pytest.approx(1.0, abs=1e-6)
    plain = runner.invoke(main, args)
    assert plain.exit_code == 0 and "verdict: one candidate" in plain.output
    missing = runner.invoke(main, ["debug-scores", "red dress", "--candidates-texts", "x"])
    assert missing.exit_code != 0 and "--model" in missing.output


def test_debug_scores_with_an_index(tmp_path: Path) -> None:
    from blendsearch.config import EncoderSettings, EngineConfig
    from blendsearch.documents import StoredDocument
    from blendsearch.engine import Engine

    docs = [
        StoredDocument(id="a", title="red dress", image_vector=np.array([0.6, 0.8, 0.0], dtype=np.float32)),
        StoredDocument(id="b", title="blue shirt", image_vector=np.array([0.0, 0.0, 2.0], dtype=np.float32)),
    ]
    # fusion pinned (min-max weighted mean over four channels): fused_score below is a weighted mean
    config = EngineConfig(encoder=EncoderSettings(model="hash:3"), search=four_channel_search())
    with Engine.open(tmp_path / "idx", config, encoder=TableEncoder()) as engine:
        engine.backend.upsert(docs)
        report = debug_scores("red dress", engine=engine, index_top_n=5)
    rows = [c for c in report.candidates if c.source == "index"]
    assert [(r.id, r.label) for r in rows] == [("a", "a: red dress")]
    assert rows[0].cosine == pytest.approx(0.6) and rows[0].fused_score == pytest.approx(1.0)
    assert set(rows[0].channels) == {"bm25"}  # no attributes: the metadata channel found nothing
    assert report.groups[0].verdict.startswith("one candidate")

    # The stored vector of "b" is 2 long: found when it is among the hits.
    with Engine.open(tmp_path / "idx", config, encoder=TableEncoder()) as engine:
        engine.backend.upsert(docs)
        report = debug_scores("red dress blue shirt", engine=engine, index_top_n=5)
    assert any(w.startswith("1 of 2 stored vectors are not unit length") for w in report.warnings)


def test_debug_scores_on_an_ingested_shop_warns_about_another_model(tmp_path: Path, shop: Path) -> None:
    pytest.importorskip("blendsearch.enrichment.tags")
    pytest.importorskip("blendsearch.enrichment.describe")
    from blendsearch.backends.memory import MemoryBackend
    from blendsearch.engine import Engine

    backend = MemoryBackend()
    with Engine.open(tmp_path / "idx", encoder=HashEncoder(dim=32), backend=backend) as engine:
        engine.ingest(shop / "catalog.jsonl")
        same = debug_scores("red dress", engine=engine, index_top_n=3)
    assert not [w for w in same.warnings if "different models" in w or "not comparable" in w]
    index_rows = [c for c in same.candidates if c.source == "index"]
    assert len(index_rows) == 3 and all(r.cosine is not None for r in index_rows)
    with Engine.open(tmp_path / "idx", encoder=HashEncoder(dim=16), backend=backend) as engine:
        other = debug_scores("red dress", engine=engine, index_top_n=3)
    expected = ("query vectors come from hash:16 but the index's from hash:32: ", "the model makes 16-d")
    assert all(any(w.startswith(start) for w in other.warnings) for start in expected)
    assert all(c.cosine is None for c in other.candidates)  # 16-d and 32-d vectors cannot be compared
