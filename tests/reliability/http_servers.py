"""Hostile HTTP servers on 127.0.0.1 for the image-fetch tests: each misbehaves in one way.

``hostile_server()`` serves, by path:

=====================  =================================================================================
``/ok.png``            a 4x3 red PNG
``/missing.png``       404
``/html``              200 ``text/html`` (an error page)
``/html-as.jpg``       200 ``image/jpeg`` whose body is HTML (a login wall behind an image URL)
``/trickle``           200 headers at once, then one body byte every ``TRICKLE_S`` seconds, forever
``/trickle-headers``   the status line and headers themselves one byte every ``TRICKLE_S`` seconds
``/forever``           200 without a length, 64 KB chunks as fast as the client reads, forever
``/redirect?to=URL``   302 to URL
``/loop``              302 to itself
``/hang``              reads the request, then never answers
=====================  =================================================================================

``silent_listener()`` is a socket that listens and never accepts (the kernel completes the handshake,
nothing ever answers); ``refused_url()`` is a port with nothing listening. Each server counts the
requests it received per path in ``calls`` so tests can assert that a refused URL was never contacted.
"""

from __future__ import annotations

import collections
import contextlib
import io
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

__all__ = ["TRICKLE_S", "HostileServer", "hostile_server", "red_png", "refused_url", "silent_listener"]

#: Seconds between trickled bytes.
TRICKLE_S = 0.05


def red_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (255, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


_HTML = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please sign in</body></html>"


@dataclass
class HostileServer:
    """A running server: its base URL, its port and the requests it received per path."""

    url: str
    port: int
    calls: collections.Counter[str] = field(default_factory=collections.Counter)


def _handler(state: HostileServer, stopping: threading.Event) -> type[BaseHTTPRequestHandler]:
    png = red_png()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urllib.parse.urlsplit(self.path)
            state.calls[parts.path] += 1
            try:
                self._route(parts)
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                pass  # the client gave up first: that is what the tests want

        def _route(self, parts: urllib.parse.SplitResult) -> None:
            path = parts.path
            if path == "/ok.png":
                self._send(200, png, "image/png")
            elif path == "/html":
                self._send(200, _HTML, "text/html; charset=utf-8")
            elif path == "/html-as.jpg":
                self._send(200, _HTML, "image/jpeg")
            elif path in ("/redirect", "/loop"):
                target = urllib.parse.parse_qs(parts.query)["to"][0] if path == "/redirect" else "/loop"
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/trickle":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.flush()
                self._trickle(png * 1000)
            elif path == "/trickle-headers":
                self._trickle(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nX-Padding: " + b"x" * 10_000)
            elif path == "/forever":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                chunk = b"\0" * 65536
                while not stopping.is_set():
                    self.wfile.write(chunk)
            elif path == "/hang":
                stopping.wait()
            else:
                self._send(404, b"no such image", "text/plain")

        def _trickle(self, data: bytes) -> None:
            for i in range(len(data)):
                if stopping.wait(TRICKLE_S):
                    return
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextlib.contextmanager
def hostile_server() -> Iterator[HostileServer]:
    """Run the server on a free port of 127.0.0.1 until the block ends (hung handlers are released)."""
    stopping = threading.Event()
    state = HostileServer(url="", port=0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, stopping))
    httpd.daemon_threads = True
    state.port = int(httpd.server_address[1])
    state.url = f"http://127.0.0.1:{state.port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stopping.set()
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def silent_listener() -> Iterator[str]:
    """The URL of a port that completes TCP handshakes and never reads or answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def refused_url() -> str:
    """A URL on a 127.0.0.1 port nothing listens on (bound, then released), so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
