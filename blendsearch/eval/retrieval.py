"""Score ranked result lists of a judged query set: nDCG@10, Recall@10/@100, MRR, overall and per category."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from blendsearch.eval.judgements import JudgedQuery, Judgement
from blendsearch.eval.metrics import by_category, mean_metrics, mrr, ndcg_at_k, recall_at_k
from blendsearch.query.models import HybridQuery

__all__ = [
    "BREAKDOWNS",
    "METRICS",
    "QueryScore",
    "QuerySetReport",
    "evaluate_queries",
    "score_ranking",
    "score_rankings",
]

#: The metrics reported for every query-set evaluation, in order.
METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr")

#: Ways to break a query set down: by the primary value asked for (e.g. the articleType), by the match
#: keys used ("articleType+baseColour"), or by how a generated query was worded (synonym, typo, ...).
BREAKDOWNS = ("primary", "shape", "kind")


class QueryScore(BaseModel):
    """One query's metrics."""

    qid: str
    query: str
    relevant: int
    metrics: dict[str, float]


class QuerySetReport(BaseModel):
    """Mean metrics of a query set, the per-category breakdowns, and (optionally) every query's scores."""

    queries: int
    metrics: dict[str, float]
    by: dict[str, dict[str, dict[str, float]]] = Field(default_factory=dict)
    per_query: list[QueryScore] = Field(default_factory=list)


def score_ranking(ranked_ids: Sequence[str], judgement: Judgement) -> dict[str, float]:
    """The four metrics of one ranked list (at least 100 long for Recall@100 to mean what it says)."""
    gains = judgement.gains_of(list(ranked_ids))
    return {
        "ndcg@10": ndcg_at_k(gains, judgement.judged(), 10),
        "recall@10": recall_at_k(gains, judgement.relevant, 10),
        "recall@100": recall_at_k(gains, judgement.relevant, 100),
        "mrr": mrr(gains),
    }


def _labels(query: JudgedQuery, breakdown: str) -> list[str]:
    if breakdown == "primary":
        return [query.match[query.primary][0]]
    if breakdown == "shape":
        return ["+".join(query.match)]
    if breakdown == "kind":
        return list(query.kinds) or ["-"]
    raise ValueError(f"unknown breakdown {breakdown!r}; valid: {', '.join(BREAKDOWNS)}")


def score_rankings(
    rankings: Sequence[Sequence[str]],
    queries: Sequence[JudgedQuery],
    judgements: Sequence[Judgement],
    *,
    breakdowns: Sequence[str] = BREAKDOWNS,
    keep_per_query: bool = False,
) -> QuerySetReport:
    """Score one ranked id list per query; a query with several ``kinds`` counts in each of them."""
    if not len(rankings) == len(queries) == len(judgements):
        raise ValueError("one ranking and one judgement per query are needed")
    rows = [score_ranking(ranked, judgement) for ranked, judgement in zip(rankings, judgements, strict=True)]
    by: dict[str, dict[str, dict[str, float]]] = {}
    for breakdown in breakdowns:
        if breakdown == "kind" and not any(q.kinds for q in queries):
            continue
        expanded = [
            (row, label) for row, q in zip(rows, queries, strict=True) for label in _labels(q, breakdown)
        ]
        by[breakdown] = by_category([r for r, _ in expanded], [label for _, label in expanded])
    per_query = [
        QueryScore(qid=q.qid, query=q.query, relevant=j.relevant, metrics=row)
        for q, j, row in zip(queries, judgements, rows, strict=True)
    ]
    return QuerySetReport(
        queries=len(rows), metrics=mean_metrics(rows), by=by, per_query=per_query if keep_per_query else []
    )


def evaluate_queries(
    engine: Any,
    queries: Sequence[JudgedQuery],
    judgements: Sequence[Judgement],
    *,
    k: int = 100,
    options: dict[str, Any] | None = None,
    breakdowns: Sequence[str] = BREAKDOWNS,
    keep_per_query: bool = False,
) -> QuerySetReport:
    """Run each query through ``engine.search`` (top ``k``; ``options``: HybridQuery fields) and score it."""
    rankings: list[list[str]] = []
    for query in queries:
        hybrid = HybridQuery(text=query.query, k=k, with_documents=False, **(options or {}))
        rankings.append([hit.id for hit in engine.search(hybrid).hits])
    return score_rankings(rankings, queries, judgements, breakdowns=breakdowns, keep_per_query=keep_per_query)
