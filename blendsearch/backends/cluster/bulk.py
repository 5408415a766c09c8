"""Bulk writes to OpenSearch / Elasticsearch: chunked, retried, one outcome per action.

A chain of small steps around the client's own helper (``opensearchpy.helpers.streaming_bulk`` or
``elasticsearch.helpers.streaming_bulk``, or their ``parallel_bulk``):

1. the helper chunks actions by count AND bytes (``chunk_size``, ``max_chunk_bytes``) and yields one
   ``(ok, item)`` per action, in order;
2. items that failed with a retryable status (429, 502, 503, 504) or whose chunk hit a retryable
   transport error (timeout, connection reset) are sent again after a capped exponential backoff,
   up to ``max_retries`` rounds; other failures (a mapping conflict, say) are final at once;
3. every action ends as a :class:`BulkOutcome`; the backend turns them into ``UpsertResult``s, and the
   engine writes the failed ones to its rejects file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BulkHelpers", "BulkOutcome", "BulkSettings", "backoff_delay", "bulk_write", "error_reason"]


class BulkSettings(BaseModel):
    """Chunking and retry policy of bulk writes."""

    model_config = ConfigDict(extra="forbid")

    chunk_size: int = Field(default=500, ge=1)
    max_chunk_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_retries: int = Field(default=5, ge=0)
    initial_backoff: float = Field(default=0.5, ge=0.0)
    max_backoff: float = Field(default=30.0, ge=0.0)
    #: > 1 sends chunks from a thread pool (the helper's ``parallel_bulk``).
    threads: int = Field(default=1, ge=1, le=64)
    retry_statuses: tuple[int, ...] = (429, 502, 503, 504)


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to one action: ``result`` is the server's word (created, updated, deleted, not_found)."""

    id: str
    ok: bool
    status: int | None = None
    result: str | None = None
    error: str | None = None


class BulkHelpers(Protocol):
    """The part of a client's helpers module bulk_write uses (opensearchpy.helpers, elasticsearch.helpers)."""

    def streaming_bulk(
        self, client: Any, actions: Iterable[dict[str, Any]], **kwargs: Any
    ) -> Iterator[Any]: ...

    def parallel_bulk(
        self, client: Any, actions: Iterable[dict[str, Any]], **kwargs: Any
    ) -> Iterator[Any]: ...


def backoff_delay(attempt: int, settings: BulkSettings) -> float:
    """Seconds to wait before retry round ``attempt`` (0-based): initial * 2**attempt, capped."""
    return min(settings.max_backoff, settings.initial_backoff * (2**attempt))


def error_reason(error: Any) -> str:
    """A bulk item's error as one line: ``type: reason`` (the server's words)."""
    if isinstance(error, dict):
        kind, reason = error.get("type"), error.get("reason")
        if kind and reason:
            return f"{kind}: {reason}"
        return str(reason or kind or error)
    return str(error)


def _status(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _outcome(
    action: dict[str, Any], ok: bool, info: dict[str, Any]
) -> tuple[BulkOutcome, BaseException | None]:
    """The outcome of one helper item, and the transport exception behind it where the chunk failed."""
    item = next(iter(info.values())) if info else {}
    status = _status(item.get("status"))
    error = None if ok else error_reason(item.get("error", f"status {item.get('status')}"))
    outcome = BulkOutcome(id=str(action["_id"]), ok=ok, status=status, result=item.get("result"), error=error)
    return outcome, item.get("exception")


def bulk_write(
    client: Any,
    actions: Sequence[dict[str, Any]],
    *,
    helpers: BulkHelpers,
    settings: BulkSettings | None = None,
    is_retryable: Callable[[BaseException], bool] = lambda exc: False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[BulkOutcome]:
    """Send ``actions`` (helper action dicts with ``_id``) and return one outcome per action, in order.

    ``is_retryable`` says which transport exceptions (raised by the helper or carried by a failed item)
    are worth another round; any other exception propagates for the caller to map.
    """
    settings = settings or BulkSettings()
    outcomes: list[BulkOutcome | None] = [None] * len(actions)
    pending = list(range(len(actions)))
    for attempt in range(settings.max_retries + 1):
        last_round = attempt == settings.max_retries
        retry: list[int] = []
        done = 0
        try:
            items = _send(client, [actions[p] for p in pending], helpers, settings)
            # The helper yields exactly one item per action, in order (strict=False: it may stop by raising).
            for position, (ok, info) in zip(pending, items, strict=False):
                done += 1
                outcome, cause = _outcome(actions[position], ok, info)
                retryable = not ok and (
                    outcome.status in settings.retry_statuses or (cause is not None and is_retryable(cause))
                )
                outcomes[position] = outcome
                if retryable and not last_round:
                    retry.append(position)
        except Exception as exc:  # a transport error the helper re-raised: the unreported rest is in doubt
            if not is_retryable(exc):
                raise
            for position in pending[done:]:
                outcomes[position] = BulkOutcome(id=str(actions[position]["_id"]), ok=False, error=str(exc))
            if not last_round:
                retry.extend(pending[done:])
        if not retry:
            break
        sleep(backoff_delay(attempt, settings))
        pending = retry
    return [
        o if o is not None else BulkOutcome(id=str(a["_id"]), ok=False, error="no response")
        for o, a in zip(outcomes, actions, strict=True)
    ]


def _send(
    client: Any, actions: list[dict[str, Any]], helpers: BulkHelpers, settings: BulkSettings
) -> Iterator[tuple[bool, dict[str, Any]]]:
    common: dict[str, Any] = {
        "chunk_size": settings.chunk_size,
        "max_chunk_bytes": settings.max_chunk_bytes,
        "raise_on_error": False,
        "raise_on_exception": False,
    }
    if settings.threads > 1:
        return helpers.parallel_bulk(client, actions, thread_count=settings.threads, **common)
    # The helper's own retry is off: bulk_write retries more statuses than 429, and only failed items.
    return helpers.streaming_bulk(client, actions, max_retries=0, yield_ok=True, **common)
