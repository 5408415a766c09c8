"""Choose the built-in fusion defaults (``SearchSettings``) the way ``tune --auto`` fits an index, and check
them on the evaluation sets they were not fitted on.

Fit: generated judged queries (``generate_auto_queries``, from the ``split=train`` products), in catalogue
wording and in mixed wording, run against three indexes of a ``split=train`` sample, one per catalogue
condition (full, sparse, images: the ``tune-*`` indexes ``bench quality`` builds with the trained model):
six groups, each scored with the recall-aware objective ``0.5 * nDCG@10 + 0.5 * Recall@100``. One setting
must serve every condition and wording, so the one chosen is the setting of the grid whose worst
shortfall from a group's own best is smallest (:func:`~blendsearch.eval.tune.tune_across`); the best
setting of the pooled queries is reported beside it. No dev or unlike-wording query and no test product
is used to fit.

Check: nDCG@10 and Recall@100 with expansion on the ``split=test`` indexes (``test-*``) for the dev
queries and the unlike-wording set, for the defaults as they were, the chosen setting, RRF k=60 with the
old weights, and the best setting tuned on each evaluated set itself (an upper bound: it has seen the
answers).

    python benchmarks/choose_defaults.py --catalog ../shared/datasets/fashion-products/products.csv \\
        --bench-dir ~/.cache/blendsearch/bench/<catalogue>-<model>-nall-s0 \\
        --out benchmarks/results/defaults-choice.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from blendsearch.config import SearchSettings
from blendsearch.engine import Engine
from blendsearch.eval.autoqueries import CATALOGUE_WORDINGS, MIXED_WORDINGS, generate_auto_queries
from blendsearch.eval.judgements import Catalog, JudgedQuery, Judgement, load_queries, read_catalog
from blendsearch.eval.tune import (
    AUTO_RECALL_WEIGHT,
    TunedSettings,
    judged_runs,
    run_metrics,
    tune,
    tune_across,
)
from blendsearch.query.hybrid import QueryRun

HERE = Path(__file__).resolve().parent
CONDITIONS = ("full", "sparse", "images")


def _score(runs: list[QueryRun], judgements: list[Judgement], settings: SearchSettings) -> dict[str, float]:
    return {name: round(value, 4) for name, value in run_metrics(runs, judgements, settings).items()}


def _runs(
    index: Path, queries: list[JudgedQuery], catalog: Catalog
) -> tuple[list[QueryRun], list[Judgement]]:
    """Every channel's results of the judged queries that have a match in the index, with expansion."""
    with Engine.open(index) as engine:
        return judged_runs(engine, queries, catalog, expand=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--bench-dir", type=Path, required=True, help="holds tune-* and test-* indexes")
    parser.add_argument("--dev", type=Path, help="default: queries-dev.jsonl beside the catalogue")
    parser.add_argument("--unlike", type=Path, default=HERE / "queries" / "unlike-test.jsonl")
    parser.add_argument("--queries", type=int, default=400, help="generated fitting queries per condition")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    catalog = read_catalog(args.catalog)
    base = SearchSettings()
    source = catalog.ids("train")

    groups: dict[str, tuple[list[QueryRun], list[Judgement]]] = {}
    for position, condition in enumerate(CONDITIONS):
        index = args.bench_dir / f"tune-{condition}"
        with Engine.open(index) as engine:
            population = [i for i in engine.backend.iter_ids() if i in catalog.rows]
        for name, wordings in (("catalogue", CATALOGUE_WORDINGS), ("mixed", MIXED_WORDINGS)):
            generated = generate_auto_queries(
                catalog, source, population, n=args.queries, seed=position, wordings=wordings
            )
            group = groups[f"{condition}/{name}"] = _runs(index, generated, catalog)
            print(f"fit {condition}/{name}: {len(group[0])} generated queries with a match", flush=True)
    pooled = tune(
        [r for runs, _ in groups.values() for r in runs],
        [j for _, judgements in groups.values() for j in judgements],
        base,
        recall_weight=AUTO_RECALL_WEIGHT,
    )
    across = tune_across(groups, base, recall_weight=AUTO_RECALL_WEIGHT)
    chosen = across.best.apply(base)
    print("pooled:", pooled.best.model_dump_json(), flush=True)
    print("chosen (least worst-case regret):", across.model_dump_json(), flush=True)

    sets = {
        "dev": load_queries(args.dev or args.catalog.parent / "queries-dev.jsonl"),
        "unlike": load_queries(args.unlike),
    }
    rrf = TunedSettings(weights=base.weights, normalisation="minmax", combination="rrf", rrf_k=60.0)
    table: dict[str, dict[str, object]] = {}
    for condition in CONDITIONS:
        for name, queries in sets.items():
            runs, judgements = _runs(args.bench_dir / f"test-{condition}", queries, catalog)
            upper = tune(runs, judgements, base).best.apply(base)
            row = {
                "queries": len(runs),
                "old default": _score(runs, judgements, base),
                "chosen": _score(runs, judgements, chosen),
                "pooled fit": _score(runs, judgements, pooled.best.apply(base)),
                "rrf k=60": _score(runs, judgements, rrf.apply(base)),
                "tuned on this set (upper bound)": _score(runs, judgements, upper),
                "upper bound setting": TunedSettings(
                    weights=upper.weights,
                    normalisation=upper.normalisation,
                    combination=upper.combination,
                    rrf_k=upper.rrf_k,
                ).model_dump(),
            }
            table[f"{condition}/{name}"] = row
            print(condition, name, json.dumps(row), flush=True)
    report = {
        "fit": {
            "indexes": [str(args.bench_dir / f"tune-{c}") for c in CONDITIONS],
            "queries": {g: len(runs) for g, (runs, _) in groups.items()},
            "recall_weight": AUTO_RECALL_WEIGHT,
            "chosen": across.model_dump(),
            "pooled": pooled.best.model_dump(),
        },
        "evaluation": table,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
