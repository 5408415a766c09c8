"""Downloading one image over HTTP(S) with a total deadline, a size cap and an address policy.

Why not ``urllib.request.urlopen``: its timeout is per socket operation, so a server that sends one
byte every few seconds holds a download forever; it resolves the host itself, so a check made on
our own resolution can be swapped by DNS rebinding; and it follows redirects without asking.

Here each URL gets one deadline (``image_timeout_s``) covering DNS-to-last-byte of every attempt and
backoff; a watchdog shuts the socket when it passes, whatever the server does. The host is resolved
once per hop, every address is checked (see :mod:`blendsearch.ingest.confine`), and the connection
goes to the checked address (TLS still verifies the host name). Redirects are followed by hand, each
target checked the same way. A refused address is never contacted, so its refusal has one reason
whatever listens there.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from blendsearch.config import IngestSettings
from blendsearch.exceptions import ImageError
from blendsearch.ingest.confine import address_allowed

__all__ = ["HttpFetcher", "resolve_host"]

_USER_AGENT = "blendsearch/0.1 (+image fetch)"
_MAX_BACKOFF_S = 8.0
_MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
_PRIVATE_HINT = "set allow_private_urls (ingest --allow-private-urls) to fetch from it"


#: Opens the TCP connection to a checked address (tests replace it to observe where connections go).
_open_socket = socket.create_connection


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order (tests replace this function)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _TimedOut(ImageError):
    """The URL's total deadline passed (counted per host, see ``max_host_timeouts``)."""


class _Retryable(Exception):
    """A failure worth another try while time remains (5xx, 429, dropped connection)."""


