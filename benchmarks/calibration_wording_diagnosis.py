"""Where ``calibrate --auto``'s error on other wording comes from: the diagnosis in docs/calibration.md.

For each seed, fits the fused model as ``calibrate --auto`` does (800 generated queries of mixed wording,
the seeded half, all features) and reports, on the top 50 hits of the dev queries and of the unlike-wording
test set:

- ``bins``: the reliability table (hits, mean predicted, observed match rate per tenth of probability);
- ``kinds``: ECE, mean predicted and observed rate per wording kind of the evaluated queries;
- ``feature_sets``: the evaluated sets' ECE of the same fit on each named feature set (``FEATURE_SETS``);
- ``l2``: for each ridge strength, the evaluated sets' ECE and the generated queries' own
  leave-one-wording-out log-loss (fit on six wordings, predict the seventh): the only selection rule that
  sees no evaluated query.

    python benchmarks/calibration_wording_diagnosis.py --index INDEX_WITH_MODEL \\
        --catalog ../shared/datasets/fashion-products/products.csv --seeds 0 1 2 3 4 5 --out diagnosis.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from common import add_query_set_options, load_query_sets

from blendsearch.calibration.fit import FEATURE_SETS, JudgedHits, fit_fused_subset, judged_hits, split_queries
from blendsearch.calibration.fused import FusedCalibration
from blendsearch.calibration.metrics import brier, expected_calibration_error, log_loss
from blendsearch.engine import Engine
from blendsearch.eval.autoqueries import MIXED_WORDINGS, auto_queries
from blendsearch.eval.judgements import JudgedQuery, read_catalog

L2_GRID = (1.0, 3.0, 10.0, 30.0, 100.0)


class Hits:
    """Stacked judged hits with each hit's query wording (``+``-joined kinds)."""

    def __init__(self, rows: Sequence[JudgedHits], queries: Sequence[JudgedQuery]) -> None:
        self.x = np.vstack([r.features for r in rows])
        self.y = np.concatenate([r.labels for r in rows])
        self.kind = np.concatenate(
            [np.full(len(r.labels), "+".join(q.kinds) or "-") for r, q in zip(rows, queries, strict=True)]
        )


def bins(p: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
    which = np.minimum((p * 10).astype(int), 9)
    return [
        {
            "bin": b / 10,
            "hits": int((which == b).sum()),
            "predicted": round(float(p[which == b].mean()), 3),
            "observed": round(float(y[which == b].mean()), 3),
        }
        for b in range(10)
        if (which == b).any()
    ]


def by_kind(p: np.ndarray, hits: Hits) -> dict[str, dict[str, float]]:
    out = {}
    for kind in np.unique(hits.kind):
        sel = hits.kind == kind
        out[str(kind)] = {
            "hits": int(sel.sum()),
            "ece": round(expected_calibration_error(p[sel], hits.y[sel]), 3),
            "predicted": round(float(p[sel].mean()), 3),
            "observed": round(float(hits.y[sel].mean()), 3),
        }
    return out


def leave_one_wording_out(fit: Hits, l2: float) -> float:
    """Log-loss of each wording's hits under a model fitted on the other wordings' hits."""
    predicted, labels = [], []
    for kind in np.unique(fit.kind):
        train = fit.kind != kind
        model = fit_fused_subset(fit.x[train], fit.y[train], FEATURE_SETS["all"], l2=l2)
        predicted.append(model.probability_of_features(fit.x[~train]))
        labels.append(fit.y[~train])
    return log_loss(np.concatenate(predicted), np.concatenate(labels))


def plot(folder: Path, evaluated: dict[str, Hits], model: FusedCalibration) -> None:
    """The ``calibrate --auto`` fit against the uncalibrated fused score, one diagram per evaluated set."""
    from blendsearch.calibration.metrics import reliability_diagram

    folder.mkdir(parents=True, exist_ok=True)
    for name, hits in evaluated.items():
        series = {
            "uncalibrated fused score": np.clip(hits.x[:, 0], 0, 1),
            "calibrate --auto": model.probability_of_features(hits.x),
        }
        path = reliability_diagram(
            series, hits.y, folder / f"calibrate-auto-{name}.png", title=f"{name} queries"
        )
        print(f"wrote {path}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--catalog", type=Path, required=True)
    add_query_set_options(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--plot-dir", type=Path, help="reliability diagram per evaluated set (first seed's fit)"
    )
    args = parser.parse_args()
    catalog = read_catalog(args.catalog)
    report: dict[str, object] = {"seeds": {}}
    with Engine.open(args.index) as engine:
        evaluated = {}
        for name, queries in load_query_sets(args).items():
            evaluated[name] = Hits(judged_hits(engine, queries, catalog, 50), queries)
        for seed in args.seeds:
            generated = auto_queries(engine, catalog, n=800, wordings=MIXED_WORDINGS, seed=seed)
            fit_queries, _ = split_queries(generated.queries, seed)
            fit = Hits(judged_hits(engine, fit_queries, catalog, 50), fit_queries)
            model = fit_fused_subset(fit.x, fit.y, FEATURE_SETS["all"])
            row: dict[str, object] = {}
            for name, hits in evaluated.items():
                p = model.probability_of_features(hits.x)
                row[name] = {
                    "ece": round(expected_calibration_error(p, hits.y), 4),
                    "brier": round(brier(p, hits.y), 4),
                    "bins": bins(p, hits.y),
                    "kinds": by_kind(p, hits),
                }
            if args.plot_dir and seed == args.seeds[0]:
                plot(args.plot_dir, evaluated, model)
            # The same fit on each named feature set (``calibrate --auto --features``): does any transfer?
            row["feature_sets"] = {}
            for set_name, keep in FEATURE_SETS.items():
                subset = fit_fused_subset(fit.x, fit.y, keep)
                row["feature_sets"][set_name] = {
                    name: round(expected_calibration_error(subset.probability_of_features(hits.x), hits.y), 4)
                    for name, hits in evaluated.items()
                }
            row["l2"] = []
            for l2 in L2_GRID:
                scaled = fit_fused_subset(fit.x, fit.y, FEATURE_SETS["all"], l2=l2)
                entry = {"l2": l2, "leave_one_wording_out_log_loss": round(leave_one_wording_out(fit, l2), 4)}
                for name, hits in evaluated.items():
                    entry[f"{name}_ece"] = round(
                        expected_calibration_error(scaled.probability_of_features(hits.x), hits.y), 4
                    )
                row["l2"].append(entry)
            report["seeds"][str(seed)] = row
            eces = {name: row[name]["ece"] for name in evaluated}  # type: ignore[index]
            print(json.dumps({"seed": seed, **eces, "l2": row["l2"]}), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
