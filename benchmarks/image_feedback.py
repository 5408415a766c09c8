"""Choose image feedback's size and weight (``SearchSettings.image_feedback``, ``image_feedback_weight``)
the way the fusion defaults are chosen, then measure the choice on the evaluation sets.

Fit: generated judged queries (``generate_auto_queries`` from the ``split=train`` products, catalogue and
mixed wording, 400 each, expansion on) against the ``tune-full`` and ``tune-sparse`` indexes, each with the
shipped profile of its kind; every (count, weight) of the grid scored with the recall-aware objective
``0.5 * nDCG@10 + 0.5 * Recall@100``. The choice is the setting with the least worst-case shortfall over
the four groups from each group's own best. The images condition is left out: no product there has
catalogue text, so feedback never applies (the unit tests check that it then changes nothing).

Check: nDCG@10 and Recall@100 of the shipped profile without feedback and with the chosen setting, on the
``test-*`` indexes for the dev queries, the unlike-wording set and any ``--set NAME=PATH``.
``--latency-only`` instead times warm searches of the dev queries without and with the shipped feedback,
alternating query by query, on ``test-full`` and ``test-sparse``.

    python benchmarks/image_feedback.py --catalog ../shared/datasets/fashion-products/products.csv \\
        --bench-dir ~/.cache/blendsearch/bench/<catalogue>-<model>-nall-s0 \\
        --set shopper=benchmarks/queries/shopper-test.jsonl --out benchmarks/results/image-feedback.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from common import add_query_set_options, load_query_sets, open_cached_index

from blendsearch.config import SearchSettings
from blendsearch.engine import Engine
from blendsearch.eval.autoqueries import CATALOGUE_WORDINGS, MIXED_WORDINGS, generate_auto_queries
from blendsearch.eval.judgements import Catalog, JudgedQuery, read_catalog
from blendsearch.eval.tune import AUTO_RECALL_WEIGHT, judged_runs, run_metrics
from blendsearch.query.models import HybridQuery

CONDITIONS = ("full", "sparse")


def _open(index: Path, count: int, weight: float) -> Engine:
    """The index with today's built-in search settings and the given feedback."""
    return open_cached_index(index, SearchSettings(image_feedback=count, image_feedback_weight=weight))


def _measure(index: Path, queries: list[JudgedQuery], catalog: Catalog, count: int, weight: float) -> dict:
    with _open(index, count, weight) as engine:
        runs, judgements = judged_runs(engine, queries, catalog)
        metrics = run_metrics(runs, judgements, engine.search_settings())
    objective = (1 - AUTO_RECALL_WEIGHT) * metrics["ndcg@10"] + AUTO_RECALL_WEIGHT * metrics["recall@100"]
    return {name: round(value, 4) for name, value in {**metrics, "objective": objective}.items()}


def _latency(index: Path, texts: list[str], count: int, weight: float) -> dict[str, dict[str, float]]:
    """Warm search latency without and with feedback, side by side: the two settings alternate query by
    query (the order flips each query), on one opened index."""
    with _open(index, count, weight) as engine:
        options = {"off": HybridQuery(text="x", image_feedback=0), "on": HybridQuery(text="x")}
        engine.warm([q.model_copy(update={"text": t}) for t in texts[:20] for q in options.values()])
        times: dict[str, list[float]] = {name: [] for name in options}
        for number, text in enumerate(texts):
            for name in list(options) if number % 2 == 0 else list(reversed(options)):
                started = time.perf_counter()
                engine.search(options[name].model_copy(update={"text": text}))
                times[name].append((time.perf_counter() - started) * 1000.0)
    return {
        name: {
            "p50_ms": round(float(np.percentile(t, 50)), 2),
            "p99_ms": round(float(np.percentile(t, 99)), 2),
        }
        for name, t in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--bench-dir", type=Path, required=True, help="holds tune-* and test-* indexes")
    add_query_set_options(parser)
    parser.add_argument("--queries", type=int, default=400, help="generated fitting queries per group")
    parser.add_argument("--counts", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--latency-only", action="store_true", help="time the shipped setting, fit nothing")
    args = parser.parse_args()
    started = time.perf_counter()
    catalog = read_catalog(args.catalog)
    sets = load_query_sets(args)
    dev = sets["dev"]
    if args.latency_only:
        shipped = SearchSettings()
        latency = {
            c: _latency(
                args.bench_dir / f"test-{c}",
                [q.query for q in dev],
                shipped.image_feedback,
                shipped.image_feedback_weight,
            )
            for c in CONDITIONS
        }
        print(json.dumps({"latency": latency}), flush=True)
        if args.out:
            args.out.write_text(json.dumps({"latency": latency}, indent=1))
        return
    grid = [(0, 0.0)] + [(c, w) for c in args.counts for w in args.weights]
    fit: dict[str, dict[str, dict]] = {}
    for position, condition in enumerate(CONDITIONS):
        index = args.bench_dir / f"tune-{condition}"
        with _open(index, 0, 0.0) as engine:
            population = [i for i in engine.backend.iter_ids() if i in catalog.rows]
        for name, wordings in (("catalogue", CATALOGUE_WORDINGS), ("mixed", MIXED_WORDINGS)):
            queries = generate_auto_queries(
                catalog, catalog.ids("train"), population, n=args.queries, seed=position, wordings=wordings
            )
            group = fit[f"{condition}/{name}"] = {}
            for count, weight in grid:
                group[f"{count}x{weight:g}"] = _measure(index, queries, catalog, count, weight)
                print(
                    f"fit {condition}/{name} {count}x{weight:g}: {group[f'{count}x{weight:g}']}", flush=True
                )
    best = {g: max(row["objective"] for row in rows.values()) for g, rows in fit.items()}
    shortfall = {
        key: round(max(best[g] - fit[g][key]["objective"] for g in fit), 4)
        for key in next(iter(fit.values()))
    }
    chosen = min(shortfall, key=lambda key: (shortfall[key], key))
    count, weight = int(chosen.split("x")[0]), float(chosen.split("x")[1])
    print(f"chosen {chosen} (worst shortfall {shortfall[chosen]})", flush=True)

    check: dict[str, dict[str, dict]] = {}
    for condition in CONDITIONS:
        for name, queries in sets.items():
            index = args.bench_dir / f"test-{condition}"
            row = {
                "off": _measure(index, queries, catalog, 0, 0.0),
                chosen: _measure(index, queries, catalog, count, weight),
            }
            check[f"{condition}/{name}"] = row
            print(f"check {condition}/{name}: {row}", flush=True)
    report = {
        "fit": fit,
        "worst_shortfall": shortfall,
        "chosen": {"image_feedback": count, "image_feedback_weight": weight},
        "check": check,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
