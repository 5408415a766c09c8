"""Ingest with image workers gives exactly what one batch at a time gives: the same rejects file (lines
and order), counts, progress reports, stored documents and generated colours, and reruns skip everything.

The catalogue mixes what each stage can reject (a row without an id, a duplicate id, a missing image, a
corrupt image, an item with neither text nor image) with good photo and text-only items, in batches of 4
so many batches are in flight at once. The encoder is the deterministic ``hash:32``. (The sequential
run, ``workers=0``, was checked to give byte for byte what the pipeline gave before workers existed.)
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from blendsearch.config import EngineConfig, IngestSettings
from blendsearch.engine import Engine
from blendsearch.ingest import workers as workers_module
from blendsearch.ingest.workers import WorkerPool, encoder_threads_beside, resolve_workers

COLOURS = [(200, 30, 40), (30, 60, 170), (40, 140, 60), (240, 210, 50), (20, 20, 20)]


def _photo(rgb: tuple[int, int, int]) -> bytes:
    """A product (a block of colour) on a white studio background."""
    image = Image.new("RGB", (24, 32), (255, 255, 255))
    image.paste(Image.new("RGB", (12, 18), rgb), (6, 7))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _catalogue(folder: Path) -> Path:
    (folder / "img").mkdir(parents=True)
    rows: list[dict[str, Any]] = []
    for n in range(1, 41):
        row: dict[str, Any] = {"id": f"p{n:02d}", "title": f"item {n}"}
        if n % 3 == 0:
            (folder / "img" / f"{n}.png").write_bytes(_photo(COLOURS[n % len(COLOURS)]))
            row["image"] = f"img/{n}.png"
        if n % 5 == 0:
            row["title"] = ""  # image-only (or, without an image, nothing at all)
        rows.append(row)
    rows[6] = {"title": "no id"}
    rows[10] = {"id": "p02", "title": "duplicate of p02"}
    rows[13]["image"] = "img/missing.png"
    (folder / "img" / "bad.png").write_bytes(_photo((1, 2, 3))[:40])  # a truncated PNG
    rows[16]["image"] = "img/bad.png"
    path = folder / "catalog.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _config(workers: int, kind: str) -> EngineConfig:
    config = EngineConfig()
    config.encoder.model = "hash:32"
    config.enrichment.tags = False
    config.ingest.batch_size = 4
    config.ingest.workers = workers
    config.ingest.worker_kind = kind  # type: ignore[assignment]
    return config


def _recorder(reports: list[tuple[int, int, int]]) -> Any:
    return lambda p: reports.append((p.read, p.indexed, p.rejected))


def _run(tmp_path: Path, catalog: Path, workers: int, kind: str, name: str) -> dict[str, Any]:
    """Ingest twice (the second run skips everything); what each run reported and stored."""
    index, rejects = tmp_path / f"index-{name}", tmp_path / f"rejects-{name}.jsonl"
    runs = []
    for _ in range(2):
        reports: list[tuple[int, int, int]] = []
        with Engine.open(index, _config(workers, kind)) as engine:
            summary = engine.ingest(catalog, rejects=rejects, progress=_recorder(reports))
            stored = {
                doc.id: (doc.content_hash, doc.enrichment.colours, doc.enrichment.description)
                for doc in engine.backend.get([f"p{n:02d}" for n in range(1, 41)])
            }
        counts = summary.model_dump(include={"read", "indexed", "written", "unchanged", "rejected"})
        runs.append(
            {
                "counts": counts,
                "reasons": summary.reject_reasons,
                "reports": reports,
                "rejects": rejects.read_text(),
                "stored": stored,
            }
        )
    return {"first": runs[0], "rerun": runs[1]}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("overlap")
    catalog = _catalogue(folder)
    return catalog, _run(folder, catalog, 0, "thread", "sequential")


def test_the_sequential_reference_run_is_what_the_catalogue_holds(reference: tuple[Path, Any]) -> None:
    _, ref = reference
    first, rerun = ref["first"], ref["rerun"]
    assert first["counts"] == {"read": 40, "indexed": 30, "written": 30, "unchanged": 0, "rejected": 10}
    assert rerun["counts"] == {"read": 40, "indexed": 30, "written": 0, "unchanged": 30, "rejected": 10}
    lines = [json.loads(line) for line in first["rejects"].splitlines()]
    # A batch's read rejects come first, then what staging it found (catalogue order within each).
    assert [(r["position"], r["stage"]) for r in lines] == [
        (7, "read"),
        (5, "read"),
        (11, "read"),
        (10, "read"),
        (14, "image"),
        (17, "image"),
        (20, "read"),
        (25, "read"),
        (35, "read"),
        (40, "read"),
    ]
    assert lines[0]["reason"] == "missing id"
    assert lines[2]["reason"] == "duplicate id (first read at row 2)"
    assert lines[1]["reason"] == "item has neither text nor an image"
    assert lines[5]["reason"] == "corrupt or truncated image (PNG header unreadable)"
    assert rerun["rejects"] == first["rejects"]
    assert first["reports"][:3] == [(4, 4, 0), (9, 7, 2), (14, 9, 5)]
    assert first["reports"][-1] == (40, 30, 10)
    assert first["stored"]["p03"][1] == ["Yellow"]  # the photo's colour, named
    assert first["stored"]["p30"][1:] == (["Red"], "red")  # image-only: described from its colour


@pytest.mark.parametrize(("workers", "kind"), [(2, "thread"), (3, "process"), (2, "auto")])
def test_workers_give_the_sequential_run_exactly(
    reference: tuple[Path, Any], tmp_path: Path, workers: int, kind: str
) -> None:
    catalog, ref = reference
    assert _run(tmp_path, catalog, workers, kind, f"{kind}{workers}") == ref


def test_a_worker_that_fails_is_replaced_by_decoding_in_the_ingest(
    reference: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crashed worker (a BrokenProcessPool, say) costs time, not items: the batch is decoded inline."""
    catalog, ref = reference

    def broken(*_: Any) -> Any:
        raise RuntimeError("worker died")

    monkeypatch.setattr(workers_module, "prepare_images", broken)  # what the pool runs
    assert _run(tmp_path, catalog, 2, "thread", "broken") == ref


