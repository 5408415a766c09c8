"""Every failure as ``{"error": {"type", "message"}}`` with a 4xx (or 503 when the index/backend fails):
no request gets a 500 with a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from blendsearch.exceptions import (
    BackendError,
    BlendsearchError,
    CalibrationError,
    CatalogError,
    ConfigError,
    EncoderError,
    IndexError_,
    ItemError,
    MissingDependencyError,
)
from blendsearch.serve.models import ErrorResponse

__all__ = ["ApiError", "ERROR_RESPONSES", "error_response", "install_error_handlers"]

logger = logging.getLogger("blendsearch.serve")

#: What the OpenAPI schema says error statuses carry (replaces FastAPI's own 422 body).
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 413, 422, 503)
}

#: Library errors -> (HTTP status, error type); the first match wins, so subclasses come first.
_STATUS: list[tuple[type[BlendsearchError], int, str]] = [
    (ConfigError, 400, "invalid_query"),
    (ItemError, 400, "invalid_item"),
    (CatalogError, 400, "invalid_catalog"),
    (CalibrationError, 400, "calibration"),
    (MissingDependencyError, 503, "missing_dependency"),
    (EncoderError, 503, "model_unavailable"),
    (IndexError_, 503, "index_unavailable"),
    (BackendError, 503, "backend_unavailable"),
]


class ApiError(Exception):
    """An error the API raises itself (not found, unauthorised, too large...)."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message


def error_response(status: int, type_: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message}}, status_code=status)


def _validation_message(errors: list[dict[str, object]]) -> str:
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")  # type: ignore[union-attr]
        parts.append(f"{location}: {error.get('msg')}" if location else str(error.get("msg")))
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Map ApiError, library errors, validation errors and HTTP errors to the one error body."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.type, exc.message)

    @app.exception_handler(BlendsearchError)
    async def _library(_: Request, exc: BlendsearchError) -> JSONResponse:
        for kind, status, type_ in _STATUS:
            if isinstance(exc, kind):
                if status >= 500:
                    logger.warning("%s: %s", type_, exc)
                return error_response(status, type_, str(exc))
        return error_response(400, "error", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "validation_error", _validation_message(list(exc.errors())))

    @app.exception_handler(ValidationError)
    async def _model(_: Request, exc: ValidationError) -> JSONResponse:
        return error_response(422, "validation_error", _validation_message(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, type_, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error")
        return error_response(500, "internal_error", f"internal error ({type(exc).__name__})")
