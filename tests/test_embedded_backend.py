"""What only the embedded backend promises: files on disk, migrations, format checks, HNSW, durability."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from blendsearch.backends.base import LexicalRequest, QueryClause, VectorRequest
from blendsearch.backends.embedded import EmbeddedBackend, benchmark_vector_index, store, vectors
from blendsearch.documents import Enrichment, StoredDocument
from blendsearch.exceptions import BackendError, ConfigError, IndexError_, IndexFormatError
from blendsearch.filters import TermFilter

ROOT = Path(__file__).resolve().parents[1]


def _docs(n: int, dim: int = 16, seed: int = 0, prefix: str = "p") -> list[StoredDocument]:
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((n, dim)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return [
        StoredDocument(
            id=f"{prefix}{i}",
            title=f"item {i} {'red' if i % 2 else 'blue'} shirt",
            attributes={"parity": "odd" if i % 2 else "even", "n": i},
            enrichment=Enrichment(colours=["red" if i % 2 else "blue"]),
            content_hash=f"h{i}",
            image_vector=matrix[i],
            text_vector=matrix[(i + 1) % n],
        )
        for i in range(n)
    ]


def _lexical(backend: EmbeddedBackend, text: str) -> list[str]:
    request = LexicalRequest(channel="bm25", clauses=[QueryClause(text=text)], fields={"title": 1.0}, k=1000)
    return backend.search_lexical(request).ids


def _nearest(backend: EmbeddedBackend, vector: np.ndarray, k: int = 5, **kwargs: object) -> list[str]:
    return backend.search_vector(VectorRequest(channel="v", field="image", vector=vector, k=k, **kwargs)).ids


def test_files_and_persistence_across_reopen(tmp_path: Path) -> None:
    docs = _docs(20)
    with EmbeddedBackend(tmp_path / "idx") as backend:
        backend.upsert(docs)
        lexical, nearest, vocabulary = _lexical(backend, "red"), _nearest(backend, docs[3].image_vector), None
        vocabulary = backend.vocabulary()
    assert (tmp_path / "idx" / store.STORE_FILE).is_file()
    with EmbeddedBackend(tmp_path / "idx") as reopened:
        assert reopened.count() == 20
        assert list(reopened.iter_ids()) == [d.id for d in docs]
        assert _lexical(reopened, "red") == lexical
        assert _nearest(reopened, docs[3].image_vector) == nearest
        assert reopened.vocabulary() == vocabulary
        (got,) = reopened.get(["p7"], with_vectors=True)
        np.testing.assert_array_equal(got.image_vector, docs[7].image_vector)
        assert got.image_vector.dtype == np.float32 and got.image_vector.flags.writeable


def test_migrations_are_recorded_and_rerunnable(tmp_path: Path) -> None:
    conn = store.connect(tmp_path / "s.sqlite")
    names = [fn.__name__ for fn in store.MIGRATIONS]
    assert store.migrate(conn) == names
    assert store.migrate(conn) == []
    assert [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")] == sorted(names)
    assert store.format_version(conn) == store.FORMAT_VERSION
    conn.close()


def test_a_partly_migrated_store_is_brought_up_to_date(tmp_path: Path) -> None:
    conn = store.connect(tmp_path / store.STORE_FILE)
    conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    store.MIGRATIONS[0](conn)
    conn.execute("INSERT INTO _migrations VALUES (?, 'then')", (store.MIGRATIONS[0].__name__,))
    conn.close()
    with EmbeddedBackend(tmp_path) as backend:
        backend.upsert(_docs(3))
        assert _lexical(backend, "item") == ["p0", "p1", "p2"]
    conn = sqlite3.connect(tmp_path / store.STORE_FILE)
    assert conn.execute("SELECT count(*) FROM _migrations").fetchone()[0] == len(store.MIGRATIONS)
    conn.close()


def test_newer_format_is_refused(tmp_path: Path) -> None:
    EmbeddedBackend(tmp_path).close()
    conn = sqlite3.connect(tmp_path / store.STORE_FILE)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'format_version'", (str(store.FORMAT_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(IndexFormatError, match="format version 2"):
        EmbeddedBackend(tmp_path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    (tmp_path / store.STORE_FILE).write_bytes(b"certainly not a database" * 100)
    with pytest.raises(IndexFormatError) as info:
        EmbeddedBackend(tmp_path)
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)


def test_index_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(IndexError_):
        EmbeddedBackend(tmp_path / "file")


def test_bad_options_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="auto, exact, hnsw"):
        EmbeddedBackend(tmp_path, vector_search="annoy")  # type: ignore[arg-type]


def test_using_a_closed_backend_raises_index_error(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path)
    backend.close()
    backend.close()  # idempotent
    with pytest.raises(IndexError_) as info:
        backend.count()
    assert isinstance(info.value.__cause__, sqlite3.Error)
    with pytest.raises(BackendError):
        _lexical(backend, "red")


def test_a_malformed_vector_rejects_only_its_document(tmp_path: Path) -> None:
    good, bad, nan = _docs(3)
    bad = bad.model_copy(update={"image_vector": np.zeros((2, 2), dtype=np.float32)})
    nan = nan.model_copy(update={"text_vector": np.full(16, np.nan, dtype=np.float32)})
    with EmbeddedBackend(tmp_path) as backend:
        results = backend.upsert([good, bad, nan])
        assert [(r.id, r.ok) for r in results] == [("p0", True), ("p1", False), ("p2", False)]
        assert "1-d" in results[1].error and "NaN" in results[2].error
        assert list(backend.iter_ids()) == ["p0"]


def test_vectors_of_another_dimension_are_left_out(tmp_path: Path) -> None:
    with EmbeddedBackend(tmp_path) as backend:
        backend.upsert(_docs(4, dim=16))
        backend.upsert(_docs(2, dim=8, prefix="q"))
        assert set(_nearest(backend, _docs(1, dim=8)[0].image_vector, k=10)) == {"q0", "q1"}
        assert len(_nearest(backend, _docs(1, dim=16)[0].image_vector, k=10)) == 4
        assert _nearest(backend, np.ones(3, dtype=np.float32)) == []


def test_large_id_lists_are_chunked(tmp_path: Path) -> None:
    docs = [StoredDocument(id=f"x{i}", title="t", content_hash=str(i)) for i in range(2500)]
    ids = [d.id for d in docs]
    with EmbeddedBackend(tmp_path) as backend:
        backend.upsert(docs)
        assert backend.content_hashes([*ids, "missing"]) == {d.id: d.content_hash for d in docs}
        assert [d.id for d in backend.get(ids[::-1])] == ids[::-1]
        assert backend.delete(ids[:2000] + ["missing"]) == 2000
        assert backend.count() == 500


def test_vocabulary_is_cached_until_a_write(tmp_path: Path) -> None:
    with EmbeddedBackend(tmp_path) as backend:
        backend.upsert(_docs(2))
        first = backend.vocabulary()
        first["mutated"] = 1  # callers get a copy
        assert "mutated" not in backend.vocabulary()
        backend.upsert([StoredDocument(id="new", title="Zebra")])
        assert backend.vocabulary()["zebra"] == 1


def test_hnsw_and_exact_agree_on_the_top_hit(tmp_path: Path) -> None:
    docs = _docs(300, dim=32)
    rng = np.random.default_rng(1)
    with (
        EmbeddedBackend(tmp_path / "exact", vector_search="exact") as exact,
        EmbeddedBackend(tmp_path / "hnsw", vector_search="hnsw", hnsw_m=16, ef_search=64) as hnsw,
    ):
        exact.upsert(docs)
        hnsw.upsert(docs)
        for i in range(0, 300, 15):
            query = docs[i].image_vector + 0.05 * rng.standard_normal(32).astype(np.float32)
            assert _nearest(hnsw, query, k=1) == _nearest(exact, query, k=1) == [f"p{i}"]
    assert (tmp_path / "hnsw" / "vectors-image.faiss").is_file()
    assert not (tmp_path / "exact" / "vectors-image.faiss").exists()


def test_filtered_hnsw_returns_only_allowed_items(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("blendsearch.backends.embedded.backend.EXACT_SUBSET_MAX", 0)  # force the IDSelector
    docs = _docs(200, dim=16)
    with EmbeddedBackend(tmp_path, vector_search="hnsw") as backend:
        backend.upsert(docs)
        odd = [TermFilter(field="parity", value="odd")]
        found = _nearest(backend, docs[4].image_vector, k=20, filters=odd)
        assert len(found) == 20 and all(int(i[1:]) % 2 == 1 for i in found)


def test_auto_switches_to_hnsw_at_the_threshold(tmp_path: Path) -> None:
    docs = _docs(50)
    with EmbeddedBackend(tmp_path / "a", ann_threshold=51) as below:
        below.upsert(docs)
        _nearest(below, docs[0].image_vector)
    with EmbeddedBackend(tmp_path / "b", ann_threshold=50) as above:
        above.upsert(docs)
        assert _nearest(above, docs[0].image_vector, k=1) == ["p0"]
    assert not (tmp_path / "a" / "vectors-image.faiss").exists()
    assert (tmp_path / "b" / "vectors-image.faiss").is_file()


def test_hnsw_cache_is_reused_then_rebuilt_on_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = _docs(60)
    with EmbeddedBackend(tmp_path, vector_search="hnsw") as backend:
        backend.upsert(docs)
        _nearest(backend, docs[0].image_vector)
    builds: list[int] = []
    real_create = vectors.HnswIndex.create

    def counting_create(dim: int, m: int, *, reserve: int = 0) -> vectors.HnswIndex:
        builds.append(reserve)  # graphs are built from rows streamed into an empty index of this size
        return real_create(dim, m, reserve=reserve)

    monkeypatch.setattr(vectors.HnswIndex, "create", staticmethod(counting_create))
    with EmbeddedBackend(tmp_path, vector_search="hnsw") as backend:
        assert _nearest(backend, docs[5].image_vector, k=1) == ["p5"]
        assert builds == []  # loaded from vectors-image.faiss
        backend.delete(["p5"])
        assert _nearest(backend, docs[5].image_vector, k=1) != ["p5"]
        assert builds == [59]


def test_a_corrupt_hnsw_cache_is_rebuilt(tmp_path: Path) -> None:
    docs = _docs(40)
    with EmbeddedBackend(tmp_path, vector_search="hnsw") as backend:
        backend.upsert(docs)
        _nearest(backend, docs[0].image_vector)
    cache = tmp_path / "vectors-image.faiss"
    cache.write_bytes(cache.read_bytes()[:200])
    with EmbeddedBackend(tmp_path, vector_search="hnsw") as backend:
        assert _nearest(backend, docs[9].image_vector, k=1) == ["p9"]
    assert vectors.HnswIndex.load(cache, {"nothing": "matches"}) is None


def test_a_reader_thread_is_harmless(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    with EmbeddedBackend(tmp_path) as backend:
        stop = threading.Event()

        def read() -> None:
            try:
                while not stop.is_set():
                    backend.count()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        for start in range(0, 400, 50):
            backend.upsert(_docs(400)[start : start + 50])
        stop.set()
        reader.join()
        assert backend.count() == 400
    assert errors == []


def test_benchmark_vector_index_reports_latency_and_recall() -> None:
    report = benchmark_vector_index(500, 16, 5)
    assert set(report) >= {"n", "d", "queries", "exact_ms", "hnsw_ms", "hnsw_build_s", "recall_at_k"}
    assert report["n"] == 500 and 0.0 <= report["recall_at_k"] <= 1.0


_WRITER = """
import sys, time
import numpy as np
from blendsearch.backends.embedded import EmbeddedBackend, store
from blendsearch.documents import StoredDocument