def test_worker_count() -> None:
    assert resolve_workers(IngestSettings(workers=3), encoder_threads=1) == 3
    assert resolve_workers(IngestSettings(workers=0), encoder_threads=None) == 0
    assert 1 <= resolve_workers(IngestSettings(), encoder_threads=1) <= 4
    assert resolve_workers(IngestSettings(), encoder_threads=10_000) == 1


def test_auto_workers_are_processes_only_for_the_colour_analysis() -> None:
    linux = sys.platform.startswith("linux")
    assert WorkerPool(1, "auto", colours=True).kind == ("process" if linux else "thread")
    assert WorkerPool(1, "auto", colours=False).kind == "thread"  # decoding alone: Pillow's C code
    assert WorkerPool(1, "thread", colours=True).kind == "thread"
    assert WorkerPool(1, "process", colours=False).kind == "process"


def test_a_fresh_index_skips_the_hash_lookup_and_a_rerun_makes_it(
    reference: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an index empty when the run starts nothing can be unchanged, so the stage step does not wait for
    the commit in progress to look hashes up; a rerun looks them up and skips every item."""
    from blendsearch.backends.embedded import EmbeddedBackend

    catalog, ref = reference
    lookups: list[int] = []
    original = EmbeddedBackend.content_hashes

    def counted(self: EmbeddedBackend, ids: Any) -> dict[str, str]:
        lookups.append(len(ids))
        return original(self, ids)

    monkeypatch.setattr(EmbeddedBackend, "content_hashes", counted)
    index = tmp_path / "index"
    with Engine.open(index, _config(2, "thread")) as engine:
        assert engine.ingest(catalog).written == 30
    assert lookups == []
    with Engine.open(index, _config(2, "thread")) as engine:
        summary = engine.ingest(catalog)
    assert (summary.written, summary.unchanged) == (0, 30)
    assert sum(lookups) == 31  # the 30 stored and the corrupt image, which fails only when decoded


def test_the_encoder_gets_the_cores_the_workers_leave(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers_module.os, "cpu_count", lambda: 8)
    assert encoder_threads_beside(0, 3) == 3  # no workers: the encoder's own setting
    assert encoder_threads_beside(0, None) is None
    assert encoder_threads_beside(2, None) == 6
    assert encoder_threads_beside(2, 4) == 4
    assert encoder_threads_beside(4, 8) == 4
    assert encoder_threads_beside(16, 2) == 1  # never below one


def test_the_encoder_thread_setting_is_restored_after_an_ingest(
    reference: tuple[Path, Any], tmp_path: Path
) -> None:
    catalog, _ = reference
    with Engine.open(tmp_path / "index", _config(2, "thread")) as engine:
        encoder = engine.encoder
        assert encoder is not None
        encoder.threads = 64
        engine.ingest(catalog)
        assert encoder.threads == 64
