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
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blendsearch.eval.emulators import run_noida
from blendsearch.exceptions import BackendConnectionError, MissingDependencyError

__all__ = ["noida_server", "noida_url", "osmem_emulator", "osmem_url", "unique_index"]

_STARTUP_S = 20.0


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
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(run_noida(data_dir, timeout=_STARTUP_S))
        except (MissingDependencyError, BackendConnectionError) as exc:
            pytest.skip(f"noida-db cannot run here: {exc}")
        yield url


@pytest.fixture(scope="session")
def noida_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """noida-db serving only its Elasticsearch API, started once for the session, stopped after."""
    with noida_server(tmp_path_factory.mktemp("noida-db")) as url:
        yield url


@pytest.fixture
def unique_index() -> str:
    """An index name no other test uses (noida-db is shared by the whole session)."""
    return f"bs-{uuid.uuid4().hex[:10]}"
