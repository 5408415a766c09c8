"""Choose the built-in fusion defaults the way ``tune --auto`` fits an index: the fusion profile of each
kind of catalogue (``blendsearch/query/profiles.py``) and the single setting of ``SearchSettings``' own
fields; then check them on the evaluation sets they were not fitted on.

Fit: generated judged queries (``generate_auto_queries``, from the ``split=train`` products), in catalogue
wording and in mixed wording, run with and without expansion against three indexes of a ``split=train``
sample, one per kind of catalogue (full, sparse, images: the ``tune-*`` indexes ``bench quality`` builds
with the trained model), each group scored with the recall-aware objective ``0.5 * nDCG@10 + 0.5 *
Recall@100``. A setting is the grid's setting whose worst shortfall from a group's own best is smallest
(:func:`~blendsearch.eval.tune.tune_across`): over a kind's four groups for its profile, over the six
expanded groups for the single setting. No dev or unlike-wording query and no test product is used to fit.

Check: nDCG@10 and Recall@100 on the ``split=test`` indexes (``test-*``) for the dev queries and the
unlike-wording set, with expansion (and without, for the profile and the single setting), beside the best
setting tuned on each evaluated set itself: for nDCG@10 alone and for the recall-aware objective (upper
bounds: they have seen the answers).

    python benchmarks/choose_defaults.py --catalog ../shared/datasets/fashion-products/products.csv \\
        --bench-dir ~/.cache/blendsearch/bench/<catalogue>-<model>-nall-s0 \\
        --out benchmarks/results/defaults-choice.json

``--check-only`` skips the fit and checks the shipped profiles (``FUSION_PROFILES``) and single setting
instead; ``--set NAME=PATH`` adds a query set to check them on
(``--set shopper=benchmarks/queries/shopper-test.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from common import add_query_set_options, load_query_sets, open_cached_index

from blendsearch.config import SearchSettings
from blendsearch.engine import Engine
from blendsearch.eval.autoqueries import CATALOGUE_WORDINGS, MIXED_WORDINGS, generate_auto_queries
from blendsearch.eval.judgements import Catalog, JudgedQuery, Judgement, read_catalog
from blendsearch.eval.tune import (
    AUTO_RECALL_WEIGHT,
    TunedSettings,
    judged_runs,
    run_metrics,
    tune,
    tune_across,
)
from blendsearch.query.hybrid import QueryRun
from blendsearch.query.profiles import FUSION_PROFILES, resolve_fusion

CONDITIONS = ("full", "sparse", "images")


def _score(runs: list[QueryRun], judgements: list[Judgement], settings: SearchSettings) -> dict[str, float]:
    return {name: round(value, 4) for name, value in run_metrics(runs, judgements, settings).items()}


def _runs(
    engine: Engine, queries: list[JudgedQuery], catalog: Catalog
) -> dict[bool, tuple[list[QueryRun], list[Judgement]]]:
    """Every channel's results of the judged queries that have a match in the index, with expansion
    (``True``) and without (``False``), on one opened index."""
    return {expand: judged_runs(engine, queries, catalog, expand=expand) for expand in (True, False)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--bench-dir", type=Path, required=True, help="holds tune-* and test-* indexes")
    add_query_set_options(parser)
    parser.add_argument("--queries", type=int, default=400, help="generated fitting queries per condition")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--check-only", action="store_true", help="check the shipped defaults, fit nothing")
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=CONDITIONS)
    args = parser.parse_args()
    started = time.perf_counter()
    catalog = read_catalog(args.catalog)
    base = SearchSettings()
    sets = load_query_sets(args)
    if args.check_only:
        shipped = {p.name: resolve_fusion(base, p.image_only_share) for p in FUSION_PROFILES}
        table = check(args, catalog, sets, base, shipped)
        report = {"shipped": True, "evaluation": table, "seconds": round(time.perf_counter() - started, 1)}
        if args.out:
            args.out.write_text(json.dumps(report, indent=1))
        return
    source = catalog.ids("train")

    # Each group's queries run with expansion (the default) and without (``expand=False``, a per-query
    # option): the single setting was fitted on the expanded runs; a profile replaces the blend of every
    # text query, so it must hold for both.
    groups: dict[str, tuple[list[QueryRun], list[Judgement]]] = {}
    for position, condition in enumerate(CONDITIONS):
        with open_cached_index(args.bench_dir / f"tune-{condition}") as engine:
            population = [i for i in engine.backend.iter_ids() if i in catalog.rows]
            for name, wordings in (("catalogue", CATALOGUE_WORDINGS), ("mixed", MIXED_WORDINGS)):
                generated = generate_auto_queries(
                    catalog, source, population, n=args.queries, seed=position, wordings=wordings
                )
                both = _runs(engine, generated, catalog)
                groups[f"{condition}/{name}"], groups[f"{condition}/{name}/no expansion"] = (
                    both[True],
                    both[False],
                )
                print(
                    f"fit {condition}/{name}: {len(both[True][0])} generated queries with a match", flush=True
                )
    expanded = {g: groups[g] for g in groups if not g.endswith("/no expansion")}
    across = tune_across(expanded, base, recall_weight=AUTO_RECALL_WEIGHT)
    chosen = across.best.apply(base)
    print("single setting (least worst-case regret):", across.model_dump_json(), flush=True)
    # One setting per kind of catalogue (its two wordings, with and without expansion): the profiles
    # ``SearchSettings.fusion_profile="auto"`` picks from by the index's share of image-only products.
    profiles = {
        condition: tune_across(
            {g: groups[g] for g in groups if g.startswith(f"{condition}/")},
            base,
            recall_weight=AUTO_RECALL_WEIGHT,
        )
        for condition in CONDITIONS
    }
    for condition, result in profiles.items():
        print(f"profile {condition}:", result.model_dump_json(), flush=True)

    table = check(args, catalog, sets, chosen, {c: profiles[c].best.apply(base) for c in CONDITIONS})
    report = {
        "fit": {
            "indexes": [str(args.bench_dir / f"tune-{c}") for c in CONDITIONS],
            "queries": {g: len(runs) for g, (runs, _) in groups.items()},
            "recall_weight": AUTO_RECALL_WEIGHT,
            "single setting": across.model_dump(),
            "profiles": {c: r.model_dump() for c, r in profiles.items()},
        },
        "evaluation": table,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


def check(
    args: argparse.Namespace,
    catalog: Catalog,
    sets: dict[str, list[JudgedQuery]],
    single: SearchSettings,
    profiles: dict[str, SearchSettings],
) -> dict[str, dict[str, object]]:
    """Each set on each condition's ``test-*`` index: the single setting and the condition's profile, with
    and without expansion, beside the settings tuned on the set itself (nDCG@10 alone; recall-aware)."""
    base = SearchSettings()
    table: dict[str, dict[str, object]] = {}
    for condition in args.conditions:
        profile = profiles[condition]
        with open_cached_index(args.bench_dir / f"test-{condition}") as engine:
            evaluated = {name: _runs(engine, queries, catalog) for name, queries in sets.items()}
        for name, both in evaluated.items():
            (runs, judgements), plain = both[True], both[False]
            upper = tune(runs, judgements, base).best.apply(base)
            # The same with tune --auto's recall-aware objective: what a shop tuning for both gets.
            upper_auto = tune(runs, judgements, base, recall_weight=AUTO_RECALL_WEIGHT).best.apply(base)
            row = {
                "queries": len(runs),
                "single setting": _score(runs, judgements, single),
                "condition profile": _score(runs, judgements, profile),
                "tuned on this set (upper bound)": _score(runs, judgements, upper),
                "tuned on this set, recall-aware": _score(runs, judgements, upper_auto),
                "single setting, no expansion": _score(*plain, single),
                "condition profile, no expansion": _score(*plain, profile),
                "upper bound setting": TunedSettings(
                    weights=upper.weights,
                    normalisation=upper.normalisation,
                    combination=upper.combination,
                    rrf_k=upper.rrf_k,
                ).model_dump(),
            }
            table[f"{condition}/{name}"] = row
            print(condition, name, json.dumps(row), flush=True)
    return table


if __name__ == "__main__":
    main()
