"""Tuning fusion on crafted channel results: never worse than the default; the fast path agrees."""

from __future__ import annotations

import pytest
from pinned_settings import four_channel_search

from blendsearch.backends.base import ChannelResult
from blendsearch.config import SearchSettings
from blendsearch.eval.judgements import Judgement
from blendsearch.eval.tune import TunedSettings, run_ndcg, tune
from blendsearch.query.hybrid import QueryRun
from blendsearch.query.models import HybridQuery


def _run(text: str, channels: dict[str, list[tuple[str, float]]]) -> QueryRun:
    return QueryRun(
        query=HybridQuery(text=text, k=100),
        settings=SearchSettings(),
        results=[
            ChannelResult(channel=name, ids=[i for i, _ in hits], scores=[s for _, s in hits])
            for name, hits in channels.items()
        ],
    )


def _misleading_bm25() -> tuple[list[QueryRun], list[Judgement]]:
    """BM25 puts two wrong items first; the image-vector channel ranks the relevant ones on top."""
    runs, judgements = [], []
    for q in range(3):
        good, bad = [f"g{q}a", f"g{q}b"], [f"x{q}a", f"x{q}b", f"x{q}c"]
        runs.append(
            _run(
                f"q{q}",
                {
                    "bm25": [(bad[0], 9.0), (bad[1], 8.5), (bad[2], 8.0), (good[0], 2.0)],
                    "metadata": [(bad[0], 3.0), (good[1], 1.0)],
                    "vector_image": [(good[0], 0.31), (good[1], 0.30), (bad[2], 0.1), (bad[0], 0.05)],
                    "vector_text": [(bad[1], 0.4), (good[0], 0.35)],
                },
            )
        )
        judgements.append(Judgement(qid=f"q{q}", gains={good[0]: 2, good[1]: 2, bad[2]: 1}, relevant=2))
    return runs, judgements


def test_tuning_finds_better_weights_and_agrees_with_fuse_run() -> None:
    runs, judgements = _misleading_bm25()
    base = SearchSettings()
    result = tune(runs, judgements, base)
    assert result.default_ndcg == pytest.approx(run_ndcg(runs, judgements, base))
    assert result.default_ndcg < 0.7
    assert result.ndcg == pytest.approx(1.0)
    assert result.ndcg_fuse_run == pytest.approx(result.ndcg)
    assert result.best.weights["vector_image"] > 0
    assert result.queries == 3 and result.evaluated > 20
    assert set(result.families) == {
        "weighted_mean/minmax",
        "weighted_mean/zscore",
        *(f"rrf/k={k}" for k in (10, 30, 60, 100)),
    }


def test_default_is_kept_when_nothing_beats_it() -> None:
    run = _run("q", {"bm25": [("a", 3.0), ("b", 2.0)], "vector_image": [("a", 0.9), ("c", 0.2)]})
    judgement = Judgement(qid="q", gains={"a": 2, "b": 1}, relevant=1)
    base = four_channel_search()  # explicit: min-max weighted mean, bm25 and vector_image weighted 1
    result = tune([run], [judgement], base)
    assert result.ndcg == pytest.approx(result.default_ndcg) == pytest.approx(1.0)
    assert result.best == result.default
    assert result.best.weights == {"bm25": 1.0, "vector_image": 1.0}


def test_tuned_settings_apply_onto_the_base() -> None:
    tuned = TunedSettings(weights={"bm25": 0.25}, normalisation="zscore", combination="rrf", rrf_k=30.0)
    applied = tuned.apply(four_channel_search())
    assert applied.weights == {"bm25": 0.25, "metadata": 0.5, "vector_image": 1.0, "vector_text": 0.5}
    assert (applied.normalisation, applied.combination, applied.rrf_k) == ("zscore", "rrf", 30.0)
    assert tuned.family == "rrf/k=30"


def test_tune_rejects_mismatched_inputs() -> None:
    runs, judgements = _misleading_bm25()
    with pytest.raises(ValueError, match="3 runs but 2 judgements"):
        tune(runs, judgements[:2], SearchSettings())
