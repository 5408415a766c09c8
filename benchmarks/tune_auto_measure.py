"""``tune --auto`` against the defaults and against tuning on the evaluated set itself: the table of
docs/calibration.md.

For each index given (one per catalogue condition), fits fusion on generated queries of mixed wording
(from the catalogue's ``split=train`` products, judged over the index) with the nDCG@10-only objective and
the recall-aware one, and reports nDCG@10 and Recall@100 on the dev queries and the unlike-wording set for
the default settings, RRF k=60, both auto fits, and the best setting tuned on each evaluated set itself
(an upper bound: it has seen the answers).

    python benchmarks/tune_auto_measure.py --catalog ../shared/datasets/fashion-products/products.csv \\
        full=/tmp/fashion-test-full sparse=/tmp/fashion-test-sparse
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import add_query_set_options, load_query_sets

from blendsearch.config import SearchSettings
from blendsearch.engine import Engine
from blendsearch.eval.autoqueries import auto_source_ids, generate_auto_queries
from blendsearch.eval.judgements import Catalog, JudgedQuery, Judgement, read_catalog
from blendsearch.eval.tune import AUTO_RECALL_WEIGHT, TunedSettings, judged_runs, run_metrics, tune
from blendsearch.query.hybrid import QueryRun


def _score(runs: list[QueryRun], judgements: list[Judgement], settings: SearchSettings) -> dict[str, float]:
    return {name: round(value, 4) for name, value in run_metrics(runs, judgements, settings).items()}


def measure(index: Path, catalog: Catalog, sets: dict[str, list[JudgedQuery]], n: int) -> dict[str, object]:
    with Engine.open(index) as engine:
        base = engine.search_settings()
        population = [i for i in engine.backend.iter_ids() if i in catalog.rows]
        source, _ = auto_source_ids(catalog)
        generated = generate_auto_queries(catalog, source, population, n=n, seed=0)
        queries = {"auto": generated, **sets}
        data = {name: judged_runs(engine, qs, catalog, population) for name, qs in queries.items()}
    rrf = TunedSettings(weights=base.weights, normalisation="minmax", combination="rrf", rrf_k=60.0)
    settings = {"default": base, "rrf k=60": rrf.apply(base)}
    for weight in (0.0, AUTO_RECALL_WEIGHT):
        settings[f"tune --auto, recall weight {weight:g}"] = tune(
            *data["auto"], base, recall_weight=weight
        ).best.apply(base)
    for name in sets:
        settings[f"tuned on {name} itself"] = tune(*data[name], base).best.apply(base)
    out: dict[str, object] = {}
    for label, setting in settings.items():
        fusion = f"rrf k={setting.rrf_k:g}" if setting.combination == "rrf" else setting.normalisation
        out[label] = {
            "weights": dict(setting.weights),
            "fusion": fusion,
            **{name: _score(*data[name], setting) for name in sets},
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    add_query_set_options(parser, more_sets=False)
    parser.add_argument("--queries", type=int, default=400, help="generated tuning queries")
    parser.add_argument("--out", type=Path)
    parser.add_argument("indexes", nargs="+", help="CONDITION=INDEX_DIR")
    args = parser.parse_args()
    catalog = read_catalog(args.catalog)
    sets = load_query_sets(args)
    results = {}
    for spec in args.indexes:
        condition, _, index = spec.partition("=")
        results[condition] = measure(Path(index), catalog, sets, args.queries)
        for label, row in results[condition].items():
            print(condition, "|", label, "|", json.dumps(row))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
