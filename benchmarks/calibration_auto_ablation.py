"""Which fused-calibration features transfer across wording: the ablation table of docs/calibration.md.

Fits the fused model as ``blendsearch calibrate --auto`` does (generated queries, the seeded half) for each
wording of the generated queries x each feature set, plus a reference fit on the hand-judged dev queries'
half, and reports ECE / Brier on the top 50 hits of the dev queries and of the unlike-wording test set.

    python benchmarks/calibration_auto_ablation.py --build --index /tmp/fashion-test-full \\
        --catalog ../shared/datasets/fashion-products/products.csv

``--build`` first indexes the catalogue's ``split=test`` products (full condition) with no model: BM25 +
metadata + colours from the photos, the lexical-only setting the table in the docs was measured in. Point
``--index`` at an index with a model to include the vector channels.

Each feature set is also fitted without the query-level features (``<set> - query``), so one run shows
what they add on the same hits. ``--save`` keeps the feature matrices (``.npz``) and ``--load`` refits
from them without running a query (to try other feature subsets offline).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from common import add_query_set_options, load_query_sets

from blendsearch.calibration.fit import FEATURE_SETS, fit_fused_subset, judged_hits, split_queries, stack_hits
from blendsearch.calibration.fused import FEATURE_NAMES, QUERY_FEATURES
from blendsearch.calibration.metrics import brier, expected_calibration_error
from blendsearch.config import EncoderSettings, EngineConfig, EnrichmentSettings, FieldMapping
from blendsearch.engine import Engine
from blendsearch.eval.autoqueries import CATALOGUE_WORDINGS, MIXED_WORDINGS, WORDINGS, auto_queries
from blendsearch.eval.conditions import condition_documents
from blendsearch.eval.judgements import read_catalog


def build(index: Path, catalog_path: Path) -> None:
    catalog = read_catalog(catalog_path)
    docs, root = condition_documents(catalog, catalog_path, catalog.ids("test"), set())
    config = EngineConfig(
        fields=FieldMapping(image_root=root),
        encoder=EncoderSettings(model=None),
        enrichment=EnrichmentSettings(tags=False, describe=False),
    )
    with Engine.open(index, config) as engine:
        print(engine.ingest(docs, rejects=index / "rejects.jsonl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--catalog", type=Path, required=True)
    add_query_set_options(parser, more_sets=False)
    parser.add_argument("--queries", type=int, default=800, help="generated queries per wording")
    parser.add_argument("--build", action="store_true", help="index the test split first (no model)")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    parser.add_argument("--save", type=Path, help="write the feature matrices and labels here (.npz)")
    parser.add_argument("--load", type=Path, help="refit from a --save file instead of running queries")
    parser.add_argument("--plot-dir", type=Path, help="draw a reliability diagram per evaluated set here")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated queries and of the halves")
    args = parser.parse_args()
    if args.build:
        build(args.index, args.catalog)
    if args.load:
        evaluated, fits = load_matrices(args.load)
    else:
        evaluated, fits = run_queries(args)
    if args.save:
        save_matrices(args.save, evaluated, fits)
    rows = report(evaluated, fits)
    if args.plot_dir:
        plot(args.plot_dir, evaluated, fits["auto, mixed wording"])
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


Matrices = dict[str, tuple[np.ndarray, np.ndarray]]


def run_queries(args: argparse.Namespace) -> tuple[Matrices, Matrices]:
    """(evaluated sets, fitting sets) as (features, labels), the queries run through the engine."""
    catalog = read_catalog(args.catalog)
    sets = load_query_sets(args)
    dev, unlike = sets["dev"], sets["unlike"]
    with Engine.open(args.index) as engine:
        evaluated = {
            name: stack_hits(judged_hits(engine, qs, catalog, 50))
            for name, qs in (("dev", dev), ("unlike", unlike))
        }
        dev_fit, _ = split_queries(dev, args.seed)
        fits = {"dev half (hand-judged)": stack_hits(judged_hits(engine, dev_fit, catalog, 50))}
        for name, wordings in (
            ("catalogue", CATALOGUE_WORDINGS),
            ("mixed", MIXED_WORDINGS),
            ("all", WORDINGS),
        ):
            generated = auto_queries(engine, catalog, n=args.queries, wordings=wordings, seed=args.seed)
            fit_queries, _ = split_queries(generated.queries, args.seed)
            fits[f"auto, {name} wording"] = stack_hits(judged_hits(engine, fit_queries, catalog, 50))
    return evaluated, fits


def save_matrices(path: Path, evaluated: Matrices, fits: Matrices) -> None:
    arrays: dict[str, np.ndarray] = {"feature_names": np.array(FEATURE_NAMES)}
    for kind, sets in (("eval", evaluated), ("fit", fits)):
        for name, (x, y) in sets.items():
            arrays[f"{kind}|{name}|x"], arrays[f"{kind}|{name}|y"] = x, y
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def load_matrices(path: Path) -> tuple[Matrices, Matrices]:
    data = np.load(path)
    if list(data["feature_names"]) != list(FEATURE_NAMES):
        raise SystemExit(f"{path} was saved with other features than this version computes")
    sets: dict[str, Matrices] = {"eval": {}, "fit": {}}
    for key in data.files:
        if key.endswith("|x"):
            kind, name, _ = key.split("|")
            sets[kind][name] = (data[key], data[f"{kind}|{name}|y"])
    return sets["eval"], sets["fit"]


def report(evaluated: Matrices, fits: Matrices) -> list[dict[str, object]]:
    """ECE / Brier of every fit x feature set (each also without the query features) on each set."""
    rows: list[dict[str, object]] = []
    feature_sets: dict[str, tuple[str, ...]] = {}
    for name, keep in FEATURE_SETS.items():
        feature_sets[name] = keep
        feature_sets[f"{name} - query"] = tuple(f for f in keep if f not in QUERY_FEATURES)
    for name, (x, y) in evaluated.items():
        before = np.clip(x[:, 0], 0, 1)
        ece, score = expected_calibration_error(before, y), brier(before, y)
        print(f"uncalibrated on {name}: ECE {ece:.3f} Brier {score:.3f}")
    for fit_name, (fit_x, fit_y) in fits.items():
        for feature_name, keep in feature_sets.items():
            model = fit_fused_subset(fit_x, fit_y, keep)
            row: dict[str, object] = {"fit": fit_name, "features": feature_name}
            for name, (x, y) in evaluated.items():
                p = model.probability_of_features(x)
                row[name] = {
                    "ece": round(expected_calibration_error(p, y), 4),
                    "brier": round(brier(p, y), 4),
                }
            rows.append(row)
            print(json.dumps(row))
    return rows


def plot(folder: Path, evaluated: Matrices, fit: tuple[np.ndarray, np.ndarray]) -> None:
    """Reliability diagrams of the ``calibrate --auto`` default (mixed wording, all features), the same
    fit without the query features, and the uncalibrated fused score, one per evaluated set."""
    from blendsearch.calibration.metrics import reliability_diagram

    folder.mkdir(parents=True, exist_ok=True)
    keep = FEATURE_SETS["all"]
    models = {
        "calibrate --auto": fit_fused_subset(*fit, keep),
        "without query features": fit_fused_subset(*fit, tuple(f for f in keep if f not in QUERY_FEATURES)),
    }
    for name, (x, y) in evaluated.items():
        series = {"uncalibrated fused score": np.clip(x[:, 0], 0, 1)}
        series.update({label: model.probability_of_features(x) for label, model in models.items()})
        path = reliability_diagram(series, y, folder / f"calibrate-auto-{name}.png", title=f"{name} queries")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
