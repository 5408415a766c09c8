"""Request limits: body size (checked while the body streams in) and uploaded image size and pixels."""

from __future__ import annotations

import base64
import binascii
import io
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blendsearch.serve.errors import ApiError

__all__ = ["BodySizeLimit", "decode_base64_image", "check_image"]


class BodySizeLimit:
    """Answer 413 once a request body passes ``max_bytes`` (by Content-Length, or counted as it arrives)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._too_large(send)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps(
            {"error": {"type": "body_too_large", "message": f"request body over {self.max_bytes} bytes"}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def decode_base64_image(data: str, max_pixels: int) -> bytes:
    """Bytes of a base64 image (a ``data:`` URL prefix is allowed), checked by :func:`check_image`."""
    if "," in data[:100] and data.startswith("data:"):
        data = data.split(",", 1)[1]
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(422, "invalid_image", "image_base64 is not valid base64") from exc
    check_image(raw, max_pixels)
    return raw


def check_image(raw: bytes, max_pixels: int) -> None:
    """Refuse what is not a decodable image, or one over ``max_pixels``, before any model sees it."""
    from PIL import Image, UnidentifiedImageError

    if not raw:
        raise ApiError(422, "invalid_image", "the image is empty")
    try:
        with Image.open(io.BytesIO(raw)) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ApiError(
                    413,
                    "image_too_large",
                    f"image is {width}x{height} pixels, over the limit of {max_pixels}",
                )
            image.verify()
    except ApiError:
        raise
    except Image.DecompressionBombError as exc:
        raise ApiError(413, "image_too_large", f"image is too large to decode: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ApiError(422, "invalid_image", f"the image cannot be decoded: {exc}") from exc
