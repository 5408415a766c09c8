"""Image URLs: private addresses refused unless opted in, one total deadline per URL, a size cap, DNS
checked and pinned on every hop, and a batch fetched concurrently on a bounded pool.

Every server here is on 127.0.0.1, so tests that must reach one opt in with ``allow_private_urls``;
the others assert it is refused without being contacted.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from http_servers import HostileServer, hostile_server, red_png, refused_url, silent_listener

from blendsearch import Engine, EngineConfig
from blendsearch.config import IngestSettings
from blendsearch.exceptions import ImageError
from blendsearch.ingest import fetch
from blendsearch.ingest.confine import address_allowed
from blendsearch.ingest.images import ImageSource

RED = red_png()
TIMEOUT = 0.5
#: What the hook sees as the public address of ``cdn.example``; connections to it go to 127.0.0.1.
PUBLIC = "93.184.216.34"


def refusal(url: str, where: str = "points to") -> str:
    return (
        f"image {url} refused: it {where} a loopback, private or reserved address; "
        "set allow_private_urls (ingest --allow-private-urls) to fetch from it"
    )


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with hostile_server() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_counts(server: HostileServer) -> None:
    server.calls.clear()


def route_public_to_loopback(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every address a socket opens to, and send the pretend-public one to the local server."""
    connected: list[tuple[str, int]] = []
    real_open = fetch._open_socket

    def open_socket(address: tuple[str, int], timeout: float | None = None, bind: Any = None) -> Any:
        connected.append(address)
        host, port = address
        return real_open(("127.0.0.1" if host == PUBLIC else host, port), timeout, bind)

    monkeypatch.setattr(fetch, "_open_socket", open_socket)
    return connected


def source(allow_private: bool, **settings: Any) -> ImageSource:
    values: dict[str, Any] = {"image_timeout_s": TIMEOUT, "allow_private_urls": allow_private}
    return ImageSource(None, IngestSettings(**(values | settings)), retry_backoff_s=0.01)


# -- the address policy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata (link-local)
        ("fe80::1", False),
        ("fc00::1", False),
        ("100.64.0.1", False),  # shared address space (CGNAT)
        ("0.0.0.0", False),
        ("::", False),
        ("224.0.0.1", False),
        ("ff0e::1", False),  # global-scope multicast is still multicast
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("192.0.2.1", False),  # documentation
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:5db8:d822::1", True),  # 6to4 of a public address
        ("not an address", False),
    ],
)
def test_address_policy(address: str, allowed: bool) -> None:
    assert address_allowed(address) is allowed


# -- refusal without opt-in: one reason, nothing contacted ------------------------------------------------


def test_private_urls_refused_with_one_reason_and_never_contacted(server: HostileServer) -> None:
    with silent_listener() as silent:
        urls = [
            f"{server.url}/ok.png",  # open port, image there
            f"{server.url}/missing.png",  # open port, 404
            f"{server.url}/hang",  # open port, never answers
            f"{refused_url()}/x.png",  # closed port
            f"{silent}/x.png",  # listening, never accepts
            f"http://localhost:{server.port}/ok.png",  # a name resolving to loopback
            f"http://[::1]:{server.port}/ok.png",
            f"http://[::ffff:127.0.0.1]:{server.port}/ok.png",
            f"http://2130706433:{server.port}/ok.png",  # 127.0.0.1 spelt as one number
            f"http://0x7f.1:{server.port}/ok.png",
            f"http://127.1:{server.port}/ok.png",
            "http://169.254.169.254/latest/meta-data/",
        ]
        started = time.perf_counter()
        with source(allow_private=False) as images:
            results = images.fetch_many(urls)
        elapsed = time.perf_counter() - started
    assert [str(r) for r in results] == [refusal(url) for url in urls]
    assert server.calls == {}
    assert elapsed < TIMEOUT  # nothing waited on a connection


