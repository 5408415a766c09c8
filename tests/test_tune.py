"""Tuning fusion on crafted channel results: never worse than the default; the fast path agrees."""

from __future__ import annotations

import pytest
from pinned_settings import four_channel_search

from blendsearch.backends.base import ChannelResult
from blendsearch.config import SearchSettings
from blendsearch.eval.judgements import Judgement
from blendsearch.eval.tune import TunedSettings, run_metrics, run_ndcg, tune, tune_across
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


def _two_channel_group(winner: str, loser: str, prefix: str) -> tuple[list[QueryRun], list[Judgement]]:
    """Queries where ``winner`` ranks the two relevant items first, ``loser`` two wrong ones."""
    runs, judgements = [], []
    for q in range(2):
        good, bad = [f"{prefix}g{q}a", f"{prefix}g{q}b"], [f"{prefix}x{q}a", f"{prefix}x{q}b"]
        runs.append(
            _run(
                f"{prefix}{q}",
                {
                    winner: [(good[0], 0.9), (good[1], 0.8), (bad[0], 0.1)],
                    loser: [(bad[0], 9.0), (bad[1], 8.0), (good[0], 1.0)],
                },
            )
        )
        judgements.append(Judgement(qid=f"{prefix}{q}", gains={good[0]: 2, good[1]: 2}, relevant=2))
    return runs, judgements


def test_tune_across_picks_the_least_worst_case_shortfall() -> None:
    """Text catalogues want bm25, image-only ones the image vector: one setting must serve both, and the
    one kept loses least on the group it suits worst, not most on average."""
    text = _two_channel_group("bm25", "vector_image", "t")
    images = _two_channel_group("vector_image", "bm25", "i")
    result = tune_across({"text": text, "images": images}, SearchSettings(), recall_weight=0.0)
    assert result.group_best == {"text": pytest.approx(1.0), "images": pytest.approx(1.0)}
    shortfall = {g: result.group_best[g] - result.chosen[g]["objective"] for g in ("text", "images")}
    assert result.max_regret == pytest.approx(max(shortfall.values()))
    # Either channel alone scores 1.0 on its group and badly on the other: the pick balances them.
    one_sided = tune_across({"text": text}, SearchSettings(), recall_weight=0.0)
    assert one_sided.max_regret == pytest.approx(0.0)
    assert one_sided.best.weights.get("bm25", 0.0) > one_sided.best.weights.get("vector_image", 0.0)
    assert result.best.weights["bm25"] > 0 and result.best.weights["vector_image"] > 0
    # Each weight direction is scored once per family: 9 distinct ratios of two grid weights ((1, 2) is
    # (0.5, 1)), times 2 normalisations + 4 rrf k.
    assert result.evaluated == 9 * 6


def test_tune_across_needs_a_group() -> None:
    with pytest.raises(ValueError, match="at least one group"):
        tune_across({}, SearchSettings())


def test_run_metrics_is_the_reference_fusion() -> None:
    runs, judgements = _misleading_bm25()
    base = four_channel_search()
    metrics = run_metrics(runs, judgements, base)
    assert metrics["ndcg@10"] == pytest.approx(run_ndcg(runs, judgements, base))
    assert metrics["recall@100"] == pytest.approx(1.0)  # every relevant item is among the candidates
