"""Retrieval metrics as pure numpy functions on small arrays: graded nDCG, recall, MRR, pair retrieval.

Sources:
- nDCG: Järvelin & Kekäläinen (TOIS 2002), DCG@k = sum_{i<=k} gain_i / log2(i + 1) with linear gains
  (as trec_eval's ``ndcg`` and scikit-learn's ``ndcg_score``); the ideal DCG sorts ALL judged gains of
  the catalogue for the query, not only the retrieved ones, so a system is not rewarded for finding few.
- Recall@k: gain-2 hits in the top k divided by the number of gain-2 items in the catalogue.
- MRR: mean over queries of 1 / rank of the first gain-2 hit (0 when none is retrieved).
- Pair retrieval Recall@K / MRR as in CLIP-style text<->image retrieval benchmarks; a hit is any gallery
  item with the same key (title), because catalogue titles repeat.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

__all__ = [
    "PAIR_KS",
    "PairMetrics",
    "PairScores",
    "by_category",
    "dcg_at_k",
    "mean_metrics",
    "mrr",
    "ndcg_at_k",
    "pair_metrics",
    "pair_scores",
    "recall_at_k",
]

#: The cut-offs reported for pair retrieval.
PAIR_KS = (1, 5, 10, 50)

#: The gain of a fully relevant item; recall and MRR count only these.
FULL_GAIN = 2


def dcg_at_k(gains: npt.ArrayLike, k: int) -> float:
    """DCG of the first k gains in ranked order: sum gain_i / log2(i + 1), i from 1.

    >>> round(dcg_at_k([2, 0, 1], 3), 6)
    2.5
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    values = np.asarray(gains, dtype=np.float64)[:k]
    if values.size == 0:
        return 0.0
    discounts = np.log2(np.arange(2, values.size + 2, dtype=np.float64))
    return float((values / discounts).sum())


def ndcg_at_k(ranked_gains: npt.ArrayLike, judged_gains: npt.ArrayLike, k: int = 10) -> float:
    """Graded nDCG@k: DCG of the ranking over DCG of the best possible ranking of every judged gain.

    ``ranked_gains`` are the gains of the retrieved items in rank order; ``judged_gains`` are the gains of
    every catalogue item for this query (zeros may be left out). 0.0 when nothing in the catalogue has gain.
    """
    ideal = dcg_at_k(np.sort(np.asarray(judged_gains, dtype=np.float64))[::-1], k)
    if ideal <= 0.0:
        return 0.0
    return dcg_at_k(ranked_gains, k) / ideal


def recall_at_k(ranked_gains: npt.ArrayLike, relevant: int, k: int) -> float:
    """Share of the query's ``relevant`` gain-2 items found in the top k; NaN when ``relevant`` is 0."""
    if k < 1:
        raise ValueError("k must be >= 1")
    if relevant <= 0:
        return float("nan")
    values = np.asarray(ranked_gains, dtype=np.float64)[:k]
    return float(np.count_nonzero(values >= FULL_GAIN)) / relevant


def mrr(ranked_gains: npt.ArrayLike) -> float:
    """Reciprocal rank of the first gain-2 item (1-based), 0.0 when none was retrieved."""
    values = np.asarray(ranked_gains, dtype=np.float64)
    hits = np.flatnonzero(values >= FULL_GAIN)
    return 1.0 / (int(hits[0]) + 1) if hits.size else 0.0


