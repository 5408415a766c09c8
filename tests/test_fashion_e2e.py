"""End to end on real products: a few hundred fashion items, a tiny random SigLIP loaded from disk.

Checks counts, rejects with reasons, filters, idempotency and resume after ``kill -9`` mid-run.
Skipped where the shared catalogue is absent.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pinned_settings import four_channel_cli_args
from tiny_models import build_tiny_siglip

pytestmark = pytest.mark.slow

N_GOOD = 300


@pytest.fixture(scope="module")
def tiny_siglip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_siglip(tmp_path_factory.mktemp("models") / "siglip")


@pytest.fixture()
def catalog(fashion_dir: Path, tmp_path: Path) -> Path:
    """300 real test products plus 4 bad rows, as a CSV whose images resolve into the shared zip."""
    with (fashion_dir / "products.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == "test"][:N_GOOD]
    fields = list(rows[0])
    bad = [
        {**rows[0], "id": ""},  # missing id
        {**rows[1], "id": "999999999"},  # no such image in the zip
        {**rows[2], "id": "888888888", "year": "nineteen"},  # year declared numeric
        {**rows[3], "id": str(rows[3]["id"])},  # duplicate id
    ]
    path = tmp_path / "products.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows[:150] + bad + rows[150:])
    return path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "blendsearch", *args]


def _ingest_args(catalog: Path, index: Path, model: Path, fashion_dir: Path) -> list[str]:
    return [
        "ingest", str(catalog), "--index", str(index), "--model", str(model),
        "--image-root", str(fashion_dir / "images.zip"), "--numeric", "year",
        "--rejects", str(index.parent / "rejects.jsonl"), "--batch-size", "16", "--json",
    ]  # fmt: skip


def _run(args: list[str]) -> dict:
    out = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _good_rows(catalog: Path) -> list[dict[str, str]]:
    with catalog.open(newline="") as f:
        return [r for r in csv.DictReader(f) if r["id"] and not r["id"].startswith(("999", "888"))]


def _stored_ids(index: Path) -> list[str]:
    with sqlite3.connect(index / "store.sqlite") as db:
        return [row[0] for row in db.execute("SELECT id FROM docs")]


def test_ingest_counts_rejects_filters_and_idempotency(
    catalog: Path, tmp_path: Path, tiny_siglip: Path, fashion_dir: Path
) -> None:
    index = tmp_path / "index"
    summary = _run(_ingest_args(catalog, index, tiny_siglip, fashion_dir))
    assert (summary["read"], summary["indexed"], summary["rejected"]) == (N_GOOD + 4, N_GOOD, 4)
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 4
    # Each bad row rejected for its own reason: the duplicate's "id" must not stand in for the missing one.
    reasons = {r["id"]: (r["stage"], r["reason"]) for r in rejects}
    duplicate = _good_rows(catalog)[3]["id"]
    assert set(reasons) == {None, "999999999", "888888888", duplicate}
    assert reasons[None] == ("read", "missing id")
    assert reasons["999999999"][0] == "image" and "999999999.jpg" in reasons["999999999"][1]
    assert reasons["888888888"] == ("read", "year: not a number: 'nineteen'")
    assert reasons[duplicate][0] == "read"
    assert reasons[duplicate][1].startswith("duplicate id (first read at row")

    # vector_text weighted explicitly (the defaults weight it 0): both vector fields were written and are read
    shirt = ["search", "shirt", "--index", str(index), "--filter", "gender=Women", "--k", "20", "--json"]
    hits = _run([*shirt, *four_channel_cli_args()])
    assert hits["hits"] and all(h["document"]["attributes"]["gender"] == "Women" for h in hits["hits"])
    assert {"bm25", "vector_image", "vector_text"} <= set(hits["hits"][0]["channels"])
    # "bag" matches 13 titles, 9 of them from 2015 on: the filter keeps exactly those among the matches.
    bags = [r for r in _good_rows(catalog) if "bag" in r["title"].lower().split()]
    recent = {r["id"] for r in bags if int(r["year"]) >= 2015}
    assert (len(bags), len(recent)) == (13, 9)
    ranged = _run(["search", "bag", "--index", str(index), "--filter", "year>=2015", "--k", "20", "--json"])
    assert ranged["hits"] and all(h["document"]["attributes"]["year"] >= 2015 for h in ranged["hits"])
    assert recent <= {h["id"] for h in ranged["hits"]}

    again = _run(_ingest_args(catalog, index, tiny_siglip, fashion_dir))
    assert (again["indexed"], again["written"], again["unchanged"], again["rejected"]) == (
        N_GOOD,
        0,
        N_GOOD,
        4,
    )
    assert len(_stored_ids(index)) == N_GOOD


def test_resume_after_kill(catalog: Path, tmp_path: Path, tiny_siglip: Path, fashion_dir: Path) -> None:
    index = tmp_path / "index"
    proc = subprocess.Popen(
        _cli(*_ingest_args(catalog, index, tiny_siglip, fashion_dir)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    committed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            committed = len(_stored_ids(index))
        except sqlite3.Error:
            continue
        if committed >= 32:
            break
    if proc.poll() is not None:
        pytest.fail("the ingest finished before it could be killed; make the catalogue larger")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < len(_stored_ids(index)) < N_GOOD
    summary = _run(_ingest_args(catalog, index, tiny_siglip, fashion_dir))
    assert (summary["read"], summary["indexed"], summary["rejected"]) == (N_GOOD + 4, N_GOOD, 4)
    assert summary["unchanged"] >= 32
    ids = _stored_ids(index)
    assert len(ids) == len(set(ids)) == N_GOOD
