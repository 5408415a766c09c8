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


def test_unseen_value_is_the_mean_of_the_returned_plus_one_miss() -> None:
    # (1 + 0 + 0.5 + miss 0) / (3 + 1); a lone hit is halfway to a miss; nothing returned gives 0
    values = [[1.0, 1.0, np.nan], [0.0, np.nan, np.nan], [0.5, np.nan, np.nan], [np.nan, np.nan, np.nan]]
    assert scoring.unseen_values(values).tolist() == [[0.375, 0.5, 0.0]]
    # a negative lowest score (z-score) is the miss, in the mean and for the floor rule
    assert scoring.unseen_values([[1.0], [-2.0]]).tolist() == [[-1.0]]
    assert scoring.unseen_values([[1.0], [-2.0]], "floor").tolist() == [[-2.0]]
    with pytest.raises(ValueError, match="mean, floor"):
        scoring.unseen_values([[1.0]], "median")


# Channel 0 returned doc0 (1.0) and doc1 (0.0) and cannot see doc3; channel 1 returned doc1, doc3, doc2.
_NORM = [[1.0, np.nan], [0.0, 1.0], [np.nan, 0.0], [np.nan, 0.5]]
_RANKS = [[1, 0], [2, 1], [0, 3], [0, 2]]
_SEEN = [[True, True], [True, True], [True, True], [False, True]]


def test_weighted_mean_credits_an_unseen_candidate_with_the_channel_mean() -> None:
    fusion = scoring.combine(_NORM, _RANKS, [1.0, 1.0], seen=_SEEN)
    # doc3: channel 0 imputes (1 + 0 + miss 0) / 3; doc2 is seen and missed there: 0
    assert fusion.scores.tolist() == pytest.approx([0.5, 0.5, 0.0, (1 / 3 + 0.5) / 2])
    assert fusion.contributions[3].tolist() == pytest.approx([1 / 6, 0.25])
    before = scoring.combine(_NORM, _RANKS, [1.0, 1.0])
    assert before.scores.tolist() == pytest.approx([0.5, 0.5, 0.0, 0.25])
    floor = scoring.combine(_NORM, _RANKS, [1.0, 1.0], seen=_SEEN, unseen="floor")
    assert floor.scores.tolist() == pytest.approx(before.scores.tolist())


def test_rrf_credits_an_unseen_candidate_with_the_mean_reciprocal_rank() -> None:
    fusion = scoring.combine(_NORM, _RANKS, [1.0, 2.0], "rrf", rrf_k=0.0, seen=_SEEN)
    # channel 0 reciprocals 1 and 1/2 plus a miss: mean 1/2 for doc3; channel 1 gives doc3 2 * 1/2
    assert fusion.scores.tolist() == pytest.approx([1.0, 0.5 + 2.0, 2 / 3, 0.5 + 1.0])


def test_a_returned_candidate_keeps_its_score_even_if_marked_unseen() -> None:
    seen = [[False, True], [True, True], [True, True], [True, True]]
    fusion = scoring.combine(_NORM, _RANKS, [1.0, 1.0], seen=seen)
    assert fusion.scores[0] == pytest.approx(0.5)


def test_fuse_passes_seen_through() -> None:
    # doc1 cannot be seen by channel 0: (3 + 2 + miss 0) normalised is (1 + 0 + 0) / 3
    fusion = scoring.fuse([[3.0, np.nan, 2.0], [0.1, 0.9, 0.5]], [1.0, 1.0], seen=[[1, 1], [0, 1], [1, 1]])
    assert fusion.scores.tolist() == pytest.approx([0.5, (1 / 3 + 1.0) / 2, 0.25])
    with pytest.raises(ValueError, match="seen"):
        scoring.combine(_NORM, _RANKS, [1.0, 1.0], seen=[[True, True]])
    with pytest.raises(ValueError, match="mean, floor"):
        scoring.combine(_NORM, _RANKS, [1.0, 1.0], unseen="zero")
