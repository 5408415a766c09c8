"""Turning API requests into library queries (with the server's limits) and results into responses."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

from blendsearch.query.models import HybridQuery, SearchResult
from blendsearch.serve.errors import ApiError
from blendsearch.serve.limits import check_image, decode_base64_image
from blendsearch.serve.models import SearchRequest, SearchResponse, SimilarRequest
from blendsearch.serve.settings import ServeSettings

__all__ = ["check_paging", "check_text", "json_response", "to_query", "to_response"]

_OPTION_FIELDS = (
    "filters",
    "k",
    "offset",
    "weights",
    "channels",
    "normalisation",
    "combination",
    "rrf_k",
    "candidates",
    "image_feedback",
    "min_probability",
)


def check_text(text: str | None, settings: ServeSettings) -> None:
    if text is not None and len(text) > settings.max_query_chars:
        raise ApiError(
            422, "query_too_long", f"query text is {len(text)} characters, over {settings.max_query_chars}"
        )


def check_paging(k: int, offset: int, settings: ServeSettings) -> None:
    if k > settings.max_k:
        raise ApiError(422, "k_too_large", f"k is {k}, over the server's limit of {settings.max_k}")
    if offset > settings.max_offset:
        raise ApiError(
            422, "offset_too_large", f"offset is {offset}, over the limit of {settings.max_offset}"
        )


def to_query(
    request: SearchRequest | SimilarRequest, settings: ServeSettings, image: bytes | None = None
) -> HybridQuery:
    """A HybridQuery from a request; the image comes as base64 in the body or as uploaded bytes."""
    check_paging(request.k, request.offset, settings)
    fields: dict[str, Any] = {name: getattr(request, name) for name in _OPTION_FIELDS}
    if isinstance(request, SearchRequest):
        check_text(request.text, settings)
        if image is None and request.image_base64:
            image = decode_base64_image(request.image_base64, settings.max_image_pixels)
        elif image is not None:
            check_image(image, settings.max_image_pixels)
        fields.update(text=request.text, image=image, expand=request.expand)
    else:
        fields.update(text="similar")
    return HybridQuery(**fields)


def to_response(
    result: SearchResult, explain: bool, facets: dict[str, dict[str, int]] | None = None
) -> SearchResponse:
    """The result as the API answers it; without ``explain`` the per-channel breakdown is left out."""
    if not explain:
        for hit in result.hits:
            hit.channels = {}
    return SearchResponse(**dict(result), facets=facets or {})


def json_response(model: BaseModel) -> Response:
    """The model's own JSON, sent as is: FastAPI would validate and serialise a returned model a second
    time through ``response_model`` (the declared model still documents the endpoint)."""
    return Response(content=model.model_dump_json(), media_type="application/json")
