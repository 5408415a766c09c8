"""Array fusion: the same ranking, scores and features as per-hit fusion, with hits built for one page."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

from blendsearch.backends.base import ChannelResult
from blendsearch.backends.memory import MemoryBackend
from blendsearch.calibration import Calibration, FusedCalibration, hit_features
from blendsearch.calibration.fused import FEATURE_NAMES, candidate_features
from blendsearch.config import SearchSettings
from blendsearch.documents import StoredDocument
from blendsearch.engine import Engine
from blendsearch.query.hybrid import QueryRun, fuse_arrays, fuse_run
from blendsearch.query.models import HybridQuery
from blendsearch.query.ranked import RankedCandidates

SETTINGS = SearchSettings(
    weights={"bm25": 1.0, "metadata": 0.5, "vector_image": 1.0},
    normalisation="minmax",
    combination="weighted_mean",
)


def _run(settings: SearchSettings = SETTINGS) -> QueryRun:
    # "t1" and "t2" tie (both only in bm25 at the same score): first appearance ("t1") goes first.
    return QueryRun(
        query=HybridQuery(text="red dress"),
        settings=settings,
        results=[
            ChannelResult(channel="bm25", ids=["a", "t1", "t2", "b", "x"], scores=[4.0, 3.0, 3.0, 2.0, 1.0]),
            ChannelResult(channel="metadata", ids=["b", "a"], scores=[2.0, 1.0]),
            ChannelResult(channel="vector_image", ids=["photo", "b", "a", "y"], scores=[0.9, 0.8, 0.5, 0.1]),
        ],
        unseen={"bm25": ["photo"], "metadata": ["photo"]},
    )


def test_arrays_rank_like_hits_with_ties_by_first_appearance() -> None:
    ranked = fuse_arrays(_run())
    hits = fuse_run(_run())
    # weights 1, 0.5, 1: b (1/3 + 0.5 * 1 + 0.875) / 2.5; photo credited with the lexical channels' means
    # (bm25 (1 + 2/3 + 2/3 + 1/3 + 0 + a miss 0) / 6, metadata (1 + 0 + 0) / 3); x and y score 0: x first.
    assert ranked.ids == [h.id for h in hits] == ["b", "photo", "a", "t1", "t2", "x", "y"]
    assert ranked.scores.tolist() == pytest.approx(
        [(1 / 3 + 0.5 + 0.875) / 2.5, (4 / 9 + 0.5 / 3 + 1) / 2.5, 1.5 / 2.5, 2 / 7.5, 2 / 7.5, 0.0, 0.0]
    )
    assert ranked.channels == ["bm25", "metadata", "vector_image"]
    assert ranked.scores.tolist() == [h.score for h in hits]
    assert ranked.contributions.sum(axis=1) == pytest.approx(ranked.scores)
    assert ranked.unseen[1].tolist() == [True, True, False]  # photo: no text for the lexical channels
    assert ranked.rank[0].tolist() == [4, 1, 2] and np.isnan(ranked.raw[3, 1])
    assert ranked.hits() == hits


def test_hits_are_built_for_the_page_only() -> None:
    ranked = fuse_arrays(_run())
    page = ranked.hits(2, 4)
    assert [h.id for h in page] == ["a", "t1"]
    assert page == fuse_run(_run())[2:4]
    photo = ranked.hits(1, 2)[0].channels
    assert (photo["bm25"].raw, photo["bm25"].rank, photo["bm25"].unseen) == (None, None, True)
    assert photo["vector_image"].raw == 0.9 and photo["vector_image"].rank == 1
    assert ranked.hits(7, 10) == [] and ranked.hits(5) == fuse_run(_run())[5:]


def test_empty_run_fuses_to_no_candidates() -> None:
    run = QueryRun(query=HybridQuery(text="x"), settings=SETTINGS, results=[ChannelResult(channel="bm25")])
    ranked = fuse_arrays(run)
    assert (len(ranked), ranked.hits(), fuse_run(run)) == (0, [], [])


def test_candidate_features_equal_hit_features() -> None:
    ranked = fuse_arrays(_run())
    assert np.array_equal(candidate_features(ranked), hit_features(fuse_run(_run())))
    assert candidate_features(RankedCandidates.empty(["bm25"])).shape == (0, len(FEATURE_NAMES))


def test_take_and_probabilities_keep_rows_aligned() -> None:
    ranked = fuse_arrays(_run()).with_probabilities([0.9, np.nan, 0.8, 0.6, 0.5, 0.4, 0.3])
    kept = ranked.take(ranked.probabilities >= 0.5)
    assert kept.ids == ["b", "a", "t1", "t2"]
    assert [h.probability for h in kept.hits()] == [0.9, 0.8, 0.6, 0.5]
    assert ranked.hits(1, 2)[0].probability is None
    with pytest.raises(ValueError, match="need 7 probabilities"):
        ranked.with_probabilities([0.5])


def _fused_model(feature: str, weight: float) -> FusedCalibration:
    d = len(FEATURE_NAMES)
    coef = [weight if name == feature else 0.0 for name in FEATURE_NAMES]
    return FusedCalibration(
        feature_names=list(FEATURE_NAMES), coef=coef, intercept=-1.0, mean=[0.0] * d, std=[1.0] * d, n=1
    )


def test_candidate_probabilities_equal_per_hit_probabilities() -> None:
    calibration = Calibration(fused=_fused_model("bm25.ratio", 3.0))
    ranked = fuse_arrays(_run())
    arrays = calibration.candidate_probabilities(ranked, "text")
    assert arrays.tolist() == calibration.probabilities(fuse_run(_run()), "text")


def _engine(tmp_path: Path) -> Engine:
    backend = MemoryBackend()
    backend.upsert(
        [StoredDocument(id=f"d{i}", title=f"red dress {'long ' * i}") for i in range(30)]
        + [StoredDocument(id="blue", title="blue shirt")]
    )
    return Engine.open(tmp_path / "idx", backend=backend)


def test_search_pages_and_thresholds_on_arrays(tmp_path: Path) -> None:
    with _engine(tmp_path) as engine:
        everything = fuse_run(engine.channel_results(HybridQuery(text="red dress", expand=False)))
        result = engine.search(HybridQuery(text="red dress", k=5, offset=3, expand=False))
        assert [h.id for h in result.hits] == [h.id for h in everything[3:8]]
        assert [h.score for h in result.hits] == [h.score for h in everything[3:8]]
        assert result.total_candidates == len(everything) == 30
        assert result.hits[0].document is not None and result.hits[0].document.id == everything[3].id
        # A calibration whose probability falls with position: min_probability keeps the head only.
        engine.calibration = Calibration(fused=_fused_model("position_rr", 4.0))
        probabilities = engine.calibration.probabilities(everything, "text")
        kept = sum(p >= 0.5 for p in probabilities)
        strict = engine.search(HybridQuery(text="red dress", k=50, min_probability=0.5, expand=False))
        assert 0 < kept < 30 and strict.total_candidates == kept and not strict.no_good_match
        assert [h.probability for h in strict.hits] == pytest.approx(probabilities[:kept])
        none = engine.search(HybridQuery(text="red dress", min_probability=0.999, expand=False))
        assert (none.hits, none.total_candidates, none.no_good_match) == ([], 0, True)


def test_warm_freezes_what_is_loaded(tmp_path: Path) -> None:
    with _engine(tmp_path) as engine:
        try:
            engine.warm(["red dress"])
            assert gc.get_freeze_count() > 0
        finally:
            gc.unfreeze()
