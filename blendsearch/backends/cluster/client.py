"""Talking to an OpenSearch or Elasticsearch client: its helpers and exception classes (a dialect), and
the one place client errors become blendsearch's (:func:`client_errors`).

Client libraries are imported only when a dialect is loaded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from blendsearch.backends.cluster.bulk import error_reason
from blendsearch.exceptions import (
    BackendConnectionError,
    BackendError,
    BlendsearchError,
    MissingDependencyError,
    RetryableBackendError,
)

__all__ = [
    "ClientDialect",
    "call_client",
    "client_errors",
    "dialect_for_client",
    "load_dialect",
    "response_body",
    "response_error",
]

_RETRY_STATUSES = (429, 502, 503, 504)


@dataclass(frozen=True)
class ClientDialect:
    """A client library's helpers and exception classes, so error handling is written once."""

    name: str
    #: The client's helpers module (streaming_bulk, parallel_bulk, scan).
    helpers: Any
    connection_errors: tuple[type[BaseException], ...]
    timeout_errors: tuple[type[BaseException], ...]
    api_errors: tuple[type[BaseException], ...]

    def status(self, exc: BaseException) -> int | None:
        status = getattr(exc, "status_code", None)
        if status is None and getattr(exc, "meta", None) is not None:
            status = getattr(exc.meta, "status", None)
        return status if isinstance(status, int) else None

    def is_retryable(self, exc: BaseException) -> bool:
        if isinstance(exc, self.timeout_errors + self.connection_errors):
            return True
        return self.status(exc) in _RETRY_STATUSES

    def translate(self, exc: BaseException, what: str) -> BlendsearchError:
        """The blendsearch error for a client exception (raise it ``from exc``)."""
        message = f"{self.name} {what} failed: {exc}"
        if isinstance(exc, self.timeout_errors) or self.status(exc) in _RETRY_STATUSES:
            return RetryableBackendError(message)
        if isinstance(exc, self.connection_errors):
            return BackendConnectionError(message)
        return BackendError(message)


def load_dialect(product: str) -> ClientDialect:
    """The dialect of ``opensearch`` (opensearch-py) or ``elasticsearch`` (elasticsearch-py 8)."""
    try:
        if product == "opensearch":
            from opensearchpy import exceptions, helpers

            return ClientDialect(
                name="OpenSearch",
                helpers=helpers,
                connection_errors=(exceptions.ConnectionError,),
                timeout_errors=(exceptions.ConnectionTimeout,),
                api_errors=(exceptions.TransportError,),
            )
        if product == "elasticsearch":
            import elastic_transport
            from elasticsearch import ApiError, helpers

            return ClientDialect(
                name="Elasticsearch",
                helpers=helpers,
                connection_errors=(elastic_transport.ConnectionError,),
                timeout_errors=(elastic_transport.ConnectionTimeout,),
                api_errors=(ApiError, elastic_transport.TransportError),
            )
    except ImportError as exc:  # pragma: no cover - both are declared dependencies
        package = "opensearch-py" if product == "opensearch" else "elasticsearch"
        raise MissingDependencyError(package, purpose=f"the {product} backend") from exc
    raise ValueError(f"unknown product {product!r}; valid: opensearch, elasticsearch")


def dialect_for_client(client: Any) -> ClientDialect:
    """The dialect of a client object, from the library it comes from."""
    module = type(client).__module__
    return load_dialect("elasticsearch" if module.startswith("elasticsearch") else "opensearch")


@contextlib.contextmanager
def client_errors(dialect: ClientDialect, what: str, *, every: bool = False) -> Iterator[None]:
    """Re-raise the client's exceptions as blendsearch's (:meth:`ClientDialect.translate`), ``from`` them.

    Like :func:`blendsearch.exceptions.map_exceptions`, but the target depends on the HTTP status
    (429/5xx are retryable) as well as the class. ``every`` translates any non-blendsearch exception
    (a bulk helper raises its own types), not only the client's.
    """
    try:
        yield
    except BlendsearchError:
        raise
    except Exception as exc:
        if every or isinstance(exc, dialect.api_errors + dialect.connection_errors + dialect.timeout_errors):
            raise dialect.translate(exc, what) from exc
        raise


def call_client(dialect: ClientDialect, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a client method, returning plain data and raising blendsearch errors for the client's own."""
    with client_errors(dialect, what):
        return response_body(fn(*args, **kwargs))


def response_body(response: Any) -> Any:
    """A response as plain data (elasticsearch-py 8 wraps bodies in ObjectApiResponse)."""
    return getattr(response, "body", response)


def response_error(response: dict[str, Any]) -> str:
    """The reason of one failed ``_msearch`` response."""
    error = response.get("error")
    return error_reason(error) if error is not None else f"status {response.get('status')}"
