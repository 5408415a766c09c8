"""Index facts and tools: stats, health, readiness, fields, score debugging and query expansion."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from blendsearch.config import CHANNELS
from blendsearch.debug import DebugReport, debug_scores
from blendsearch.engine import IndexStats
from blendsearch.expansion import Expander, Expansion
from blendsearch.serve.convert import check_text
from blendsearch.serve.deps import read_state, settings_of
from blendsearch.serve.errors import ERROR_RESPONSES, ApiError
from blendsearch.serve.limits import decode_base64_image
from blendsearch.serve.models import DebugRequest, ExpandRequest, HealthResponse, ReadyResponse
from blendsearch.serve.settings import ServeSettings
from blendsearch.serve.state import EngineState

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["index"], responses=ERROR_RESPONSES)

State = Annotated[EngineState, Depends(read_state)]
Settings = Annotated[ServeSettings, Depends(settings_of)]

#: Documents sampled for attribute names when the field mapping does not list them.
_FIELD_SAMPLE = 200


@router.get("/health", response_model=HealthResponse)
def health() -> HealthResponse:
    """The process is alive (no index access)."""
    return HealthResponse()


@router.get("/ready", response_model=ReadyResponse)
def ready(request: Request) -> ReadyResponse:
    """The index is open and the model (if any) loaded: searches will not pay a start-up cost."""
    state: EngineState = request.app.state.engine_state
    engine = state.engine
    stats = engine.stats()
    vectors = engine.encoder is not None and stats.model_fingerprint is not None
    return ReadyResponse(ready=True, documents=stats.documents, model=stats.model, vectors=vectors)


@router.get("/stats", response_model=IndexStats)
def stats(state: State) -> IndexStats:
    """Documents, model, calibration, vocabulary size."""
    return state.engine.stats()


@router.get("/fields")
def fields(state: State) -> dict[str, Any]:
    """What the web page builds its controls from: facetable fields, numeric fields, default blend."""
    engine = state.engine
    mapping = engine.config.fields
    attributes = list(mapping.attributes or [])
    if mapping.attributes is None:
        ids = list(engine.backend.iter_ids())[:_FIELD_SAMPLE]
        seen: dict[str, None] = {}
        for doc in engine.backend.get(ids):
            seen.update(dict.fromkeys(doc.attributes))
        attributes = list(seen)
    search = engine.search_settings()
    return {
        "attributes": attributes,
        "numeric": list(mapping.numeric),
        "facets": [a for a in attributes if a not in mapping.numeric] + ["colours", "tags"],
        "channels": list(CHANNELS),
        "weights": dict(search.weights),
        "normalisation": search.normalisation,
        "combination": search.combination,
        "calibrated": engine.calibration is not None,
    }


@router.post("/debug-scores", response_model=DebugReport)
def debug(body: DebugRequest, state: State, settings: Settings) -> DebugReport:
    """The score debugger's report for a query against this index's top hits (needs a model)."""
    check_text(body.text, settings)
    image = decode_base64_image(body.image_base64, settings.max_image_pixels) if body.image_base64 else None
    if not (body.text and body.text.strip()) and image is None:
        raise ApiError(422, "validation_error", "give a query text, an image, or both")
    return debug_scores(
        body.text, image, body.candidates_texts, None, engine=state.engine, index_top_n=body.top
    )


@router.post("/expand", response_model=Expansion)
def expand(body: ExpandRequest, state: State, settings: Settings) -> Expansion:
    """Each expansion stage's output for a query against this index's vocabulary, and why."""
    check_text(body.text, settings)
    expander = Expander(state.engine.config.expansion, state.engine.vocabulary())
    return expander.expand(body.text, body.settings)
