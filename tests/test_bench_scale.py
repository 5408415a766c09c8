"""`bench scale` on a tiny synthetic catalogue (300 products) of the shared fashion catalogue."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from blendsearch.cli import main
from blendsearch.encoders.fake import HashEncoder
from blendsearch.eval.scale_catalog import RealCatalog, synthetic_batches

FASHION = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fashion-products"
needs_fashion = pytest.mark.skipif(
    not (FASHION / "products.csv").is_file() or not (FASHION / "images.zip").is_file(),
    reason=f"the shared fashion catalogue ({FASHION}) is absent",
)


def _tiny_catalog() -> RealCatalog:
    titles = ["Nike Men Blue Shirt", "Puma Women Red Dress", "Adidas Kids Green Shoes"]
    encoder = HashEncoder(dim=8)
    vectors = encoder.encode_texts(titles)
    return RealCatalog(
        ids=["1", "2", "3"],
        titles=titles,
        attributes=[
            {"gender": "Men", "articleType": "Shirts", "season": "Fall", "year": "2011"},
            {"gender": "Women", "articleType": "Dresses", "season": "Summer", "usage": "Party"},
            {"gender": "Boys", "articleType": "Shoes", "season": "Winter", "year": "2015"},
        ],
        image_vectors=vectors,
        text_vectors=vectors.copy(),
        model=encoder.fingerprint,
    )


def test_synthetic_catalogue_recombines_real_products_deterministically() -> None:
    catalog = _tiny_catalog()
    counts: Counter[str] = Counter()
    batches = list(synthetic_batches(catalog, 10, batch_size=4, seed=1, counts=counts))
    again = [d for b in synthetic_batches(catalog, 10, batch_size=4, seed=1) for d in b]
    docs = [d for b in batches for d in b]
    assert [len(b) for b in batches] == [4, 4, 2]
    assert [d.id for d in docs] == [f"s{i:07d}" for i in range(10)]
    assert [d.title for d in docs] == [d.title for d in again]
    # The first copy is the real catalogue itself, vectors untouched.
    assert [d.title for d in docs[:3]] == catalog.titles
    np.testing.assert_array_equal(docs[1].image_vector, catalog.image_vectors[1])
    for i, doc in enumerate(docs[3:], start=3):
        base = i % 3
        assert doc.image == f"{catalog.ids[base]}.jpg"
        assert doc.title.split(maxsplit=1)[1] == catalog.titles[base].split(maxsplit=1)[1]
        assert doc.attributes["articleType"] == catalog.attributes[base]["articleType"]
        assert abs(float(np.linalg.norm(doc.image_vector)) - 1.0) < 1e-5
        cosine = float(doc.image_vector @ catalog.image_vectors[base])
        assert 0.8 < cosine < 1.0  # perturbed, still closest to its photo
    assert counts["articleType=Shirts"] == 4 and counts["articleType=Dresses"] == 3
    assert sum(v for k, v in counts.items() if k.startswith("gender=")) == 10


@needs_fashion
def test_bench_scale_cli_reports_every_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLENDSEARCH_HOME", str(tmp_path / "home"))
    queries = tmp_path / "queries.jsonl"
    rows = [json.loads(line) for line in (FASHION / "queries-dev.jsonl").read_text().splitlines()[:8]]
    queries.write_text("".join(json.dumps(r) + "\n" for r in rows))
    index = tmp_path / "index"
    result = CliRunner().invoke(
        main,
        [
            "bench", "scale", "--catalog", str(FASHION / "products.csv"), "--products", "300",
            "--real-products", "200", "--queries", str(queries), "--index-dir", str(index), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["products"] == 300 and report["ingest"]["products"] == 300
    assert report["model"] == "hash:64" and report["image_vectors"].startswith("hash:64 on the photo")
    assert report["queries"] == 8
    assert report["ingest"]["docs_per_s"] > 0 and report["ingest"]["index_bytes"] > 0
    assert report["ingest"]["peak_rss_mb"] > 0 and report["search"]["peak_rss_mb"] > 0
    search = report["search"]
    for name in ("hybrid", "hybrid_no_feedback", "bm25_only", "vector_image_only", "vector_text_only"):
        assert search[name]["queries"] == 8 and search[name]["p50_ms"] > 0
    assert search["hybrid_filtered"]["queries"] == search["filtered_queries"] == 8
    assert search["filtered_short"] == 0
    assert search["vector_index"]["used"] == "exact"
    ann = report["ann"]
    assert ann["hnsw_m"] == 32 and ann["ef_construction"] == 80 and ann["ef_search_default"] == 512
    assert [f["field"] for f in ann["fields"]] == ["image", "text"]
    for field in ann["fields"]:
        assert field["filtered_short_k10"] == field["filtered_short_k150"] == 0
        assert field["recall_at_10"]["512"] >= 0.95  # 300 vectors: the graph finds nearly everything
    assert set(report["targets"]) >= {"hybrid_p50_ms<=40", "ann_recall_at_10>=0.95", "peak_rss_mb<=4096"}
    assert "tantivy" in report["ingest"]["lexical_engine"] or "FTS5" in report["ingest"]["lexical_engine"]
    assert (index / "store.sqlite").is_file()  # --index-dir is kept
    # The photo vectors were cached under BLENDSEARCH_HOME: a second run encodes nothing.
    assert len(list((tmp_path / "home" / "bench-scale").glob("vectors-*.npz"))) == 1
