"""What a running ``blendsearch serve`` allows: keys and the limits every request is held to."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ServeSettings"]


class ServeSettings(BaseModel):
    """Server options. ``api_key`` None turns the write endpoints off; ``protect_reads`` puts the read
    endpoints behind the same key. ``image_root`` is where relative product image paths resolve (default:
    the index config's ``fields.image_root``)."""

    api_key: str | None = None
    protect_reads: bool = False
    image_root: str | None = None
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    max_query_chars: int = Field(default=512, ge=1)
    max_k: int = Field(default=100, ge=1)
    max_offset: int = Field(default=1_000, ge=0)
    max_image_pixels: int = Field(default=25_000_000, ge=1)
    max_ingest_items: int = Field(default=50_000, ge=1)
    image_cache_seconds: int = Field(default=3600, ge=0)
