"""``blendsearch bench serve``: HTTP latency and throughput of ``blendsearch serve`` beside in-process search.

The server runs as its own process (``python -m blendsearch serve``) on 127.0.0.1 over a COPY of the index
(the concurrent-ingest phase writes to it); this process is the client: ``concurrency`` threads, each
with a keep-alive connection, send the same JSON searches the in-process ``Engine.search`` baseline runs.
Every phase is bounded by a request count and a time limit. Then the load runs again while a
``ingest_products``-item NDJSON ingest goes through ``POST /v1/documents``.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from blendsearch._types import PathInput
from blendsearch.engine import Engine
from blendsearch.exceptions import BlendsearchError
from blendsearch.query.models import HybridQuery

__all__ = ["LoadLevel", "ServeBenchReport", "bench_serve", "default_queries"]

_HOST = "127.0.0.1"


class LoadLevel(BaseModel):
    """One load phase at one concurrency."""

    concurrency: int
    requests: int
    errors: int
    seconds: float
    requests_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    #: First few distinct error descriptions (status and body, or the exception).
    error_samples: list[str] = Field(default_factory=list)


class IngestDuring(BaseModel):
    """The API ingest that ran during the loaded phase."""

    products: int
    indexed: int
    rejected: int
    seconds: float
    errors: list[str] = Field(default_factory=list)


class ServeBenchReport(BaseModel):
    index: str
    documents: int
    queries: int
    k: int
    in_process_p50_ms: float
    in_process_p99_ms: float
    levels: list[LoadLevel]
    during_ingest: list[LoadLevel] = Field(default_factory=list)
    ingest: IngestDuring | None = None
    #: HTTP p50 at concurrency 1 over in-process p50 (target <= 1.2).
    http_over_in_process_p50: float | None = None
    server_start_s: float = 0.0
    cpu_count: int = 0


def default_queries(engine: Engine, n: int = 40) -> list[str]:
    """Queries from the index's own vocabulary: its most common words (len >= 3), singly and in pairs."""
    words = [w for w, _ in sorted(engine.vocabulary().items(), key=lambda kv: (-kv[1], kv[0])) if len(w) >= 3]
    words = [w for w in words if not w.isdigit()][: max(2, n // 2)]
    pairs = [f"{a} {b}" for a, b in zip(words[::2], words[1::2], strict=False)]
    return (words + pairs)[:n] or ["dress"]


def _percentiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    array = np.asarray(values, dtype=np.float64)
    return float(np.percentile(array, 50)), float(np.percentile(array, 99))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def _in_process(index: Path, queries: Sequence[str], k: int, rounds: int) -> tuple[float, float]:
    with Engine.open(index) as engine:
        engine.search(HybridQuery(text=queries[0], k=k))  # warm: model, vocabulary, expander
        times = []
        for i in range(rounds):
            started = time.perf_counter()
            engine.search(HybridQuery(text=queries[i % len(queries)], k=k))
            times.append((time.perf_counter() - started) * 1000)
    p50, p99 = _percentiles(times)
    return p50 or 0.0, p99 or 0.0


class _Server:
    """``python -m blendsearch serve`` in a child process, on a free port."""

    def __init__(self, index: Path, api_key: str) -> None:
        self.port = _free_port()
        command = [
            sys.executable, "-m", "blendsearch", "serve", "--index", str(index), "--host", _HOST,
            "--port", str(self.port), "--api-key", api_key, "--log-level", "warning", "--max-k", "100",
        ]  # fmt: skip
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float) -> float:
        started = time.perf_counter()
        while time.perf_counter() - started < timeout_s:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise BlendsearchError(f"the server exited: {self.log.read().decode()[-2000:]}")
            try:
                conn = http.client.HTTPConnection(_HOST, self.port, timeout=2)
                conn.request("GET", "/v1/ready")
                if conn.getresponse().status == 200:
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.2)
        raise BlendsearchError(f"the server was not ready within {timeout_s:.0f} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _load(
    port: int, queries: Sequence[str], k: int, concurrency: int, total: int, time_limit_s: float
) -> LoadLevel:
    """``total`` searches over ``concurrency`` keep-alive connections, stopping at ``time_limit_s``."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))
    deadline = time.perf_counter() + time_limit_s

    def worker() -> None:
        conn = http.client.HTTPConnection(_HOST, port, timeout=60)
        while time.perf_counter() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = json.dumps({"text": queries[i % len(queries)], "k": k})
            started = time.perf_counter()
            try:
                conn.request("POST", "/v1/search", body, {"content-type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if response.status == 200:
                        latencies.append(elapsed)
                    else:
                        errors.append(f"{response.status}: {data[:200].decode(errors='replace')}")
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection(_HOST, port, timeout=60)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    p50, p99 = _percentiles(latencies)
    done = len(latencies) + len(errors)
    return LoadLevel(
        concurrency=concurrency,
        requests=done,
        errors=len(errors),
        seconds=round(seconds, 3),
        requests_per_s=round(done / seconds, 2) if seconds else 0.0,
        p50_ms=p50,
        p99_ms=p99,
        error_samples=list(dict.fromkeys(errors))[:5],
    )


def _synthetic_products(n: int, words: Sequence[str]) -> list[str]:
    """NDJSON lines of ``n`` text-only products built from the index's own words (deterministic)."""
    rng = np.random.default_rng(0)
    pool = list(words) or ["cotton", "shirt", "blue"]
    lines = []
    for i in range(n):
        title = " ".join(rng.choice(pool, size=3))
        lines.append(
            json.dumps({"id": f"bench-serve-{i:05d}", "title": title, "price": int(rng.integers(5, 200))})
        )
    return lines


