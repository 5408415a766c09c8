"""Local image references stay inside the image root(s): ``..``, absolute paths, file URLs, archives and
symlinks that leave them are rejected with one reason, the same whether or not the target exists, and
a path that leaves them as written is refused before the file system is asked anything about it."""

from __future__ import annotations

import builtins
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from blendsearch import Engine, EngineConfig
from blendsearch.cli import main
from blendsearch.config import IngestSettings
from blendsearch.exceptions import ImageError
from blendsearch.ingest.images import ImageSource


def png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(buffer, format="PNG")
    return buffer.getvalue()


RED, SECRET = png((255, 0, 0)), png((1, 2, 3))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``shop/`` (the catalogue and its images) beside ``outside/`` (a real image nobody allowed)."""
    shop, outside = tmp_path / "shop", tmp_path / "outside"
    (shop / "images").mkdir(parents=True)
    outside.mkdir()
    (shop / "images" / "a.png").write_bytes(RED)
    (outside / "secret.png").write_bytes(SECRET)
    with zipfile.ZipFile(outside / "photos.zip", "w") as archive:
        archive.writestr("a.png", SECRET)
    with zipfile.ZipFile(shop / "photos.zip", "w") as archive:
        archive.writestr("a.png", RED)
    (shop / "link.png").symlink_to(outside / "secret.png")
    (shop / "dangling.png").symlink_to(outside / "absent.png")
    (shop / "linkdir").symlink_to(outside)
    (shop / "inner.png").symlink_to(shop / "images" / "a.png")
    return tmp_path


def escapes(tree: Path) -> list[str]:
    """References that leave ``shop/`` as written: each to a file that exists and to one that does not."""
    outside = tree / "outside"
    refs: list[str] = []
    for name in ("secret.png", "absent.png"):
        refs += [
            f"../outside/{name}",
            f"images/../../outside/{name}",
            str(outside / name),
            (outside / name).as_uri(),
            f"file://localhost{outside / name}",
        ]
    return refs + [
        "/etc/passwd",
        "file:///etc/shadow",
        "/etc/no-such-file",
        "../outside/photos.zip!a.png",
        f"{outside}/photos.zip::a.png",
        "../outside/absent.zip!a.png",
    ]


def outside_root(ref: str) -> str:
    return f"image {ref!r} is outside the image root"


@pytest.fixture
def file_system_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every path stat-ed, lstat-ed or opened while the test runs."""
    log: list[str] = []
    real_stat, real_lstat, real_open = os.stat, os.lstat, builtins.open

    def logged(real: Any) -> Any:
        def call(path: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(path, str | os.PathLike):
                log.append(os.fspath(path))
            return real(path, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "stat", logged(real_stat))
    monkeypatch.setattr(os, "lstat", logged(real_lstat))
    monkeypatch.setattr(builtins, "open", logged(real_open))
    yield log


def test_references_leaving_the_root_are_refused_without_touching_them(
    tree: Path, file_system_log: list[str]
) -> None:
    refs = escapes(tree)
    with ImageSource(tree / "shop") as source:
        file_system_log.clear()
        reasons = [str(result) for result in source.fetch_many(refs)]
    assert reasons == [outside_root(ref) for ref in refs]
    touched = [p for p in file_system_log if not p.startswith(str(tree / "shop"))]
    assert touched == []


@pytest.mark.parametrize("ref", ["link.png", "dangling.png", "linkdir/secret.png", "linkdir/absent.png"])
def test_symlinks_out_of_the_root_are_refused_alike(tree: Path, ref: str) -> None:
    with ImageSource(tree / "shop") as source, pytest.raises(ImageError) as refused:
        source.fetch(ref)
    assert str(refused.value) == outside_root(ref)


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        (
            "images/a\x00.png",
            "image 'images/a\\x00.png' is not a valid reference (it contains a NUL character)",
        ),
        ("ftp://host/a.png", "image 'ftp://host/a.png': unsupported URL scheme 'ftp'"),
        (
            "file://other.host/etc/passwd",
            "image 'file://other.host/etc/passwd': file URLs on other hosts are not read",
        ),
        ("file:///", "image 'file:///' is outside the image root"),
    ],
)
def test_malformed_references_are_one_reject_each(tree: Path, ref: str, reason: str) -> None:
    with ImageSource(tree / "shop") as source, pytest.raises(ImageError) as rejected:
        source.fetch(ref)
    assert str(rejected.value) == reason


