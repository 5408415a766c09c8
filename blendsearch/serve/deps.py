"""Request dependencies: the engine state (checked for other processes' writes) and the API key."""

from __future__ import annotations

import secrets

from fastapi import Request

from blendsearch.serve.errors import ApiError
from blendsearch.serve.settings import ServeSettings
from blendsearch.serve.state import EngineState

__all__ = ["read_state", "settings_of", "write_state"]


def settings_of(request: Request) -> ServeSettings:
    return request.app.state.settings


def _given_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _check_key(request: Request, expected: str) -> None:
    given = _given_key(request)
    if given is None:
        raise ApiError(
            401, "unauthorized", "this endpoint needs an API key (X-API-Key or Authorization: Bearer)"
        )
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise ApiError(403, "forbidden", "the API key is not valid")


def read_state(request: Request) -> EngineState:
    """The engine for a read, with other processes' writes picked up; the key when reads are protected."""
    settings = settings_of(request)
    if settings.protect_reads and settings.api_key:
        _check_key(request, settings.api_key)
    state: EngineState = request.app.state.engine_state
    state.check_for_changes()
    return state


def write_state(request: Request) -> EngineState:
    """The engine for a write: refused (403) when the server has no API key configured."""
    settings = settings_of(request)
    if not settings.api_key:
        raise ApiError(
            403,
            "writes_disabled",
            "writes are off: start the server with --api-key or BLENDSEARCH_API_KEY to enable them",
        )
    _check_key(request, settings.api_key)
    state: EngineState = request.app.state.engine_state
    state.check_for_changes()
    return state