class _Deadline:
    """Seconds left of one URL's budget."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


class HttpFetcher:
    """Fetches http(s) URLs under :class:`IngestSettings`; safe to share between threads."""

    def __init__(
        self,
        settings: IngestSettings,
        *,
        retry_backoff_s: float = 0.5,
        resolver: Callable[[str, int], list[str]] | None = None,
    ) -> None:
        self.settings = settings
        self.retry_backoff_s = retry_backoff_s
        self._resolver = resolver
        self._timeouts: dict[str, int] = {}  # host:port -> timeouts in a row
        self._timeouts_lock = threading.Lock()

    def fetch(self, url: str) -> bytes:
        """The body of ``url``, or :class:`ImageError` with the reason it was refused or failed.

        A host whose last ``max_host_timeouts`` images all timed out is not asked again by this
        fetcher: its other images fail at once, so a catalogue of one dead host costs a few deadlines,
        not one per row. Any image it does deliver resets the count.
        """
        host = urllib.parse.urlsplit(url).netloc.lower()
        limit = self.settings.max_host_timeouts
        with self._timeouts_lock:
            timeouts = self._timeouts.get(host, 0)
        if timeouts >= limit:
            raise ImageError(
                f"image {url} skipped: {host} timed out {limit} times in a row (max_host_timeouts)"
            )
        try:
            data = self._fetch(url)
        except _TimedOut:
            with self._timeouts_lock:
                self._timeouts[host] = self._timeouts.get(host, 0) + 1
            raise
        with self._timeouts_lock:
            self._timeouts[host] = 0
        return data

    def _fetch(self, url: str) -> bytes:
        deadline = _Deadline(self.settings.image_timeout_s)
        attempts = self.settings.image_retries + 1
        for attempt in range(attempts):
            try:
                return self._follow(url, deadline)
            except _Retryable as exc:
                backoff = min(self.retry_backoff_s * 2**attempt, _MAX_BACKOFF_S)
                if attempt == attempts - 1 or deadline.left() <= backoff:
                    tries = f"{attempt + 1} attempt" + ("s" if attempt else "")
                    raise ImageError(f"image {url} failed after {tries}: {exc}") from exc
                time.sleep(backoff)
        raise AssertionError("unreachable")  # pragma: no cover

    def _timed_out(self, url: str) -> str:
        return f"image {url} timed out (total deadline {self.settings.image_timeout_s:g} s)"

    # -- one attempt: the redirect chain ------------------------------------------------------------

    def _follow(self, url: str, deadline: _Deadline) -> bytes:
        current = url
        for _hop in range(_MAX_REDIRECTS + 1):
            status, location, body = self._request(url, current, deadline)
            if location is None:
                return body
            current = urllib.parse.urljoin(current, location)
            if urllib.parse.urlsplit(current).scheme.lower() not in ("http", "https"):
                raise ImageError(f"image {url} redirects to a non-HTTP URL")
        raise ImageError(f"image {url} redirects more than {_MAX_REDIRECTS} times")

    def _address(self, url: str, host: str, port: int, redirected: bool, deadline: _Deadline) -> str:
        """The address to connect to: the first resolved one the policy allows."""
        try:
            addresses = _within(deadline.left(), self._resolver or resolve_host, host, port)
        except TimeoutError as exc:
            raise _TimedOut(self._timed_out(url)) from exc
        except (OSError, UnicodeError) as exc:
            raise ImageError(f"image {url} cannot be fetched: host {host!r} does not resolve") from exc
        if self.settings.allow_private_urls:
            allowed = addresses
        else:
            allowed = [a for a in addresses if address_allowed(a)]
        if not allowed:
            where = "redirects to" if redirected else "points to"
            raise ImageError(
                f"image {url} refused: it {where} a loopback, private or reserved address; {_PRIVATE_HINT}"
            )
        return allowed[0]

    def _request(self, url: str, current: str, deadline: _Deadline) -> tuple[int, str | None, bytes]:
        parts = urllib.parse.urlsplit(current)
        host = parts.hostname
        if not host:
            raise ImageError(f"image {url} has no host")
        https = parts.scheme.lower() == "https"
        try:
            port = parts.port or (443 if https else 80)
        except ValueError as exc:
            raise ImageError(f"image {url} has an invalid port") from exc
        address = self._address(url, host, port, current != url, deadline)
        left = deadline.left()
        if left <= 0:
            raise _TimedOut(self._timed_out(url))
        connection = _pinned_connection(host, port, address, https, left)
        watchdog = threading.Timer(left, _abort, args=(connection,))
        watchdog.daemon = True
        watchdog.start()
        try:
            return self._exchange(url, connection, parts, deadline)
        except ImageError:
            raise
        except TimeoutError as exc:
            raise _TimedOut(self._timed_out(url)) from exc
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if deadline.left() <= 0:
                raise _TimedOut(self._timed_out(url)) from exc
            if isinstance(exc, ConnectionRefusedError | socket.gaierror | ssl.SSLCertVerificationError):
                raise ImageError(f"image {url} cannot be fetched: {_describe(exc)}") from exc
            raise _Retryable(_describe(exc)) from exc
        finally:
            watchdog.cancel()
            connection.close()

    def _exchange(
        self,
        url: str,
        connection: http.client.HTTPConnection,
        parts: urllib.parse.SplitResult,
        deadline: _Deadline,
    ) -> tuple[int, str | None, bytes]:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        connection.request("GET", path, headers={"User-Agent": _USER_AGENT, "Accept": "image/*"})
        response = connection.getresponse()
        status = response.status
        if status in _REDIRECTS:
            location = response.getheader("Location")
            if not location:
                raise ImageError(f"image {url}: HTTP {status} without a Location")
            return status, location, b""
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status} {response.reason}")
        if status != 200:
            raise ImageError(f"image {url}: HTTP {status} {response.reason}")
        kind = (response.getheader("Content-Type") or "").split(";", 1)[0].strip().lower()
        if kind.startswith("text/") or kind in ("application/json", "application/xhtml+xml"):
            raise ImageError(f"image {url} is not an image: the server sent {kind}")
        limit = self.settings.max_image_bytes
        length = response.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise ImageError(f"image {url} is {length} bytes, over the limit of {limit}")
        return status, None, self._body(url, connection, response, deadline)

    def _body(
        self,
        url: str,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        deadline: _Deadline,
    ) -> bytes:
        """Read in chunks, checking the deadline and the cap between them (not only per socket read)."""
        limit = self.settings.max_image_bytes
        chunks: list[bytes] = []
        size = 0
        while True:
            left = deadline.left()
            sock = _socket_of(connection)
            if left <= 0 or sock is None:
                raise TimeoutError
            sock.settimeout(left)
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise ImageError(f"image {url} is over the limit of {limit} bytes")
        if deadline.left() <= 0:
            raise TimeoutError  # the watchdog ended the body early: what came is not all of it
        if response.length:
            raise http.client.IncompleteRead(b"", response.length)
        return b"".join(chunks)


def _within(seconds: float, resolve: Callable[[str, int], list[str]], host: str, port: int) -> list[str]:
    """``resolve(host, port)``, or TimeoutError after ``seconds`` (``getaddrinfo`` has no timeout of its
    own; a stuck lookup is left to finish on its daemon thread)."""
    if seconds <= 0:
        raise TimeoutError
    outcome: list[Any] = []

    def work() -> None:
        try:
            outcome.append(resolve(host, port))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
            outcome.append(exc)

    thread = threading.Thread(target=work, name="blendsearch-resolve", daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        raise TimeoutError
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return list(outcome[0])


def _pinned_connection(
    host: str, port: int, address: str, https: bool, timeout: float
) -> http.client.HTTPConnection:
    """A connection to ``host`` that opens its socket to ``address`` (already checked), not a new lookup."""
    connection: http.client.HTTPConnection
    if https:
        context = ssl.create_default_context()
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)

    def connect_to_checked(
        _address: tuple[str, int], timeout: float | None = None, source: Any = None
    ) -> socket.socket:
        return _open_socket((address, port), timeout, source)

    connect = connection.connect

    def connect_and_keep_socket() -> None:
        connect()
        connection._blendsearch_socket = connection.sock  # type: ignore[attr-defined]  # TLS-wrapped

    connection._create_connection = connect_to_checked  # type: ignore[attr-defined]
    connection.connect = connect_and_keep_socket  # type: ignore[method-assign]
    return connection


def _socket_of(connection: http.client.HTTPConnection) -> socket.socket | None:
    """The raw TCP socket (``connection.sock`` is dropped once a closing response is returned)."""
    return getattr(connection, "_blendsearch_socket", None)


def _abort(connection: http.client.HTTPConnection) -> None:
    """The watchdog: wake a blocked read by shutting the socket down (a connect has its own timeout)."""
    sock = _socket_of(connection)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _describe(exc: BaseException) -> str:
    text = str(exc) or ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