def test_references_inside_the_root_still_work(tree: Path) -> None:
    shop = tree / "shop"
    with ImageSource(shop) as source:
        inside = [
            "images/a.png",
            "./images/../images/a.png",
            str(shop / "images" / "a.png"),
            (shop / "images" / "a.png").as_uri(),
            "inner.png",
            "photos.zip!a.png",
        ]
        assert [source.fetch(ref) for ref in inside] == [RED] * len(inside)
        missing = r"^image 'images/b.png' not found \(looked at .*shop/images/b.png\)$"
        with pytest.raises(ImageError, match=missing):
            source.fetch("images/b.png")


def test_a_root_reached_through_a_symlink_allows_both_spellings(tree: Path) -> None:
    (tree / "shop-link").symlink_to(tree / "shop")
    with ImageSource(tree / "shop-link") as source:
        assert source.fetch("images/a.png") == RED
        assert source.fetch(str(tree / "shop" / "images" / "a.png")) == RED
        assert source.fetch(str(tree / "shop-link" / "images" / "a.png")) == RED


def test_zip_root_members_cannot_climb_out(tree: Path) -> None:
    with ImageSource(tree / "shop" / "photos.zip") as source:
        assert source.fetch("a.png") == RED
        climb = r"^image '\.\./outside/secret.png' is not in archive photos.zip$"
        with pytest.raises(ImageError, match=climb):
            source.fetch("../outside/secret.png")
        with pytest.raises(ImageError) as refused:
            source.fetch(str(tree / "outside" / "secret.png"))
    assert str(refused.value) == outside_root(str(tree / "outside" / "secret.png"))


@pytest.mark.parametrize("extra", ["../outside", "{tree}/outside"])
def test_extra_image_roots_are_allowed(tree: Path, extra: str) -> None:
    settings = IngestSettings(image_roots=[extra.format(tree=tree)])
    with ImageSource(tree / "shop", settings) as source:
        assert source.fetch("../outside/secret.png") == SECRET
        assert source.fetch("link.png") == SECRET
        assert source.fetch("../outside/photos.zip!a.png") == SECRET
        with pytest.raises(ImageError) as refused:
            source.fetch("/etc/passwd")
    assert str(refused.value) == outside_root("/etc/passwd")


def test_query_images_named_by_the_caller_are_not_confined(tree: Path) -> None:
    from blendsearch.ingest.images import open_image

    image = open_image(str(tree / "outside" / "secret.png"))
    assert image.getpixel((0, 0)) == (1, 2, 3)


# -- through an ingest and the CLI -------------------------------------------------------------------


def write_catalog(tree: Path, refs: list[str]) -> Path:
    rows = [{"id": f"r{i}", "title": f"row {i}", "image": ref} for i, ref in enumerate(refs)]
    rows.append({"id": "good", "title": "red shirt", "image": "images/a.png"})
    catalog = tree / "shop" / "catalog.jsonl"
    catalog.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return catalog


def reject_reasons(path: Path) -> dict[str, str]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {str(row["id"]).strip('"'): row["reason"] for row in rows}


def test_ingest_rejects_every_escape_with_one_reason(tree: Path) -> None:
    refs = escapes(tree) + ["link.png", "dangling.png"]
    catalog = write_catalog(tree, refs)
    config = EngineConfig()
    config.enrichment.tags = False
    with Engine.open(tree / "index", config) as engine:
        summary = engine.ingest(catalog, rejects=tree / "rejects.jsonl")
    assert (summary.read, summary.indexed, summary.rejected) == (len(refs) + 1, 1, len(refs))
    expected = {f"r{i}": outside_root(ref) for i, ref in enumerate(refs)}
    assert reject_reasons(tree / "rejects.jsonl") == expected


def test_cli_allow_image_root_opens_one_more_folder(tree: Path) -> None:
    catalog = write_catalog(tree, ["../outside/secret.png", "/etc/passwd"])
    args = ["ingest", str(catalog), "--index", str(tree / "index"), "--rejects", str(tree / "rejects.jsonl")]

    def summary_of(output: str) -> dict[str, Any]:
        return json.loads(next(line for line in output.splitlines() if line.startswith("{")))

    refused = CliRunner().invoke(main, [*args, "--json"])
    assert summary_of(refused.output)["rejected"] == 2, refused.output
    allowed = CliRunner().invoke(main, [*args, "--json", "--allow-image-root", str(tree / "outside")])
    summary = summary_of(allowed.output)
    assert (summary["read"], summary["indexed"], summary["rejected"]) == (3, 2, 1), allowed.output
    assert reject_reasons(tree / "rejects.jsonl") == {"r1": outside_root("/etc/passwd")}
