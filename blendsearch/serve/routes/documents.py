"""``/v1/documents``: read a product and its photo, find similar ones, bulk ingest (NDJSON), delete."""

from __future__ import annotations

import json
import tempfile
import urllib.parse
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from blendsearch.documents import Document, StoredDocument
from blendsearch.exceptions import ImageError, ItemError
from blendsearch.ingest.pipeline import Rejection
from blendsearch.ingest.readers import map_record
from blendsearch.serve.convert import json_response, to_query, to_response
from blendsearch.serve.deps import read_state, settings_of, write_state
from blendsearch.serve.errors import ERROR_RESPONSES, ApiError
from blendsearch.serve.models import (
    DeleteResponse,
    DocumentResponse,
    IngestResponse,
    SearchResponse,
    SimilarRequest,
)
from blendsearch.serve.settings import ServeSettings
from blendsearch.serve.state import EngineState

__all__ = ["image_root", "router"]

router = APIRouter(prefix="/v1/documents", tags=["documents"], responses=ERROR_RESPONSES)

ReadState = Annotated[EngineState, Depends(read_state)]
WriteState = Annotated[EngineState, Depends(write_state)]
Settings = Annotated[ServeSettings, Depends(settings_of)]

_IMAGE_TYPES = ((b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


def image_root(state: EngineState, settings: ServeSettings) -> Path | None:
    """Where product photos are served from: --image-root, else the index config's ``image_root``."""
    root = settings.image_root or state.engine.config.fields.image_root
    return Path(root).resolve() if root else None


def _found(state: EngineState, doc_id: str) -> StoredDocument:
    doc = state.engine.document(doc_id)
    if doc is None:
        raise ApiError(404, "not_found", f"no document with id {doc_id!r}")
    return doc


@router.get("/{doc_id}", response_model=DocumentResponse)
def get_document(doc_id: str, state: ReadState) -> DocumentResponse:
    """A stored product: its fields and the colours/tags generated from its photo."""
    doc = _found(state, doc_id)
    url = f"/v1/documents/{urllib.parse.quote(doc_id, safe='')}/image" if doc.image else None
    return DocumentResponse(document=doc.public(), enrichment=doc.enrichment, image_url=url)


@router.get(
    "/{doc_id}/image",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}, "description": "The photo."}},
)
def get_image(doc_id: str, state: ReadState, settings: Settings) -> Response:
    """The product photo, read through the engine's image source and confined to the image root."""
    from blendsearch.ingest.images import ImageSource

    doc = _found(state, doc_id)
    if not doc.image:
        raise ApiError(404, "no_image", f"document {doc_id!r} has no image")
    root = image_root(state, settings)
    if root is None:
        raise ApiError(404, "no_image_root", "the server has no image root (start it with --image-root DIR)")
    ref = doc.image.strip()
    if "://" in ref or ".zip" in ref.lower() and ("!" in ref or "::" in ref):
        raise ApiError(404, "image_not_local", f"image {ref!r} is not a file under the image root")
    path = Path(ref)
    if root.suffix.lower() != ".zip" or root.is_dir():
        target = (path if path.is_absolute() else root / path).resolve()
        if not target.is_relative_to(root):
            raise ApiError(404, "image_outside_root", f"image {ref!r} is outside the image root")
        ref = str(target)
    elif path.is_absolute() or ".." in path.parts:
        raise ApiError(404, "image_outside_root", f"image {ref!r} is outside the image archive")
    try:
        with ImageSource(root, state.engine.config.ingest) as source:
            data = source.fetch(ref)
    except ImageError as exc:
        raise ApiError(404, "image_not_found", str(exc)) from exc
    media = next((m for magic, m in _IMAGE_TYPES if data.startswith(magic)), None)
    if media is None:
        media = "image/webp" if data[8:12] == b"WEBP" else "application/octet-stream"
    headers = {"Cache-Control": f"public, max-age={settings.image_cache_seconds}"}
    return Response(content=data, media_type=media, headers=headers)


@router.post("/{doc_id}/similar", response_model=SearchResponse)
def similar(doc_id: str, body: SimilarRequest, state: ReadState, settings: Settings) -> Response:
    """Image -> image neighbours of a stored product, from its stored vector (same filters/k/paging)."""
    _found(state, doc_id)
    query = to_query(body, settings)
    return json_response(to_response(state.engine.similar(doc_id, query), body.explain))


@router.post(
    "",
    response_model=IngestResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            "description": "One catalogue item (JSON object) per line, mapped with the index's fields.",
        }
    },
)
async def ingest(request: Request, state: WriteState, settings: Settings) -> IngestResponse:
    """Bulk ingest NDJSON (API key needed): the same summary as the CLI, with per-item reasons."""
    from starlette.concurrency import run_in_threadpool

    body = (await request.body()).decode("utf-8", errors="replace")
    return await run_in_threadpool(_ingest_lines, state, settings, body)


def _ingest_lines(state: EngineState, settings: ServeSettings, body: str) -> IngestResponse:
    engine = state.engine
    root = image_root(state, settings)
    documents: list[Document] = []
    bad: list[Rejection] = []
    lines = [(n, line) for n, line in enumerate(body.splitlines(), start=1) if line.strip()]
    if not lines:
        raise ApiError(422, "empty_body", "the body has no NDJSON lines")
    if len(lines) > settings.max_ingest_items:
        raise ApiError(413, "too_many_items", f"{len(lines)} items, over {settings.max_ingest_items}")
    positions: list[int] = []
    for position, line in lines:
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.append(Rejection(position=position, stage="read", reason=f"invalid JSON: {exc.msg}"))
            continue
        if not isinstance(raw, dict):
            bad.append(Rejection(position=position, stage="read", reason="line is not a JSON object"))
            continue
        try:
            doc = map_record(raw, engine.config.fields)
        except ItemError as exc:
            bad.append(Rejection(position=position, stage="map", reason=str(exc), raw=raw))
            continue
        if doc.image and root is not None and "://" not in doc.image and not Path(doc.image).is_absolute():
            doc.image = str(root / doc.image)  # the engine resolves relative paths against its cwd
        documents.append(doc)
        positions.append(position)
    with state.write_lock, tempfile.TemporaryDirectory() as tmp:
        rejects_file = Path(tmp) / "rejects.jsonl"
        summary = engine.ingest(documents, rejects=rejects_file)
        rejects = [Rejection.model_validate_json(line) for line in _lines(rejects_file)]
    state.mark_written()
    for rejection in rejects:  # positions within the accepted documents -> lines of the body
        if 1 <= rejection.position <= len(positions):
            rejection.position = positions[rejection.position - 1]
    summary.read += len(bad)
    summary.rejected += len(bad)
    summary.rejects_file = None
    return IngestResponse(summary=summary, rejects=sorted([*bad, *rejects], key=lambda r: r.position))


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [line for line in path.read_text().splitlines() if line.strip()]


@router.delete("/{doc_id}", response_model=DeleteResponse)
def delete(doc_id: str, state: WriteState) -> DeleteResponse:
    """Delete one product (API key needed); 404 when it does not exist."""
    with state.write_lock:
        removed = state.engine.delete([doc_id])
    state.mark_written()
    if not removed:
        raise ApiError(404, "not_found", f"no document with id {doc_id!r}")
    return DeleteResponse(id=doc_id, deleted=True)
