"""The rejects file survives kill -9: each batch's rejects are on disk before the batch commits, and a
rerun writes the complete list once, with counts that add up.

The catalogue has 60 rows; every 4th has no id (15 rejects), and batches hold 10 items, so batch k
ends at the row holding the (10k)-th good item: rows 13, 26 and 39 for batches 1 to 3.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from blendsearch.config import EngineConfig
from blendsearch.engine import Engine

ROWS = 60
BATCH = 10
BAD = [n for n in range(1, ROWS + 1) if n % 4 == 0]

# Runs one ingest and kills itself with SIGKILL at a chosen point: after the progress report of the
# batch that brings `indexed` to AFTER_INDEXED (the batch is committed), or at the start of upsert
# number BEFORE_UPSERT (that batch is not committed). No sleeps, no races: the kill point is exact.
_SCRIPT = """
import os, signal, sys
from blendsearch.backends.embedded import EmbeddedBackend
from blendsearch.config import EngineConfig
from blendsearch.engine import Engine

catalog, index, rejects, mode, at = sys.argv[1:6]
at = int(at)
original = EmbeddedBackend.upsert
calls = []

def upsert(self, documents):
    calls.append(1)
    if mode == "before_upsert" and len(calls) == at:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, documents)

EmbeddedBackend.upsert = upsert

def progress(p):
    if mode == "after_commit" and p.indexed >= at:
        os.kill(os.getpid(), signal.SIGKILL)

config = EngineConfig()
config.ingest.batch_size = int(os.environ["BATCH"])
with Engine.open(index, config) as engine:
    engine.ingest(catalog, rejects=rejects, progress=progress)
"""


def _catalogue(path: Path) -> Path:
    rows = [
        {"title": f"bad {n}"} if n in BAD else {"id": f"p{n}", "title": f"item {n}", "price": n}
        for n in range(1, ROWS + 1)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _config() -> EngineConfig:
    config = EngineConfig()
    config.ingest.batch_size = BATCH
    return config


def _reject_positions(rejects: Path) -> list[int]:
    """Positions in the rejects file, read strictly: complete UTF-8 JSON lines only."""
    data = rejects.read_bytes()
    assert not data or data.endswith(b"\n"), "a partial line"
    lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert all(r["reason"] == "missing id" and r["stage"] == "read" for r in lines)
    return [r["position"] for r in lines]


def _killed_run(tmp_path: Path, mode: str, at: int) -> tuple[Path, Path, Path]:
    catalog = _catalogue(tmp_path / "catalog.jsonl")
    index, rejects = tmp_path / "index", tmp_path / "rejects.jsonl"
    env = {**os.environ, "BATCH": str(BATCH)}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(catalog), str(index), str(rejects), mode, str(at)],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    return catalog, index, rejects


def _count(index: Path) -> int:
    with Engine.open(index) as engine:
        return engine.backend.count()


@pytest.mark.parametrize(
    ("mode", "at", "committed", "last_row"),
    [
        # killed once batch 2 (rows 1-26) is committed and reported
        ("after_commit", 20, 20, 26),
        # killed as batch 3 (rows 27-39) goes to the backend: its rejects are already on disk
        ("before_upsert", 3, 20, 39),
        # killed before the first commit: the rejects of batch 1 are on disk, nothing is indexed
        ("before_upsert", 1, 0, 13),
    ],
    ids=["after-commit-of-batch-2", "before-commit-of-batch-3", "before-commit-of-batch-1"],
)
def test_rejects_of_committed_batches_survive_kill_9_and_the_rerun_completes_them(
    tmp_path: Path, mode: str, at: int, committed: int, last_row: int
) -> None:
    catalog, index, rejects = _killed_run(tmp_path, mode, at)
    assert _count(index) == committed
    assert _reject_positions(rejects) == [n for n in BAD if n <= last_row]

    with Engine.open(index, _config()) as engine:
        summary = engine.ingest(catalog, rejects=rejects)
        stored = engine.backend.count()
    assert (summary.read, summary.indexed, summary.rejected) == (ROWS, ROWS - len(BAD), len(BAD))
    assert (summary.unchanged, summary.written) == (committed, ROWS - len(BAD) - committed)
    assert stored == summary.indexed
    assert _reject_positions(rejects) == BAD  # complete, in order, no line twice


def test_reruns_never_duplicate_reject_lines(tmp_path: Path) -> None:
    catalog = _catalogue(tmp_path / "catalog.jsonl")
    rejects = tmp_path / "rejects.jsonl"
    for run in range(3):
        with Engine.open(tmp_path / "index", _config()) as engine:
            summary = engine.ingest(catalog, rejects=rejects)
        assert (summary.indexed, summary.unchanged, summary.rejected) == (45, 45 if run else 0, 15)
        assert _reject_positions(rejects) == BAD


def test_each_batch_is_on_disk_when_its_progress_is_reported(tmp_path: Path) -> None:
    """Observed from inside the run: after each batch, the file already holds that batch's rejects."""
    catalog = _catalogue(tmp_path / "catalog.jsonl")
    rejects = tmp_path / "rejects.jsonl"
    seen: list[tuple[int, list[int]]] = []

    def progress(p: Any) -> None:
        seen.append((p.read, _reject_positions(rejects)))

    with Engine.open(tmp_path / "index", _config()) as engine:
        engine.ingest(catalog, rejects=rejects, progress=progress)
    assert seen == [
        (13, [4, 8, 12]),
        (26, [4, 8, 12, 16, 20, 24]),
        (39, [4, 8, 12, 16, 20, 24, 28, 32, 36]),
        (53, [4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52]),
        (60, BAD),
    ]
