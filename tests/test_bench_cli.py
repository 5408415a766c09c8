"""``bench quality``, ``bench ingest``, ``eval`` and ``tune`` end to end on a tiny generated catalogue."""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from servers import noida_url  # noqa: F401 - pytest fixture

from blendsearch.cli import main
from blendsearch.eval.bench import method_names
from blendsearch.eval.judgements import JudgedQuery, judge, read_catalog, write_queries

COLOURS = {"Blue": (30, 60, 200), "Red": (200, 30, 30), "Black": (10, 10, 10)}
KINDS = ["Shirts", "Watches", "Tshirts"]
GENDERS = ["Men", "Women"]
COLUMNS = ["id", "split", "gender", "masterCategory", "articleType", "baseColour", "usage", "title"]


@pytest.fixture()
def shop(tmp_path: Path) -> Path:
    """36 products (3 kinds x 3 colours x 2 genders x 2 splits) with images.zip, queries, image-only ids."""
    folder = tmp_path / "shop"
    folder.mkdir()
    rows = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        combos = itertools.product(KINDS, COLOURS, GENDERS, ["train", "test"])
        for number, (kind, colour, gender, split) in enumerate(combos, start=100):
            master = "Accessories" if kind == "Watches" else "Apparel"
            title = f"{gender} {colour} {kind.rstrip('s')} {number}"
            rows.append([str(number), split, gender, master, kind, colour, "Casual", title])
            image = Image.new("RGB", (12, 16), COLOURS[colour])
            image.putpixel((number % 12, number % 16), (255, 255, 255))
            data = io.BytesIO()
            image.save(data, format="JPEG")
            archive.writestr(f"{number}.jpg", data.getvalue())
    (folder / "images.zip").write_bytes(buffer.getvalue())
    with (folder / "products.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    test_ids = [r[0] for r in rows if r[1] == "test"]
    (folder / "image_only_ids.txt").write_text("\n".join(test_ids[::3]) + "\n")
    queries = [
        JudgedQuery(
            qid="a", query="men blue shirt", match={"articleType": ["Shirts"], "baseColour": ["Blue"]}
        ),
        JudgedQuery(qid="b", query="red watch", match={"articleType": ["Watches"], "baseColour": ["Red"]}),
        JudgedQuery(qid="c", query="women tshirt", match={"articleType": ["Tshirts"], "gender": ["Women"]}),
    ]
    catalog = read_catalog(folder / "products.csv")
    judged = judge(queries, catalog, catalog.ids("test"))
    write_queries(
        folder / "queries.jsonl",
        [q.model_copy(update={"relevant": j.relevant}) for q, j in zip(queries, judged, strict=True)],
    )
    return folder


def _invoke(args: list[str]) -> dict:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def _quality(shop: Path, tmp_path: Path, condition: str) -> dict:
    return _invoke(
        [
            "bench", "quality",
            "--catalog", str(shop / "products.csv"),
            "--queries", str(shop / "queries.jsonl"),
            "--condition", condition,
            "--model", "hash:32",
            "--index-dir", str(tmp_path / f"bench-{condition}"),
            "--json",
        ]
    )  # fmt: skip


@pytest.mark.parametrize(("condition", "image_only"), [("full", 0), ("sparse", 6), ("images", 18)])
def test_bench_quality_reports_every_method(
    shop: Path, tmp_path: Path, condition: str, image_only: int
) -> None:
    report = _quality(shop, tmp_path, condition)
    assert report["condition"] == condition
    assert report["queries"] == 3 and report["products"] == 18 and report["image_only"] == image_only
    assert list(report["methods"]) == method_names()
    for metrics in report["methods"].values():
        assert set(metrics) == {"ndcg@10", "recall@10", "recall@100", "mrr"}
        assert all(0.0 <= v <= 1.0 for v in metrics.values())
    assert report["pairs"]["text_to_image"]["queries"] == 18
    assert set(report["pairs"]["text_to_image"]["recall"]) == {"R@1", "R@5", "R@10", "R@50"}
    assert report["tuning"]["products"] == 18
    if condition == "full":
        # Every relevant product carries the query's words: BM25 finds all of them.
        assert report["methods"]["bm25"]["recall@10"] == 1.0
    if condition == "images":
        # Nothing textual is indexed: BM25 has nothing to match.
        assert report["methods"]["bm25"] == {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr": 0.0}


def test_eval_and_tune_commands_on_the_bench_index(shop: Path, tmp_path: Path) -> None:
    index = _quality(shop, tmp_path, "full")["index"]
    catalog, queries = str(shop / "products.csv"), str(shop / "queries.jsonl")

    evaluated = _invoke(
        ["eval", "queries", "--index", index, "--queries", queries, "--catalog", catalog, "--json"]
    )
    assert evaluated["queries"] == 3
    assert set(evaluated["metrics"]) == {"ndcg@10", "recall@10", "recall@100", "mrr"}
    assert sorted(evaluated["by"]["primary"]) == ["Shirts", "Tshirts", "Watches"]

    plots = tmp_path / "plots"
    pairs = _invoke(["eval", "pairs", "--index", index, "--catalog", catalog, "--by", "masterCategory",
                     "--plots", str(plots), "--json"])  # fmt: skip
    assert pairs["products"] == 18
    assert sorted(pairs["by_category"]["masterCategory"]["text_to_image"]) == ["Accessories", "Apparel"]
    assert (plots / "pairs-text_to_image-scores.png").stat().st_size > 1000

    tuned = _invoke(
        ["tune", "--index", index, "--queries", queries, "--catalog", catalog, "--write", "--json"]
    )
    assert tuned["ndcg"] >= tuned["default_ndcg"] and tuned["written"] is True
    stored = json.loads((Path(index) / "blendsearch.json").read_text())["config"]["search"]
    assert stored["weights"] == {**stored["weights"], **tuned["best"]["weights"]}
    assert stored["combination"] == tuned["best"]["combination"]


def test_bench_ingest_reports_throughput_and_latency(shop: Path) -> None:
    report = _invoke(
        ["bench", "ingest", "--catalog", str(shop / "products.csv"), "--model", "hash:32",
         "--queries", str(shop / "queries.jsonl"), "--json"]
    )  # fmt: skip
    assert report["products"] == 18 and report["queries"] == 3
    assert report["pipeline_items_per_s"] > 0 and report["encoder_items_per_s"] > 0
    assert report["overhead"] == pytest.approx(1 - report["ratio"])
    assert report["query_p99_ms"] >= report["query_p50_ms"] > 0
    assert 0.0 <= report["encode_share"] <= 1.0


def _backends(shop: Path, *extra: str) -> dict:
    return _invoke(
        [
            "bench", "backends",
            "--catalog", str(shop / "products.csv"),
            "--queries", str(shop / "queries.jsonl"),
            "--model", "hash:32",
            "--json", *extra,
        ]
    )  # fmt: skip


def test_bench_backends_times_the_same_documents_on_each_backend(shop: Path, noida_url: str) -> None:  # noqa: F811
    from elasticsearch import Elasticsearch

    report = _backends(shop, "--no-emulators", "--backend", f"elasticsearch+{noida_url}")
    rows = {row["name"]: row for row in report["rows"]}
    assert (report["products"], report["queries"], list(rows)) == (18, 3, ["embedded", "elasticsearch"])
    for row in rows.values():
        assert (row["bulk"]["docs"], row["bulk"]["rejected"]) == (18, 0)
        assert set(row["latency"]) == {"lexical", "hybrid"}
        assert all(t["queries"] == 3 and 0 < t["p50_ms"] <= t["p99_ms"] for t in row["latency"].values())
        for mode, lookup in row["lookup_latency"].items():  # the lookup is a part of each query's time
            assert 0 < lookup["p50_ms"] <= row["latency"][mode]["p50_ms"]
    assert rows["embedded"]["top10_agreement"] == {"lexical": 1.0, "hybrid": 1.0}
    # Lucene BM25 and FTS5 bm25 differ a little, not the judged quality. This shop's photos are flat colours,
    # so image feedback (on in hybrid) also pulls same-coloured products of another kind: a lower floor.
    for mode, floor in (("lexical", 0.9), ("hybrid", 0.85)):
        embedded, cluster = rows["embedded"]["ndcg_at_10"][mode], rows["elasticsearch"]["ndcg_at_10"][mode]
        assert embedded > floor and abs(cluster - embedded) < 0.02
    assert rows["elasticsearch"]["emulator"] is None  # a URL given by the user is not labelled an emulator
    assert all(0.5 <= share <= 1.0 for share in rows["elasticsearch"]["top10_agreement"].values())
    leftovers = [
        i for i in Elasticsearch(noida_url).indices.get(index="*") if i.startswith("blendsearch-bench")
    ]
    assert leftovers == []  # the throwaway index is deleted


def test_bench_backends_starts_and_labels_the_emulators(shop: Path) -> None:
    report = _backends(shop)
    rows = {row["name"]: row for row in report["rows"]}
    assert list(rows) == ["embedded", "opensearch", "elasticsearch"]
    assert rows["opensearch"]["emulator"].startswith("osmem-server ")
    assert rows["elasticsearch"]["emulator"].startswith("noida-db ")
    assert set(rows["opensearch"]["latency"]) == {"lexical"}  # osmem-server serves no k-NN
    assert rows["opensearch"]["notes"] == ["hybrid: not served (this server has no k-NN)"]
    assert set(rows["elasticsearch"]["latency"]) == {"lexical", "hybrid"}


def test_bench_backends_refuses_a_url_naming_an_index(shop: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["bench", "backends", "--catalog", str(shop / "products.csv"), "--model", "hash:32",
         "--no-emulators", "--backend", "elasticsearch+http://127.0.0.1:9/live-products"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "without an index path" in result.output
