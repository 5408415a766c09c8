"""Retrieval metrics and judgements on tiny hand-built arrays with exact expected values."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from blendsearch.eval.judgements import Catalog, JudgedQuery, judge, load_queries, write_queries
from blendsearch.eval.metrics import (
    by_category,
    dcg_at_k,
    mean_metrics,
    mrr,
    ndcg_at_k,
    pair_metrics,
    pair_scores,
    recall_at_k,
)
from blendsearch.exceptions import CatalogError, ConfigError

LOG3 = math.log2(3)


def test_dcg_uses_linear_gains_and_log2_discount() -> None:
    assert dcg_at_k([2, 0, 1], 3) == pytest.approx(2.0 + 0.0 + 1.0 / 2.0)
    assert dcg_at_k([2, 0, 1], 1) == pytest.approx(2.0)
    assert dcg_at_k([], 10) == 0.0


def test_ndcg_ideal_comes_from_all_judged_gains_not_the_retrieved_ones() -> None:
    # Retrieved: one perfect item; the catalogue holds two, so the ideal ranking has both on top.
    assert ndcg_at_k([2], [2, 2], k=10) == pytest.approx(2.0 / (2.0 + 2.0 / LOG3))
    assert ndcg_at_k([0, 2, 1], [1, 2, 2], k=3) == pytest.approx(
        (2.0 / LOG3 + 1.0 / 2.0) / (2.0 + 2.0 / LOG3 + 1.0 / 2.0)
    )
    assert ndcg_at_k([2, 2, 1], [2, 1, 2], k=3) == pytest.approx(1.0)
    assert ndcg_at_k([0, 0], [], k=10) == 0.0


def test_recall_counts_only_full_gain_over_the_relevant_count() -> None:
    ranked = [2, 1, 2, 0]
    assert recall_at_k(ranked, relevant=4, k=2) == pytest.approx(0.25)
    assert recall_at_k(ranked, relevant=4, k=10) == pytest.approx(0.5)
    assert math.isnan(recall_at_k(ranked, relevant=0, k=10))


def test_mrr_is_the_first_full_gain_hit() -> None:
    assert mrr([1, 0, 2, 2]) == pytest.approx(1.0 / 3.0)
    assert mrr([2]) == 1.0
    assert mrr([1, 1]) == 0.0


def test_mean_and_per_category_skip_nan() -> None:
    rows = [{"a": 1.0, "b": 1.0}, {"a": 0.0, "b": float("nan")}, {"a": 0.5, "b": 0.0}]
    assert mean_metrics(rows) == {"a": pytest.approx(0.5), "b": pytest.approx(0.5)}
    groups = by_category(rows, ["x", "y", "x"])
    assert list(groups) == ["x", "y"]
    assert groups["x"] == {"a": pytest.approx(0.75), "b": pytest.approx(0.5), "n": 2.0}
    y = groups["y"]
    assert y["a"] == 0.0 and math.isnan(y["b"]) and y["n"] == 1.0


def test_pair_retrieval_ranks_with_the_same_title_rule() -> None:
    queries = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    gallery = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]])
    keys = ["A", "B", "A"]
    scores, means = pair_scores(queries, gallery, keys, keys, block=2)
    # q2's own image scores 0.6 but the other-title g1 scores 1.0: rank 2.
    assert scores.ranks == [1, 1, 2]
    assert scores.positive == pytest.approx([1.0, 1.0, 0.6])
    metrics = pair_metrics(scores, means)
    assert metrics.recall == {"R@1": pytest.approx(2 / 3), "R@5": 1.0, "R@10": 1.0, "R@50": 1.0}
    assert metrics.mrr == pytest.approx((1 + 1 + 0.5) / 3)
    # Same-title pairs: (0,0)=1, (0,2)=.8, (1,1)=1, (2,0)=0, (2,2)=.6; others: 0, 0, .6, 1.
    assert metrics.cosine_positive == pytest.approx(3.4 / 5)
    assert metrics.cosine_negative == pytest.approx(1.6 / 4)
    assert metrics.cosine_gap == pytest.approx(3.4 / 5 - 1.6 / 4)
    d = lambda c: math.sqrt(2 - 2 * c)  # noqa: E731
    assert metrics.euclidean_positive == pytest.approx((d(1) + d(0.8) + d(1) + d(0) + d(0.6)) / 5)
    assert metrics.euclidean_negative == pytest.approx((d(0) + d(0) + d(0.6) + d(1)) / 4)
    assert metrics.euclidean_gap == pytest.approx(metrics.euclidean_negative - metrics.euclidean_positive)


def test_pair_retrieval_ties_count_against_the_query() -> None:
    zeros = np.zeros((3, 4))
    scores, _ = pair_scores(zeros, zeros, ["a", "b", "c"], ["a", "b", "c"])
    assert scores.ranks == [3, 3, 3]


def test_pair_retrieval_rejects_misaligned_inputs() -> None:
    with pytest.raises(ValueError, match="aligned"):
        pair_scores(np.zeros((2, 3)), np.zeros((3, 3)), ["a", "b"], ["a", "b", "c"])


def _catalog() -> Catalog:
    rows = [
        {"id": "1", "split": "test", "articleType": "Shirts", "baseColour": "Blue", "gender": "Men"},
        {"id": "2", "split": "test", "articleType": "Shirts", "baseColour": "Navy Blue", "gender": "Unisex"},
        {"id": "3", "split": "test", "articleType": "Shirts", "baseColour": "Red", "gender": "Men"},
        {"id": "4", "split": "train", "articleType": "Shirts", "baseColour": "Blue", "gender": "Men"},
        {"id": "5", "split": "test", "articleType": "Jeans", "baseColour": "Blue", "gender": "Men"},
    ]
    return Catalog(rows)


def test_gains_follow_the_match_rule_over_the_population() -> None:
    query = JudgedQuery(
        qid="q",
        query="men blue shirt",
        match={"articleType": ["Shirts"], "baseColour": ["blue", "Navy Blue"], "gender": ["Men", "Unisex"]},
        relevant=2,
    )
    [judgement] = judge([query], _catalog(), _catalog().ids("test"))
    assert judgement.gains == {"1": 2, "2": 2, "3": 1}
    assert judgement.relevant == 2
    assert judgement.gains_of(["5", "3", "1"]).tolist() == [0.0, 1.0, 2.0]


def test_relevant_mismatch_and_unknown_ids_are_errors() -> None:
    query = JudgedQuery(qid="q", query="shirt", match={"articleType": ["Shirts"]}, relevant=3)
    with pytest.raises(ConfigError, match="relevant=3"):
        judge([query], _catalog())
    assert judge([query], _catalog(), check_relevant=False)[0].relevant == 4
    with pytest.raises(CatalogError, match="not in the catalogue"):
        judge([query], _catalog(), ["1", "99"])


def test_query_files_round_trip_and_bad_lines_name_the_line(tmp_path: Path) -> None:
    queries = [
        JudgedQuery(
            qid="a", query="blue tee", match={"articleType": ["Tshirts"]}, relevant=1, kinds=["synonym"]
        ),
        JudgedQuery(qid="b", query="jeans", match={"articleType": ["Jeans"]}),
    ]
    path = tmp_path / "q.jsonl"
    write_queries(path, queries)
    assert (
        path.read_text().splitlines()[1]
        == '{"qid": "b", "query": "jeans", "match": {"articleType": ["Jeans"]}}'
    )
    assert load_queries(path) == queries
    path.write_text(path.read_text() + '{"qid": "c", "query": "x", "match": {}}\n')
    with pytest.raises(ConfigError, match=r"q\.jsonl:3"):
        load_queries(path)
