"""``/v1/search``: hybrid search by JSON body, by multipart upload, or by query string."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response

from blendsearch.exceptions import ConfigError
from blendsearch.filters import parse_filter
from blendsearch.serve.convert import json_response, to_query, to_response
from blendsearch.serve.deps import read_state, settings_of
from blendsearch.serve.errors import ERROR_RESPONSES, ApiError
from blendsearch.serve.models import SearchRequest, SearchResponse
from blendsearch.serve.settings import ServeSettings
from blendsearch.serve.state import EngineState

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["search"], responses=ERROR_RESPONSES)

State = Annotated[EngineState, Depends(read_state)]
Settings = Annotated[ServeSettings, Depends(settings_of)]


def run_search(
    state: EngineState, settings: ServeSettings, request: SearchRequest, image: bytes | None = None
) -> Response:
    query = to_query(request, settings, image)
    if request.facets:
        result, facets = state.engine.search_faceted(query, request.facets)
        return json_response(to_response(result, request.explain, facets))
    return json_response(to_response(state.engine.search(query), request.explain))


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, state: State, settings: Settings) -> Response:
    """Hybrid search: text and/or image (base64), filters, weights, fusion, paging, facets, explain."""
    return run_search(state, settings, body)


@router.post("/search/upload", response_model=SearchResponse)
def search_upload(
    state: State,
    settings: Settings,
    image: Annotated[UploadFile, File(description="The query photo.")],
    query: Annotated[str, Form(description="SearchRequest fields as JSON (without image_base64).")] = "{}",
) -> Response:
    """Query by photo as a multipart upload; the other SearchRequest fields come as JSON in ``query``."""
    try:
        body = SearchRequest.model_validate(json.loads(query or "{}"))
    except json.JSONDecodeError as exc:
        raise ApiError(422, "validation_error", f"query is not valid JSON: {exc.msg}") from exc
    data = image.file.read(settings.max_body_bytes + 1)
    return run_search(state, settings, body, image=data)


@router.get("/search", response_model=SearchResponse)
def search_get(
    state: State,
    settings: Settings,
    q: Annotated[str, Query(min_length=1, description="Query text.")],
    k: Annotated[int, Query(ge=1, le=10_000)] = 10,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    filter: Annotated[list[str] | None, Query(description="key=value, key=v1,v2, key>=n")] = None,  # noqa: A002
    explain: bool = False,
) -> Response:
    """The simple case: ``?q=red+dress&k=5&filter=gender=Women``."""
    try:
        filters = [parse_filter(f) for f in filter or []]
    except ConfigError as exc:
        raise ApiError(422, "invalid_filter", str(exc)) from exc
    return run_search(
        state, settings, SearchRequest(text=q, k=k, offset=offset, filters=filters, explain=explain)
    )
