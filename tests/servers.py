"""Session-scoped emulator servers for the cluster backend tests, on 127.0.0.1 and free ports.

- ``osmem_emulator``: osmem-server (an in-memory OpenSearch API emulator, no k-NN); each test takes
  a copy-on-write clone of the base (``osmem_url``), so tests never see each other's indices.
- ``noida_url``: noida-db's Elasticsearch 8 API emulator (k-NN and RRF included), one process per
  session; tests use unique index names.

Both skip with the reason where the binary is missing. Import the fixtures into a test module with
``from servers import ...`` (tests/ is on sys.path under pytest's default import mode).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["noida_server", "noida_url", "osmem_emulator", "osmem_url", "unique_index"]

_STARTUP_S = 20.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[Any], timeout: float = _STARTUP_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} during startup")
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                json.loads(response.read())
                return
        except (urllib.error.URLError, ConnectionError, ValueError):
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} not ready within {timeout} s")


def _noida_binary() -> Path | None:
    try:
        from importlib.resources import files

        binary = Path(str(files("noida_db").joinpath("noida-db")))
    except ModuleNotFoundError:
        return None
    return binary if binary.is_file() else None


@pytest.fixture(scope="session")
def osmem_emulator() -> Iterator[Any]:
    """An osmem-server process for the whole session (its base is never written: tests use clones)."""
    try:
        from osmem_server import OsmemError, OsmemServer
    except ImportError:
        pytest.skip("osmem-server is not installed (pip install osmem-server)")
    try:
        server = OsmemServer.start(
            freeze=True, japanese=False, addr="127.0.0.1:0", startup_timeout=_STARTUP_S
        )
    except OsmemError as exc:
        pytest.skip(f"osmem-server cannot start here: {exc}")
    yield server
    server.close()


@pytest.fixture
def osmem_url(osmem_emulator: Any) -> Iterator[str]:
    """A fresh, empty OpenSearch-compatible cluster (a clone of the session's base) for one test."""
    clone = osmem_emulator.clone()
    yield clone.url
    clone.close()


@contextlib.contextmanager
def noida_server(data_dir: Path) -> Iterator[str]:
    """Run noida-db's Elasticsearch API on a free port until the block ends; skips where it cannot run."""
    binary = _noida_binary()
    if binary is None:
        pytest.skip("noida-db is not installed (pip install noida-db)")
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    port = _free_port()
    command = [
        str(binary), "start", "--only", "elasticsearch", "--host", "127.0.0.1",
        "--elasticsearch-port", str(port), "--data-dir", str(data_dir),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
    except RuntimeError as exc:
        process.kill()
        stderr = process.communicate(timeout=5)[1].decode(errors="replace")[-500:]
        pytest.skip(f"noida-db cannot start here: {exc}; {stderr}")
    try:
        yield url
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def noida_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """noida-db serving only its Elasticsearch API, started once for the session, stopped after."""
    with noida_server(tmp_path_factory.mktemp("noida-db")) as url:
        yield url


@pytest.fixture
def unique_index() -> str:
    """An index name no other test uses (noida-db is shared by the whole session)."""
    return f"bs-{uuid.uuid4().hex[:10]}"
