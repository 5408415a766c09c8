"""``create_app``: the FastAPI application over one index (the API, the web page and its assets)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from blendsearch._types import PathInput
from blendsearch.engine import INDEX_FILE, Engine
from blendsearch.exceptions import IndexError_
from blendsearch.serve.errors import install_error_handlers
from blendsearch.serve.limits import BodySizeLimit
from blendsearch.serve.routes import admin, documents, search
from blendsearch.serve.settings import ServeSettings
from blendsearch.serve.state import EngineState

__all__ = ["create_app", "open_engine", "warm"]

STATIC = Path(str(resources.files("blendsearch.serve") / "static"))


def open_engine(index_dir: PathInput) -> Engine:
    """Open an existing index (serving never creates one)."""
    if not (Path(index_dir) / INDEX_FILE).is_file():
        raise IndexError_(f"no blendsearch index in {index_dir}")
    return Engine.open(index_dir)


def warm(engine: Engine) -> None:
    """Load what the first query would (model, vocabulary, expander, calibration) by running one."""
    from blendsearch.query.models import HybridQuery

    engine.encoder  # noqa: B018 - loads the model
    engine.calibration  # noqa: B018
    engine.warm([HybridQuery(text="warm up", k=1)])  # also freezes the loaded heap out of the gc's sight


def create_app(engine_or_index_dir: Engine | PathInput, settings: ServeSettings | None = None) -> FastAPI:
    """The app over an open Engine (left open on shutdown) or an index directory (opened and closed here)."""
    settings = settings or ServeSettings()
    if isinstance(engine_or_index_dir, Engine):
        state = EngineState(engine_or_index_dir, owns_engine=False)
    else:
        state = EngineState(open_engine(engine_or_index_dir), owns_engine=True)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="blendsearch",
        summary="Hybrid BM25 + metadata + vector search over one product catalogue index.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine_state = state
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for module in (search, documents, admin):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    return app