attribute_rows = store.attribute_rows


def announce_then_stall(doc_key, doc):  # runs inside the write transaction, after docs and FTS rows
    if doc.id.startswith("b2-"):
        print("writing b2", flush=True)
        time.sleep(60)
    return attribute_rows(doc_key, doc)


store.attribute_rows = announce_then_stall
batch = int(sys.argv[2])
backend = EmbeddedBackend(sys.argv[1])
for b in range(3):
    docs = [
        StoredDocument(id=f"b{b}-{i}", title=f"batch {b} item {i}", image_vector=np.ones(8, dtype=np.float32))
        for i in range(batch)
    ]
    backend.upsert(docs)
    print(f"committed {b}", flush=True)
"""


def test_committed_batches_survive_kill_9(tmp_path: Path) -> None:
    batch = 500
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path), str(batch)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None
        lines = []
        for line in child.stdout:
            lines.append(line.strip())
            if line.strip() == "writing b2":
                break
    finally:
        child.kill()  # SIGKILL: no atexit, no rollback, no close
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert lines == ["committed 0", "committed 1", "writing b2"]
    with EmbeddedBackend(tmp_path) as backend:
        count = backend.count()
        ids = list(backend.iter_ids())
        assert count == 2 * batch  # both committed batches, nothing of the one killed mid-transaction
        assert ids == [f"b{b}-{i}" for b in range(2) for i in range(batch)]
        assert len(_lexical(backend, "item")) == count
        assert len(_nearest(backend, np.ones(8, dtype=np.float32), k=100_000)) == count
    conn = sqlite3.connect(tmp_path / store.STORE_FILE)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM fts").fetchone()[0] == count
    conn.close()


def test_present_fields_match_the_reference(tmp_path: Path) -> None:
    from blendsearch.backends.base import Backend
    from blendsearch.backends.memory import MemoryBackend

    vector = np.array([1.0, 0.0], dtype=np.float32)
    docs = [
        StoredDocument(
            id="text", title="red shirt", attributes={"n": 1}, image_vector=vector, text_vector=vector
        ),
        StoredDocument(
            id="photo",
            title="  ",
            enrichment=Enrichment(colours=["red"], tags=["shirts"], description="red shirts"),
            image_vector=vector,
            text_vector=vector,
        ),
        StoredDocument(id="bare", description="plain"),
    ]
    expected = {
        "text": {"title", "attributes", "image_vector", "text_vector"},
        "photo": {"colours", "tags", "generated", "image_vector", "text_vector"},
        "bare": {"description"},
    }
    ids = ["bare", "missing", "photo", "text"]
    with EmbeddedBackend(tmp_path / "idx") as backend:
        backend.upsert(docs)
        assert backend.present_fields(ids) == expected
        assert Backend.present_fields(backend, ids) == expected  # the default, through get()
    memory = MemoryBackend()
    memory.upsert(docs)
    assert memory.present_fields(ids) == expected
