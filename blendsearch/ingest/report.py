"""What an ingest reports: its summary, its progress after each batch, and one line per rejected item.

Apart from :mod:`.pipeline` (which re-exports them) so that readers of a summary or of a rejects file
(``blendsearch serve``, the CLI) need not know how the run is driven.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["IngestProgress", "IngestSummary", "Rejection"]


class Rejection(BaseModel):
    """One rejected item: where it was, why, and what it contained (so nothing is lost)."""

    position: int
    #: The row's id: text as given, any other JSON value as its JSON text (``5`` -> ``"5"``).
    id: str | None = None
    stage: str
    reason: str
    raw: dict[str, Any] = Field(default_factory=dict)
    #: Line of the file where the row starts (JSON Lines, CSV), and the byte offset of a fault in the
    #: bytes themselves (not UTF-8, invalid JSON, nested too deep, too large); see ``RawItem``.
    line: int | None = None
    offset: int | None = None

    def line_bytes(self) -> bytes:
        """This reject as one line of the rejects file (JSON Lines, UTF-8; unpaired surrogates escaped)."""
        text = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, allow_nan=False) + "\n"
        return text.encode("utf-8", "backslashreplace")


class IngestSummary(BaseModel):
    """Counts of one ingest run. ``read == indexed + rejected``; ``unchanged`` is part of ``indexed``."""

    read: int = 0
    indexed: int = 0
    written: int = 0
    unchanged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    items_per_second: float = 0.0
    encode_seconds: float = 0.0
    rejects_file: str | None = None
    model: str | None = None
    notices: list[str] = Field(default_factory=list)
    #: Items whose title or description was cut to ``MAX_TITLE_CHARS`` / ``MAX_DESCRIPTION_CHARS``.
    truncated: int = 0
    #: Reject reasons with their counts, most common first (at most 20; the rest under "(other reasons)").
    reject_reasons: dict[str, int] = Field(default_factory=dict)
    #: The first rows' field names, in order (at most 50): what to pick ``--id-field`` from.
    fields_seen: list[str] = Field(default_factory=list)


class IngestProgress(BaseModel):
    """Reported after each batch."""

    read: int
    indexed: int
    rejected: int
    total: int | None = None
    elapsed_s: float
