"""``tune --auto``: a recall-aware objective (nDCG@10 and Recall@100 together) on generated queries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from blendsearch.backends.base import ChannelResult
from blendsearch.cli import main
from blendsearch.config import SearchSettings
from blendsearch.eval.judgements import Judgement
from blendsearch.eval.tune import AUTO_RECALL_WEIGHT, tune
from blendsearch.query.hybrid import QueryRun
from blendsearch.query.models import HybridQuery


def _recall_trap() -> tuple[QueryRun, Judgement]:
    """BM25 finds 10 matches and 140 non-matches; only the image channel finds the 20 other matches (an
    image-only part of the catalogue), below 10 lookalikes it ranks first. Ignoring the image channel
    gives a perfect top ten and a third of the matches in the top 100."""
    bm25 = [(f"t{i}", 20.0 - i * 0.1) for i in range(10)] + [(f"f{i}", 10.0 - i * 0.05) for i in range(140)]
    image = [(f"j{i}", 0.9 - i * 0.01) for i in range(10)] + [(f"r{i}", 0.6 - i * 0.01) for i in range(20)]
    run = QueryRun(
        query=HybridQuery(text="q", k=100),
        settings=SearchSettings(),
        results=[
            ChannelResult(channel="bm25", ids=[i for i, _ in bm25], scores=[s for _, s in bm25]),
            ChannelResult(channel="vector_image", ids=[i for i, _ in image], scores=[s for _, s in image]),
        ],
    )
    gains = {**{f"t{i}": 2 for i in range(10)}, **{f"r{i}": 2 for i in range(20)}}
    return run, Judgement(qid="q", gains=gains, relevant=30)


def test_ndcg_alone_drops_the_image_only_matches_the_recall_aware_objective_keeps_them() -> None:
    run, judgement = _recall_trap()
    base = SearchSettings(weights={"bm25": 1.0, "vector_image": 0.0})
    ndcg_only = tune([run], [judgement], base)
    assert ndcg_only.ndcg == pytest.approx(1.0)
    assert ndcg_only.recall == pytest.approx(10 / 30)
    assert ndcg_only.best.weights["vector_image"] == 0.0
    assert ndcg_only.recall_weight == 0.0 and ndcg_only.score == ndcg_only.ndcg

    aware = tune([run], [judgement], base, recall_weight=AUTO_RECALL_WEIGHT)
    assert AUTO_RECALL_WEIGHT == 0.5
    assert aware.recall == pytest.approx(1.0)
    assert aware.best.weights["vector_image"] > 0
    assert aware.score == pytest.approx(0.5 * aware.ndcg + 0.5 * aware.recall)
    assert aware.score > 0.5 * ndcg_only.ndcg + 0.5 * ndcg_only.recall
    assert aware.default_score == pytest.approx(0.5 * 1.0 + 0.5 * 10 / 30)
    with pytest.raises(ValueError, match="recall_weight must be in"):
        tune([run], [judgement], base, recall_weight=1.5)


def _catalog(path: Path) -> tuple[Path, Path]:
    rows = ["id,split,title,articleType,baseColour,gender,usage"]
    test = [rows[0]]
    number = 0
    for split in ("train", "test"):
        for kind in ("Trousers", "Shirts", "Heels"):
            for colour in ("Red", "Blue", "Black"):
                for gender in ("Men", "Women"):
                    for usage in ("Casual", "Formal"):
                        line = (
                            f"{split[:2]}{number:03d},{split},Acme {gender} {colour} {kind},{kind},{colour},"
                        )
                        line += f"{gender},{usage}"
                        rows.append(line)
                        if split == "test":
                            test.append(line)
                        number += 1
    (path / "catalog.csv").write_text("\n".join(rows) + "\n")
    (path / "test.csv").write_text("\n".join(test) + "\n")
    return path / "catalog.csv", path / "test.csv"


def test_cli_tune_auto_generates_queries_and_uses_the_recall_aware_objective(tmp_path: Path) -> None:
    catalog, test_only = _catalog(tmp_path)
    index = tmp_path / "idx"
    attributes = [a for f in ("articleType", "baseColour", "gender", "usage") for a in ("--attribute", f)]
    ingest = CliRunner().invoke(main, ["ingest", str(test_only), "--index", str(index), *attributes])
    assert ingest.exit_code == 0, ingest.output
    args = ["tune", "--index", str(index), "--catalog", str(catalog), "--auto", "--auto-queries", "30"]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["queries"] == 30 and summary["recall_weight"] == 0.5
    assert summary["score"] == pytest.approx(0.5 * summary["ndcg"] + 0.5 * summary["recall"])
    assert summary["score"] >= summary["default_score"] and summary["written"] is False
    ndcg_only = CliRunner().invoke(main, [*args, "--recall-weight", "0", "--json"])
    assert json.loads(ndcg_only.stdout)["recall_weight"] == 0.0

    neither = CliRunner().invoke(main, ["tune", "--index", str(index), "--catalog", str(catalog)])
    assert neither.exit_code == 2 and "give either --queries or --auto" in neither.output
