"""Run the OpenSearch and Elasticsearch API emulators on 127.0.0.1, for tests and benchmarks.

Neither is a real cluster, and figures measured on them are emulator figures:

- osmem-server (PyPI, an in-memory OpenSearch 3.x API emulator) serves mappings, bulk, BM25, bool,
  ``_msearch`` and aliases, but no k-NN, hybrid queries, search pipelines or synonym filters.
- noida-db (PyPI, an Elasticsearch 8 API emulator) also serves ``dense_vector``, ``knn`` and ``rrf``; it
  scores by brute force, so its query latency grows with the index.

Both context managers yield the server's plain ``http://127.0.0.1:PORT`` address and stop the process
when the block ends. They raise :class:`~blendsearch.exceptions.MissingDependencyError` where the package
is not installed and :class:`~blendsearch.exceptions.BackendConnectionError` where it cannot start.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from blendsearch.exceptions import BackendConnectionError, MissingDependencyError

__all__ = ["emulator_version", "run_noida", "run_osmem"]

STARTUP_SECONDS = 20.0
_PR_SET_PDEATHSIG = 1


def emulator_version(package: str) -> str:
    """``"<package> <version>"`` (``"<package> (not installed)"`` when absent), for labelling figures."""
    try:
        return f"{package} {importlib.metadata.version(package)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{package} (not installed)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BackendConnectionError(f"the emulator exited with code {process.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                json.loads(response.read())
                return
        except (urllib.error.URLError, ConnectionError, ValueError):
            time.sleep(0.1)
    raise BackendConnectionError(f"the emulator at {url} was not ready within {timeout:.0f} s")


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when the process that started it dies, even by a signal."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # another libc: the server is still stopped by the context manager
        pass


def _noida_binary() -> Path:
    try:
        from importlib.resources import files

        binary = Path(str(files("noida_db").joinpath("noida-db")))
    except ModuleNotFoundError as exc:
        raise MissingDependencyError("noida-db", purpose="the Elasticsearch emulator") from exc
    if not binary.is_file():
        raise MissingDependencyError("noida-db", purpose="the Elasticsearch emulator (binary missing)")
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    return binary


@contextlib.contextmanager
def run_noida(data_dir: Path | None = None, timeout: float = STARTUP_SECONDS) -> Iterator[str]:
    """noida-db serving only its Elasticsearch API on a free port (data in ``data_dir`` or a temp folder)."""
    binary = _noida_binary()
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="noida-")))
        port = _free_port()
        command = [
            str(binary), "start", "--only", "elasticsearch", "--host", "127.0.0.1",
            "--elasticsearch-port", str(port), "--data-dir", str(data_dir),
        ]  # fmt: skip
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, process, timeout)
        except BackendConnectionError as exc:
            process.kill()
            stderr = process.communicate(timeout=5)[1].decode(errors="replace")[-500:]
            raise BackendConnectionError(f"noida-db cannot start: {exc}; {stderr.strip()}") from exc
        try:
            yield url
        finally:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()


@contextlib.contextmanager
def run_osmem(timeout: float = STARTUP_SECONDS) -> Iterator[str]:
    """osmem-server (in memory) on a free port."""
    try:
        from osmem_server import OsmemError, OsmemServer
    except ImportError as exc:
        raise MissingDependencyError("osmem-server", purpose="the OpenSearch emulator") from exc
    try:
        server = OsmemServer.start(japanese=False, addr="127.0.0.1:0", startup_timeout=timeout)
    except OsmemError as exc:
        raise BackendConnectionError(f"osmem-server cannot start: {exc}") from exc
    try:
        yield server.url
    finally:
        server.close()
