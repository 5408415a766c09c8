"""Exact outputs of the scoring formulas on tiny hand-built arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from blendsearch import scoring


def test_minmax_maps_to_unit_interval() -> None:
    assert scoring.normalise([1.0, 3.0, 2.0], "minmax").tolist() == [0.0, 1.0, 0.5]


def test_minmax_of_a_tie_gives_full_credit() -> None:
    assert scoring.normalise([2.0, 2.0], "minmax").tolist() == [1.0, 1.0]


def test_zscore() -> None:
    out = scoring.normalise([1.0, 2.0, 3.0], "zscore")
    assert out == pytest.approx([-math.sqrt(1.5), 0.0, math.sqrt(1.5)])


def test_unknown_normalisation_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="minmax, zscore, none"):
        scoring.normalise([1.0], "softmax")


def test_ranks_are_one_based_and_stable() -> None:
    assert scoring.ranks_descending([0.5, 0.9, 0.5]).tolist() == [2, 1, 3]


def test_weighted_mean_fills_missing_with_channel_floor() -> None:
    # doc0 only in channel 0 (norm 1), doc1 in both (0, 0), doc2 only in channel 1 (norm 1)
    fusion = scoring.fuse([[3.0, 2.0, np.nan], [np.nan, 0.5, 0.9]], [1.0, 3.0])
    assert fusion.scores.tolist() == pytest.approx([0.25, 0.0, 0.75])
    assert fusion.contributions.sum(axis=1) == pytest.approx(fusion.scores)


def test_rrf_weighted() -> None:
    fusion = scoring.fuse([[3.0, 2.0, np.nan], [np.nan, 0.5, 0.9]], [1.0, 2.0], combination="rrf", rrf_k=60)
    assert fusion.scores.tolist() == pytest.approx([1 / 61, 1 / 62 + 2 / 62, 2 / 61])


def test_zero_weight_channel_contributes_nothing() -> None:
    fusion = scoring.fuse([[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0])
    assert fusion.scores.tolist() == [1.0, 0.0]


def test_unknown_combination_and_bad_shapes() -> None:
    with pytest.raises(ValueError, match="weighted_mean, rrf"):
        scoring.fuse([[1.0]], [1.0], combination="max")
    with pytest.raises(ValueError, match="shapes"):
        scoring.combine(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(3))
    with pytest.raises(ValueError, match=">= 0"):
        scoring.fuse([[1.0]], [-1.0])


def test_sigmoid_is_stable_and_inverts_logit() -> None:
    assert scoring.sigmoid([0.0, 1000.0, -1000.0]).tolist() == [0.5, 1.0, 0.0]
    assert scoring.logit(scoring.sigmoid([-3.0, 0.5])) == pytest.approx([-3.0, 0.5])


def test_siglip_probability_matches_formula() -> None:
    # sigmoid((10 * 0.5 - 5) / 1) = 0.5 ; sigmoid((10 * 0.8 - 5) / 2) = sigmoid(1.5)
    assert scoring.siglip_probability([0.5], 10.0, -5.0).tolist() == [0.5]
    assert scoring.siglip_probability([0.8], 10.0, -5.0, temperature=2.0)[0] == pytest.approx(
        1 / (1 + math.exp(-1.5))
    )
    with pytest.raises(ValueError):
        scoring.siglip_probability([0.1], 1.0, 0.0, temperature=0.0)


def test_missing_candidate_gets_no_credit_from_a_lone_hit() -> None:
    # channel 0 returned only doc0 (min-max 1.0); doc1 is missing there and must not inherit that 1.0
    fusion = scoring.fuse([[5.0, np.nan], [0.2, 0.9]], [1.0, 1.0])
    assert fusion.scores.tolist() == pytest.approx([0.5, 0.5])


def test_zscore_missing_candidate_counts_as_the_lowest() -> None:
    fusion = scoring.fuse([[1.0, 2.0, 3.0, np.nan]], [1.0], normalisation="zscore")
    assert fusion.scores[3] == pytest.approx(fusion.scores[0])
