"""Calibration: metrics on hand-made arrays, the temperature and fused fits, probabilities of hits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from blendsearch.calibration import (
    FEATURE_NAMES,
    Calibration,
    FusedCalibration,
    VectorCalibration,
    brier,
    expected_calibration_error,
    fit_fused,
    fit_temperature,
    hit_features,
    load_calibration,
    log_loss,
    reliability_diagram,
    save_calibration,
    split_indices,
    split_queries,
)
from blendsearch.exceptions import CalibrationError, IndexFormatError
from blendsearch.query.models import ChannelScore, Hit
from blendsearch.scoring import sigmoid


# -- metrics -----------------------------------------------------------------------------------------
def test_ece_exact_value() -> None:
    # bin 2: confidence 0.2, observed 0.5 (gap 0.3, weight 1/2); bin 9: 0.9 vs 1.0 (gap 0.1, weight 1/2).
    assert expected_calibration_error([0.2, 0.2, 0.9, 0.9], [0, 1, 1, 1]) == pytest.approx(0.2)
    assert expected_calibration_error([1.0, 0.0], [1, 0]) == 0.0  # p = 1 falls in the last bin
    assert expected_calibration_error([0.5, 0.5], [0, 1], bins=1) == 0.0
    assert expected_calibration_error([], []) == 0.0


def test_brier_and_log_loss_exact_values() -> None:
    assert brier([0.2, 0.9], [0, 1]) == pytest.approx((0.04 + 0.01) / 2)
    assert log_loss([0.5, 0.5], [0, 1]) == pytest.approx(np.log(2))


def test_metrics_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="probabilities"):
        brier([1.2], [1])
    with pytest.raises(ValueError, match="labels"):
        expected_calibration_error([0.1, 0.2], [1])


def test_reliability_diagram_writes_a_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=200)
    y = (rng.uniform(size=200) < p).astype(int)
    out = reliability_diagram({"before": p**2, "after": p}, y, tmp_path / "r.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- vector channel ----------------------------------------------------------------------------------
def _synthetic_pairs(n: int, scale: float, bias: float, temperature: float, shift: float, seed: int):
    rng = np.random.default_rng(seed)
    cos = rng.uniform(-0.1, 0.4, size=n)
    p = sigmoid((scale * cos + bias) / temperature + shift)
    return cos, (rng.uniform(size=n) < p).astype(int)


def test_fit_temperature_recovers_the_generating_parameters() -> None:
    cos, y = _synthetic_pairs(40_000, scale=10.0, bias=-2.0, temperature=2.5, shift=0.3, seed=1)
    held_cos, held_y = _synthetic_pairs(10_000, scale=10.0, bias=-2.0, temperature=2.5, shift=0.3, seed=2)
    cal = fit_temperature(cos, y, 10.0, -2.0, holdout_cosines=held_cos, holdout_labels=held_y)
    assert cal.temperature == pytest.approx(2.5, rel=0.05)
    assert cal.bias_shift == pytest.approx(0.3, abs=0.08)
    assert (cal.n, cal.n_holdout) == (40_000, 10_000)
    assert cal.ece_after < 0.02 < cal.ece_before
    assert cal.brier_after < cal.brier_before


def test_vector_probability_formula() -> None:
    cal = VectorCalibration(
        temperature=2.0, bias_shift=0.5, scale=10.0, model_bias=-5.0, n=1,
        ece_before=0, ece_after=0, brier_before=0, brier_after=0,
    )  # fmt: skip
    # sigmoid((10 * 0.3 - 5) / 2 + 0.5) = sigmoid(-0.5)
    assert cal.probability([0.3])[0] == pytest.approx(1 / (1 + np.exp(0.5)))
    assert cal.raw_probability([0.3])[0] == pytest.approx(1 / (1 + np.exp(2.0)))


def test_fit_temperature_needs_both_classes_and_a_positive_slope() -> None:
    with pytest.raises(CalibrationError, match="at least 2 matching"):
        fit_temperature([0.1, 0.2, 0.3], [0, 0, 1], 10.0, 0.0)
    # Higher cosine, fewer matches: the scores are anti-informative.
    with pytest.raises(CalibrationError, match="do not separate"):
        fit_temperature([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [1, 1, 1, 0, 0, 0], 10.0, 0.0)


def test_split_indices_is_seeded_and_disjoint() -> None:
    fit, held = split_indices(10, 0.3, seed=4)
    assert (fit.size, held.size) == (7, 3)
    assert sorted(np.concatenate([fit, held]).tolist()) == list(range(10))
    again = split_indices(10, 0.3, seed=4)
    assert fit.tolist() == again[0].tolist()
    assert split_indices(5, 0.0)[1].size == 0


def test_split_queries_halves() -> None:
    fit, held = split_queries(list("abcde"), seed=0)
    assert (len(fit), len(held)) == (3, 2)
    assert sorted(fit + held) == list("abcde")
    assert (fit, held) == split_queries(list("abcde"), seed=0)


# -- fused score -------------------------------------------------------------------------------------
def _hit(score: float, **channels: tuple[float | None, float | None, int | None]) -> Hit:
    return Hit(
        id="x",
        score=score,
        channels={name: ChannelScore(raw=r, normalised=n, rank=k) for name, (r, n, k) in channels.items()},
    )


def test_hit_features_exact_values() -> None:
    hits = [
        _hit(0.8, bm25=(np.e - 1, 1.0, 1), vector_image=(0.31, 0.5, 4)),
        _hit(0.2, bm25=(None, None, None), vector_image=(0.12, 0.0, 8)),
    ]
    x = hit_features(hits)
    col = {name: j for j, name in enumerate(FEATURE_NAMES)}
    assert x.shape == (2, len(FEATURE_NAMES)) == (2, 29)
    assert x[0, col["fused"]] == 0.8 and x[1, col["position_rr"]] == 0.5
    assert x[:, col["ties"]].tolist() == pytest.approx([np.log(2), np.log(2)])  # each hit alone at its score
    assert x[0, col["bm25.present"]] == 1.0 and x[0, col["bm25.log_raw"]] == pytest.approx(1.0)
    assert x[0, col["bm25.ratio"]] == 1.0  # the list's best BM25 score
    assert x[0, col["bm25.rr"]] == 1.0
    assert x[0, col["vector_image.cosine"]] == 0.31 and x[0, col["vector_image.rr"]] == 0.25
    assert x[1, col["bm25.present"]] == 0.0 and x[1, col["bm25.log_raw"]] == 0.0
    assert x[0, col["metadata.present"]] == 0.0  # a channel that did not run
    assert x[:, col["bm25.unseen"]].tolist() == [0.0, 0.0]  # returned / searched and missed


def test_hit_features_flag_a_channel_that_cannot_see_the_hit() -> None:
    photo = _hit(0.6, vector_image=(0.4, 1.0, 1))
    photo.channels["bm25"] = ChannelScore(contribution=0.2, unseen=True)
    x = hit_features([photo])
    col = {name: j for j, name in enumerate(FEATURE_NAMES)}
    assert (x[0, col["bm25.unseen"]], x[0, col["bm25.present"]], x[0, col["bm25.log_raw"]]) == (1.0, 0.0, 0.0)
    assert x[0, col["vector_image.unseen"]] == 0.0


def test_list_features_see_ratios_and_ties() -> None:
    hits = [_hit(0.5, bm25=(4.0, 1.0, 1)), _hit(0.5, bm25=(3.0, 0.5, 2)), _hit(0.1, bm25=(1.0, 0.0, 3))]
    x = hit_features(hits)
    col = {name: j for j, name in enumerate(FEATURE_NAMES)}
    assert x[:, col["bm25.ratio"]].tolist() == pytest.approx([1.0, 0.75, 0.25])
    assert x[:, col["ties"]].tolist() == pytest.approx([np.log(3), np.log(3), np.log(2)])


def _synthetic_features(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, len(FEATURE_NAMES)))
    x[:, FEATURE_NAMES.index("metadata.present")] = 0.0  # never varies
    z = 6 * x[:, FEATURE_NAMES.index("vector_image.cosine")] - 3
    return x, (rng.uniform(size=n) < sigmoid(z)).astype(int)


def test_fit_fused_learns_the_informative_feature() -> None:
    x, y = _synthetic_features(6000, seed=0)
    hx, hy = _synthetic_features(3000, seed=1)
    cal = fit_fused(x, y, holdout_features=hx, holdout_labels=hy)
    coef = dict(zip(cal.feature_names, cal.coef, strict=True))
    assert max(coef, key=lambda k: abs(coef[k])) == "vector_image.cosine"
    assert coef["vector_image.cosine"] > 0
    assert coef["metadata.present"] == 0.0
    assert cal.n_holdout == 3000 and cal.ece_after < 0.03
    assert cal.brier_after < cal.brier_before


def test_fit_fused_checks_shapes() -> None:
    with pytest.raises(ValueError, match="features must be"):
        fit_fused(np.zeros((4, 3)), [0, 1, 0, 1])


def _fused(coef_on: str, weight: float) -> FusedCalibration:
    coef = [weight if name == coef_on else 0.0 for name in FEATURE_NAMES]
    d = len(FEATURE_NAMES)
    return FusedCalibration(
        feature_names=list(FEATURE_NAMES), coef=coef, intercept=0.0, mean=[0.0] * d, std=[1.0] * d, n=10
    )


def test_calibration_probabilities_prefers_the_fused_model() -> None:
    hits = [_hit(0.9, bm25=(3.0, 1.0, 1), vector_image=(0.3, 1.0, 1)), _hit(0.1, bm25=(1.0, 0.0, 2))]
    cal = Calibration(fused=_fused("fused", 2.0))
    assert cal.probabilities(hits) == pytest.approx([float(sigmoid(1.8)), float(sigmoid(0.2))])


def test_calibration_probabilities_from_the_vector_channel() -> None:
    vector = VectorCalibration(
        temperature=1.0, bias_shift=0.0, scale=10.0, model_bias=-2.0, n=1,
        ece_before=0, ece_after=0, brier_before=0, brier_after=0,
    )  # fmt: skip
    cal = Calibration(vector=vector)
    hits = [_hit(0.9, bm25=(3.0, 1.0, 1), vector_image=(0.3, 1.0, 1)), _hit(0.1, bm25=(1.0, 0.0, 2))]
    assert cal.probabilities(hits) == [pytest.approx(float(sigmoid(1.0))), None]
    # An image query compares images with images: the text-image pairs say nothing about that.
    image_hits = [_hit(0.9, vector_image=(0.8, 1.0, 1))]
    assert cal.probabilities(image_hits) == [None]
    assert cal.probabilities(image_hits, query_modality="text") == [pytest.approx(float(sigmoid(6.0)))]
    assert Calibration().probabilities(hits) == [None, None]
    assert cal.probabilities([]) == []


def test_fused_model_with_other_features_is_refused() -> None:
    names = [f"f{i}" for i in range(len(FEATURE_NAMES))]
    stale = _fused("fused", 1.0).model_copy(update={"feature_names": names})
    with pytest.raises(CalibrationError, match="re-run"):
        Calibration(fused=stale).probabilities([_hit(0.5)])


# -- persistence -------------------------------------------------------------------------------------
def test_save_and_load_round_trip(tmp_path: Path) -> None:
    assert load_calibration(tmp_path) is None
    cal = Calibration(fused=_fused("fused", 2.0))
    path = save_calibration(tmp_path, cal)
    assert path.name == "calibration.json"
    assert load_calibration(tmp_path) == cal


def test_load_refuses_other_versions_and_broken_files(tmp_path: Path) -> None:
    (tmp_path / "calibration.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(IndexFormatError, match="format version 99"):
        load_calibration(tmp_path)
    (tmp_path / "calibration.json").write_text("{not json")
    with pytest.raises(IndexFormatError, match="not valid JSON"):
        load_calibration(tmp_path)
