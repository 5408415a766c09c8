"""Cross-category adaptation (docs/training.md): a base model trained on some master categories of the
fashion catalogue, adapted with ``init`` to the others, measured title -> image and in hybrid search.

    python benchmarks/cross_category_adapt.py --catalog ../shared/datasets/fashion-products/products.csv \\
        --out /tmp/cross --base-steps 400 --adapt-steps 200

Steps, not minutes, bound every run, so a rerun gives the same models and figures on any CPU (seed 0,
one thread). The table in the docs is this script's output with the defaults below.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from common import add_query_set_options, query_set_paths

from blendsearch.config import EncoderSettings, EngineConfig, EnrichmentSettings, FieldMapping
from blendsearch.encoders.registry import load_encoder
from blendsearch.engine import Engine
from blendsearch.eval.autoqueries import generate_auto_queries
from blendsearch.eval.conditions import condition_documents
from blendsearch.eval.judgements import Catalog, load_queries, read_catalog
from blendsearch.eval.tune import AUTO_RECALL_WEIGHT, judged_runs, run_metrics, tune
from blendsearch.train import TrainConfig, adapt_model, load_pairs, pair_recall, train_model
from blendsearch.train.data import TrainingPairs


def _subset(pairs: TrainingPairs, catalog: Catalog, categories: set[str]) -> TrainingPairs:
    index = [i for i, id_ in enumerate(pairs.ids) if catalog.value(id_, "masterCategory") in categories]
    return TrainingPairs(
        images=np.ascontiguousarray(pairs.images[index]),
        texts=[pairs.texts[i] for i in index],
        ids=[pairs.ids[i] for i in index],
    )


def _recall(model: Path, pairs: TrainingPairs) -> dict[str, float]:
    found = pair_recall(load_encoder(str(model), device="cpu"), pairs)
    return {k: round(float(found[k]), 4) for k in ("r@1", "r@10", "mrr", "n")}


def _search(
    catalog_path: Path,
    catalog: Catalog,
    ids: list[str],
    model: Path | None,
    folder: Path,
    dev: Path,
    unlike: Path,
) -> dict[str, float]:
    docs, root = condition_documents(catalog, catalog_path, ids, set())
    config = EngineConfig(
        fields=FieldMapping(image_root=root),
        encoder=EncoderSettings(model=str(model) if model else None, threads=1),
        enrichment=EnrichmentSettings(tags=False, describe=False),
    )
    sets = {"dev": load_queries(dev), "unlike": load_queries(unlike)}
    with Engine.open(folder, config) as engine:
        engine.ingest(docs)
        base = engine.search_settings()
        data = {}
        generated = generate_auto_queries(catalog, _same_categories(catalog, ids), ids, n=300, seed=0)
        for name, queries in {**sets, "auto": generated}.items():
            data[name] = judged_runs(engine, queries, catalog, ids)
        # The vectors alone ("vector only", with a model): without image feedback, which lends the word
        # matches' photos to vector_image.
        plain = {
            name: judged_runs(engine, queries, catalog, ids, image_feedback=0)
            for name, queries in sets.items()
            if model is not None
        }
    variants = {"hybrid default": base}
    variants["tune --auto"] = tune(*data["auto"], base, recall_weight=AUTO_RECALL_WEIGHT).best.apply(base)
    if model is not None:
        variants["vector only"] = base.model_copy(
            update={"weights": {"vector_image": 1.0, "vector_text": 0.5}}
        )
    out = {}
    for label, settings in variants.items():
        for name in sets:
            runs, judgements = (plain if label == "vector only" else data)[name]
            ndcg = run_metrics(runs, judgements, settings)["ndcg@10"]
            out[f"{label} / {name} ({len(judgements)} queries)"] = round(ndcg, 4)
    return out


def _same_categories(catalog: Catalog, ids: list[str]) -> list[str]:
    """Training-split products of the categories ``ids`` belong to: where tuning queries come from."""
    wanted = {catalog.value(i, "masterCategory") for i in ids}
    return [i for i in catalog.ids("train") if catalog.value(i, "masterCategory") in wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--base", default="Apparel", help="comma-separated master categories of the base")
    parser.add_argument("--new", default="Footwear,Accessories", help="categories adapted to")
    parser.add_argument("--base-steps", type=int, default=400)
    parser.add_argument("--adapt-steps", type=int, default=200)
    add_query_set_options(parser, more_sets=False)
    args = parser.parse_args()
    old, new = set(args.base.split(",")), set(args.new.split(","))
    catalog = read_catalog(args.catalog)
    train = load_pairs(args.catalog, split_field="split", split_value="train")
    test = load_pairs(args.catalog, split_field="split", split_value="test")
    old_train, new_train = _subset(train, catalog, old), _subset(train, catalog, new)
    old_test, new_test = _subset(test, catalog, old), _subset(test, catalog, new)
    run = {
        "threads": 1,
        "device": "cpu",
        "seed": 0,
        "checkpoint_every_steps": None,
        "checkpoint_every_minutes": None,
    }
    out: Path = args.out
    results: dict[str, object] = {}
    train_model(old_train, out / "base", TrainConfig(max_steps=args.base_steps, **run))
    adapted = adapt_model(
        new_train, out / "adapted", TrainConfig(init=str(out / "base"), max_steps=args.adapt_steps, **run)
    )
    train_model(new_train, out / "scratch", TrainConfig(max_steps=args.adapt_steps, **run))
    results["held-out titles of the new categories"] = {"before": adapted.before, "after": adapted.after}
    for name in ("base", "adapted", "scratch"):
        results[f"{name}: new-category test"] = _recall(out / name, new_test)
        results[f"{name}: base-category test"] = _recall(out / name, old_test)
    paths = query_set_paths(args)
    ids = [i for i in catalog.ids("test") if catalog.value(i, "masterCategory") in new]
    for name, model in (("no model", None), ("base", out / "base"), ("adapted", out / "adapted")):
        folder = out / f"index-{name.replace(' ', '-')}"
        results[f"search, {name}"] = _search(
            args.catalog, catalog, ids, model, folder, paths["dev"], paths["unlike"]
        )
    print(json.dumps(results, indent=1))
    (out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