def test_dns_is_checked_and_the_connection_goes_to_the_checked_address(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cdn.example`` resolves to a private and a public address: the public one is used, and the socket
    opens to it (the hook maps it to the test server), not to a second lookup's answer."""
    lookups: list[str] = []
    answers = {"cdn.example": [["10.0.0.7", PUBLIC], ["127.0.0.1"]]}  # a rebinding resolver

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        if host in answers:
            return answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
        return [socket.gethostbyname(host)]

    monkeypatch.setattr(fetch, "resolve_host", resolver)
    connected = route_public_to_loopback(monkeypatch)
    with source(allow_private=False) as images:
        assert images.fetch(f"http://cdn.example:{server.port}/ok.png") == RED
        # The second lookup of the same name answers loopback: checked again, refused, not contacted.
        url = f"http://cdn.example:{server.port}/ok.png"
        with pytest.raises(ImageError) as refused:
            images.fetch(url)
    assert str(refused.value) == refusal(url)
    assert lookups == ["cdn.example", "cdn.example"]
    assert connected == [(PUBLIC, server.port)]
    assert server.calls == {"/ok.png": 1}


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{port}/ok.png", "http://internal.example:{port}/ok.png", "http://[::1]:{port}/ok.png"],
)
def test_redirect_from_a_public_host_to_a_private_one_is_refused(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    names = {"cdn.example": [PUBLIC], "internal.example": ["192.168.0.10"]}
    monkeypatch.setattr(fetch, "resolve_host", lambda host, port: names.get(host, [host]))
    connected = route_public_to_loopback(monkeypatch)
    url = f"http://cdn.example:{server.port}/redirect?to={target.format(port=server.port)}"
    with source(allow_private=False) as images, pytest.raises(ImageError) as refused:
        images.fetch(url)
    assert str(refused.value) == refusal(url, "redirects to")
    assert server.calls == {"/redirect": 1}
    assert connected == [(PUBLIC, server.port)]


# -- opted in: what each misbehaving server costs ---------------------------------------------------------


def test_opted_in_fetches_follow_redirects_and_report_http_errors(server: HostileServer) -> None:
    with source(allow_private=True) as images:
        assert images.fetch(f"{server.url}/ok.png") == RED
        assert images.fetch(f"{server.url}/redirect?to=/ok.png") == RED
        with pytest.raises(ImageError, match=r"^image .*/missing.png: HTTP 404 Not Found$"):
            images.fetch(f"{server.url}/missing.png")
        with pytest.raises(ImageError, match=r"^image .*/html is not an image: the server sent text/html$"):
            images.fetch(f"{server.url}/html")
        with pytest.raises(ImageError, match=r"redirects more than 5 times"):
            images.fetch(f"{server.url}/loop")
        with pytest.raises(ImageError, match=r"redirects to a non-HTTP URL"):
            images.fetch(f"{server.url}/redirect?to=file:///etc/passwd")
        with pytest.raises(ImageError, match=r"cannot be fetched: ConnectionRefusedError"):
            images.fetch(f"{refused_url()}/x.png")
    assert server.calls["/missing.png"] == 1  # a 404 is not retried


@pytest.mark.parametrize("path", ["/hang", "/trickle", "/trickle-headers", "/forever", "silent"])
def test_every_url_ends_by_its_total_deadline(server: HostileServer, path: str) -> None:
    with silent_listener() as silent:
        url = f"{silent}/x.png" if path == "silent" else f"{server.url}{path}"
        started = time.perf_counter()
        with source(allow_private=True, max_image_bytes=10**10) as images:
            with pytest.raises(ImageError) as failed:
                images.fetch(url)
        elapsed = time.perf_counter() - started
    assert str(failed.value) == f"image {url} timed out (total deadline {TIMEOUT:g} s)"
    assert TIMEOUT * 0.9 < elapsed < TIMEOUT + 0.5


def test_a_stuck_dns_lookup_counts_against_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    released = threading.Event()

    def stuck(host: str, port: int) -> list[str]:
        released.wait(10)
        return [PUBLIC]

    monkeypatch.setattr(fetch, "resolve_host", stuck)
    url = "http://slow-dns.example/x.png"
    started = time.perf_counter()
    try:
        with source(allow_private=False) as images, pytest.raises(ImageError) as failed:
            images.fetch(url)
    finally:
        released.set()
    assert str(failed.value) == f"image {url} timed out (total deadline {TIMEOUT:g} s)"
    assert time.perf_counter() - started < TIMEOUT + 0.5


def test_size_cap_stops_an_endless_body(server: HostileServer) -> None:
    with source(allow_private=True, max_image_bytes=200_000) as images, pytest.raises(ImageError) as failed:
        images.fetch(f"{server.url}/forever")
    assert str(failed.value) == f"image {server.url}/forever is over the limit of 200000 bytes"


def test_a_batch_is_fetched_concurrently_and_in_order(server: HostileServer) -> None:
    """16 hanging URLs on 8 workers take two deadlines, not sixteen; results keep the input order."""
    urls = [f"{server.url}/hang?{i}" for i in range(16)]
    urls[5] = f"{server.url}/ok.png"
    started = time.perf_counter()
    with source(allow_private=True, fetch_workers=8, max_host_timeouts=100) as images:
        results = images.fetch_many(urls)
    elapsed = time.perf_counter() - started
    assert results[5] == RED
    assert [str(r) for i, r in enumerate(results) if i != 5] == [
        f"image {url} timed out (total deadline {TIMEOUT:g} s)" for i, url in enumerate(urls) if i != 5
    ]
    assert elapsed < 3 * TIMEOUT + 0.5  # one after another: 15 x 0.5 s = 7.5 s


def test_a_host_that_keeps_timing_out_is_skipped(server: HostileServer) -> None:
    """One worker, so the order is exact: two timeouts in a row open the breaker; a success resets it."""
    hang, ok = f"{server.url}/hang", f"{server.url}/ok.png"
    urls = [hang, ok, hang, hang, ok, hang]
    with source(allow_private=True, fetch_workers=1, max_host_timeouts=2, image_timeout_s=0.2) as images:
        results = images.fetch_many(urls)
        with silent_listener() as other_host:  # another host is not affected
            with pytest.raises(ImageError, match="timed out"):
                images.fetch(f"{other_host}/x.png")
    timed_out = f"image {hang} timed out (total deadline 0.2 s)"
    skipped = f"image {{}} skipped: 127.0.0.1:{server.port} timed out 2 times in a row (max_host_timeouts)"
    assert [r if isinstance(r, bytes) else str(r) for r in results] == [
        timed_out, RED, timed_out, timed_out, skipped.format(ok), skipped.format(hang)
    ]
    assert server.calls == {"/hang": 3, "/ok.png": 1}  # the skipped two never reached the server


# -- through an ingest ---------------------------------------------------------------------------------


def ingest(tmp_path: Path, rows: list[dict[str, str]], **settings: Any) -> tuple[Any, dict[str, str], float]:
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text("".join(json.dumps(row) + "\n" for row in rows))
    config = EngineConfig()
    config.ingest = IngestSettings(**({"image_timeout_s": TIMEOUT} | settings))
    config.enrichment.tags = False
    started = time.perf_counter()
    with Engine.open(tmp_path / "index", config) as engine:
        summary = engine.ingest(catalog, rejects=tmp_path / "rejects.jsonl")
    elapsed = time.perf_counter() - started
    lines = (tmp_path / "rejects.jsonl").read_text().splitlines()
    reasons = {str(json.loads(line)["id"]).strip('"'): json.loads(line)["reason"] for line in lines}
    return summary, reasons, elapsed


def test_ingest_with_slow_hosts_is_bounded_and_loses_no_row(server: HostileServer, tmp_path: Path) -> None:
    rows = [{"id": f"h{i}", "title": "hang", "image": f"{server.url}/hang?{i}"} for i in range(6)]
    rows += [{"id": f"t{i}", "title": "trickle", "image": f"{server.url}/trickle?{i}"} for i in range(6)]
    rows += [
        {"id": "ok", "title": "red shirt", "image": f"{server.url}/ok.png"},
        {"id": "page", "title": "html", "image": f"{server.url}/html-as.jpg"},
    ]
    summary, reasons, elapsed = ingest(tmp_path, rows, allow_private_urls=True, max_host_timeouts=100)
    assert (summary.read, summary.indexed, summary.rejected) == (14, 1, 13)
    timed_out = {
        row["id"]: f"image {row['image']} timed out (total deadline {TIMEOUT:g} s)" for row in rows[:12]
    }
    assert reasons == timed_out | {"page": "not an image: the data is an HTML/XML document"}
    assert elapsed < 4 * TIMEOUT + 2.0  # 12 slow URLs on 8 workers: two deadlines, plus the ingest itself


def test_ingest_refuses_private_urls_by_default(server: HostileServer, tmp_path: Path) -> None:
    rows = [
        {"id": "a", "title": "open port", "image": f"{server.url}/ok.png"},
        {"id": "b", "title": "closed port", "image": f"{refused_url()}/ok.png"},
    ]
    summary, reasons, _ = ingest(tmp_path, rows)
    assert (summary.read, summary.indexed, summary.rejected) == (2, 0, 2)
    assert reasons == {row["id"]: refusal(row["image"]) for row in rows}
    assert server.calls == {}


def test_cli_allow_private_urls_and_image_timeout(server: HostileServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from blendsearch.cli import main

    catalog = tmp_path / "catalog.jsonl"
    rows = [
        {"id": "ok", "title": "red shirt", "image": f"{server.url}/ok.png"},
        {"id": "slow", "title": "slow shirt", "image": f"{server.url}/hang"},
    ]
    catalog.write_text("".join(json.dumps(row) + "\n" for row in rows))
    rejects = tmp_path / "r.jsonl"
    args = ["ingest", str(catalog), "--index", str(tmp_path / "index"), "--rejects", str(rejects), "--json"]

    def summary_of(output: str) -> dict[str, Any]:
        return json.loads(next(line for line in output.splitlines() if line.startswith("{")))

    refused = CliRunner().invoke(main, args)
    assert summary_of(refused.output)["rejected"] == 2, refused.output
    assert server.calls == {}
    opted_in = CliRunner().invoke(main, [*args, "--allow-private-urls", "--image-timeout", "0.3"])
    summary = summary_of(opted_in.output)
    assert (summary["read"], summary["indexed"], summary["rejected"]) == (2, 1, 1), opted_in.output
    reasons = [json.loads(line)["reason"] for line in rejects.read_text().splitlines()]
    assert reasons == [f"image {server.url}/hang timed out (total deadline 0.3 s)"]