def _ingest(port: int, api_key: str, lines: Sequence[str], batch: int, out: IngestDuring) -> None:
    started = time.perf_counter()
    conn = http.client.HTTPConnection(_HOST, port, timeout=600)
    for start in range(0, len(lines), batch):
        body = "\n".join(lines[start : start + batch]).encode()
        try:
            conn.request(
                "POST", "/v1/documents", body, {"content-type": "application/x-ndjson", "x-api-key": api_key}
            )
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            out.errors.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection(_HOST, port, timeout=600)
            continue
        if response.status != 200:
            out.errors.append(f"{response.status}: {data[:200].decode(errors='replace')}")
            continue
        summary = json.loads(data)["summary"]
        out.indexed += summary["indexed"]
        out.rejected += summary["rejected"]
    conn.close()
    out.seconds = round(time.perf_counter() - started, 3)


def bench_serve(
    index: PathInput,
    *,
    queries: Sequence[str] | None = None,
    concurrencies: Sequence[int] = (1, 4, 16),
    requests: int = 200,
    time_limit_s: float = 30.0,
    ingest_products: int = 1000,
    ingest_batch: int = 100,
    k: int = 10,
    progress: Callable[[str], None] | None = None,
) -> ServeBenchReport:
    """Run the benchmark on a temporary copy of ``index``; see the module docstring."""
    say = progress or (lambda _message: None)
    source = Path(index)
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        copy = Path(tmp) / "index"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("*.faiss"))
        with Engine.open(copy) as engine:
            documents = engine.backend.count()
            chosen = list(queries) if queries else default_queries(engine)
            words = [w for w in engine.vocabulary() if w.isalpha()][:500]
        say(f"in-process: {requests} searches over {len(chosen)} queries")
        in_p50, in_p99 = _in_process(copy, chosen, k, requests)
        say(f"in-process p50 {in_p50:.1f} ms, p99 {in_p99:.1f} ms; starting the server")
        api_key = secrets.token_hex(16)
        server = _Server(copy, api_key)
        try:
            start_s = server.wait_ready(timeout_s=300)
            _load(server.port, chosen, k, 1, min(20, requests), time_limit_s)  # warm the connections
            levels = []
            for concurrency in concurrencies:
                level = _load(server.port, chosen, k, concurrency, requests, time_limit_s)
                say(
                    f"c={concurrency}: {level.requests_per_s:.1f} req/s, p50 {level.p50_ms} ms, "
                    f"errors {level.errors}"
                )
                levels.append(level)
            during: list[LoadLevel] = []
            ingest = None
            if ingest_products:
                ingest = IngestDuring(products=ingest_products, indexed=0, rejected=0, seconds=0.0)
                lines = _synthetic_products(ingest_products, words)
                writer = threading.Thread(
                    target=_ingest, args=(server.port, api_key, lines, ingest_batch, ingest)
                )
                writer.start()
                for concurrency in concurrencies:
                    level = _load(server.port, chosen, k, concurrency, requests, time_limit_s)
                    say(f"during ingest c={concurrency}: p50 {level.p50_ms} ms, errors {level.errors}")
                    during.append(level)
                writer.join()
                say(
                    f"ingest: {ingest.indexed} indexed in {ingest.seconds:.1f} s, errors {len(ingest.errors)}"
                )
        finally:
            server.stop()
    first = levels[0].p50_ms if levels and levels[0].concurrency == 1 else None
    return ServeBenchReport(
        index=str(source),
        documents=documents,
        queries=len(chosen),
        k=k,
        in_process_p50_ms=in_p50,
        in_process_p99_ms=in_p99,
        levels=levels,
        during_ingest=during,
        ingest=ingest,
        http_over_in_process_p50=round(first / in_p50, 3) if first and in_p50 else None,
        server_start_s=round(start_s, 3),
        cpu_count=os.cpu_count() or 0,
    )