def mean_metrics(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Per-metric mean over queries, ignoring NaN (a query without relevant items has no recall)."""
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    out: dict[str, float] = {}
    for key in keys:
        values = np.asarray([row[key] for row in rows if key in row], dtype=np.float64)
        values = values[~np.isnan(values)]
        out[key] = float(values.mean()) if values.size else float("nan")
    return out


def by_category(
    rows: Sequence[Mapping[str, float]], categories: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Mean of each metric per category (one category label per row), with the row count as ``n``.

    Categories come back sorted by name, so reports are stable.
    """
    if len(rows) != len(categories):
        raise ValueError(f"{len(rows)} rows but {len(categories)} category labels")
    groups: dict[str, list[Mapping[str, float]]] = defaultdict(list)
    for row, category in zip(rows, categories, strict=True):
        groups[category].append(row)
    return {name: {**mean_metrics(groups[name]), "n": float(len(groups[name]))} for name in sorted(groups)}


class PairScores(BaseModel):
    """Per-query outcome of pair retrieval, kept for breakdowns and plots."""

    #: 1-based rank of the best-scoring same-key gallery item for each query.
    ranks: list[int]
    #: Cosine of each query with its own counterpart (the diagonal pair).
    positive: list[float]
    #: Cosine of each query with one gallery item of another key, drawn with a fixed seed.
    negative: list[float]


class PairMetrics(BaseModel):
    """Pair-retrieval summary: Recall@K, MRR, and how far apart positive and negative pairs lie."""

    queries: int
    recall: dict[str, float]
    mrr: float
    #: Mean cosine over all same-key (positive) and all other (negative) query-gallery pairs.
    cosine_positive: float
    cosine_negative: float
    cosine_gap: float
    #: The same in euclidean distance (unit vectors: sqrt(2 - 2 cos)); its gap is negative - positive.
    euclidean_positive: float
    euclidean_negative: float
    euclidean_gap: float


def _codes(keys: Sequence[str]) -> npt.NDArray[np.int64]:
    index: dict[str, int] = {}
    return np.asarray([index.setdefault(k, len(index)) for k in keys], dtype=np.int64)


def pair_scores(
    queries: npt.ArrayLike,
    gallery: npt.ArrayLike,
    query_keys: Sequence[str],
    gallery_keys: Sequence[str],
    *,
    block: int = 1024,
    seed: int = 0,
) -> tuple[PairScores, dict[str, float]]:
    """Rank the gallery for every query by cosine (rows are unit vectors, so a dot product).

    A query's rank is 1 + the number of other-key gallery items scoring at least as high as its best
    same-key item (ties count against the query, so constant vectors score badly, not perfectly).
    Queries and gallery are aligned: row i of both is the same product (so every query has a hit), and
    ``positive`` is that diagonal pair.
    Works in blocks of ``block`` queries so an 8.8k x 8.8k catalogue needs a few MB at a time.
    Returns the per-query scores and the mean cosine / euclidean of all positive and negative pairs.
    """
    q = np.asarray(queries, dtype=np.float32)
    g = np.asarray(gallery, dtype=np.float32)
    if q.ndim != 2 or q.shape != g.shape:
        raise ValueError(f"query {q.shape} and gallery {g.shape} must be aligned [n, d] arrays")
    if len(query_keys) != q.shape[0] or len(gallery_keys) != g.shape[0]:
        raise ValueError("one key per query row and per gallery row is needed")
    codes = _codes([*query_keys, *gallery_keys])
    q_codes, g_codes = codes[: q.shape[0]], codes[q.shape[0] :]
    rng = np.random.default_rng(seed)
    n = q.shape[0]
    ranks = np.zeros(n, dtype=np.int64)
    positive = np.zeros(n)
    negative = np.full(n, np.nan)
    sums = dict.fromkeys(("cos_pos", "cos_neg", "euc_pos", "euc_neg", "n_pos", "n_neg"), 0.0)
    for start in range(0, n, block):
        stop = min(start + block, n)
        rows = np.arange(stop - start)
        sims = (q[start:stop] @ g.T).astype(np.float64)
        same = q_codes[start:stop, None] == g_codes[None, :]
        dist = np.sqrt(np.clip(2.0 - 2.0 * sims, 0.0, None))
        for name, mask in (("pos", same), ("neg", ~same)):
            sums[f"cos_{name}"] += float(sims[mask].sum())
            sums[f"euc_{name}"] += float(dist[mask].sum())
            sums[f"n_{name}"] += float(mask.sum())
        best_positive = np.where(same, sims, -np.inf).max(axis=1)
        ranks[start:stop] = 1 + ((~same) & (sims >= best_positive[:, None])).sum(axis=1)
        positive[start:stop] = sims[rows, rows + start]
        for row in rows:
            others = np.flatnonzero(~same[row])
            if others.size:
                negative[start + row] = sims[row, others[rng.integers(others.size)]]
    means = {
        "cosine_positive": sums["cos_pos"] / max(sums["n_pos"], 1.0),
        "cosine_negative": sums["cos_neg"] / max(sums["n_neg"], 1.0),
        "euclidean_positive": sums["euc_pos"] / max(sums["n_pos"], 1.0),
        "euclidean_negative": sums["euc_neg"] / max(sums["n_neg"], 1.0),
    }
    scores = PairScores(
        ranks=ranks.tolist(), positive=positive.tolist(), negative=[float(x) for x in negative]
    )
    return scores, means


def pair_metrics(scores: PairScores, means: Mapping[str, float], ks: Sequence[int] = PAIR_KS) -> PairMetrics:
    """Recall@K (rank <= K), MRR and the positive/negative gaps from :func:`pair_scores`' output."""
    ranks = np.asarray(scores.ranks, dtype=np.float64)
    n = int(ranks.size)
    recall = {f"R@{k}": float((ranks <= k).mean()) if n else float("nan") for k in ks}
    return PairMetrics(
        queries=n,
        recall=recall,
        mrr=float((1.0 / ranks).mean()) if n else float("nan"),
        cosine_positive=means["cosine_positive"],
        cosine_negative=means["cosine_negative"],
        cosine_gap=means["cosine_positive"] - means["cosine_negative"],
        euclidean_positive=means["euclidean_positive"],
        euclidean_negative=means["euclidean_negative"],
        euclidean_gap=means["euclidean_negative"] - means["euclidean_positive"],
    )
