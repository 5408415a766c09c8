"""``ingest``, ``search``, ``stats`` and ``delete``: the main job."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from blendsearch.cli.notices import echo_notices
from blendsearch.cli.options import (
    backend_option,
    config_option,
    echo_json,
    index_option,
    json_option,
    library_errors,
    stored_or_default_config,
)
from blendsearch.config import CHANNELS, check_weights
from blendsearch.documents import MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS
from blendsearch.engine import Engine
from blendsearch.exceptions import ConfigError
from blendsearch.filters import parse_filter
from blendsearch.ingest.pipeline import IngestProgress, IngestSummary
from blendsearch.query.models import HybridQuery, SearchResult

__all__ = ["commands"]


def _progress_printer() -> object | None:
    """A one-line progress bar with items/s on a terminal; nothing when stderr is not one."""
    if not sys.stderr.isatty():
        return None

    def show(p: IngestProgress) -> None:
        rate = p.read / p.elapsed_s if p.elapsed_s > 0 else 0.0
        total = f"/{p.total}" if p.total else ""
        width = 30
        bar = ""
        if p.total:
            done = int(width * min(p.read / p.total, 1.0))
            bar = "[" + "#" * done + "." * (width - done) + "] "
        click.echo(
            f"\r{bar}read {p.read}{total}  indexed {p.indexed}  rejected {p.rejected}  {rate:,.0f} items/s",
            err=True,
            nl=False,
        )

    return show


@click.command()
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@index_option
@config_option
@click.option(
    "--model", help="Model: hub id, local folder, open_clip:NAME, or a trained blendsearch model folder."
)
@backend_option
@click.option(
    "--rejects", type=click.Path(dir_okay=False, path_type=Path), help="Write rejected items here (JSONL)."
)
@click.option("--id-field", help="Catalogue column holding the id.")
@click.option("--title-field", help="Catalogue column holding the title.")
@click.option("--description-field", multiple=True, help="Description column(s).")
@click.option("--image-field", help="Column holding image paths/URLs.")
@click.option(
    "--attribute", "attributes", multiple=True, help="Attribute column (repeatable; default: the rest)."
)
@click.option("--numeric", multiple=True, help="Attribute column read as a number (range filters).")
@click.option("--image-root", help="Folder or .zip archive that relative image paths resolve against.")
@click.option(
    "--allow-image-root",
    "allow_image_roots",
    multiple=True,
    help="Another folder local image paths may point into (repeatable; default: only the image root).",
)
@click.option(
    "--allow-private-urls",
    is_flag=True,
    default=None,
    help="Fetch image URLs on loopback, private or link-local addresses (refused by default).",
)
@click.option("--image-timeout", type=float, help="Total seconds one image URL may take (default 10).")
@click.option("--max-image-pixels", type=int, help="Reject images above this many pixels (default 40M).")
@click.option("--tag-field", multiple=True, help="Attribute whose values are the zero-shot tag vocabulary.")
@click.option("--batch-size", type=int, help="Items per encoding batch.")
@json_option
def ingest(
    catalog: Path,
    index_dir: Path,
    config_file: Path | None,
    model: str | None,
    backend_url: str | None,
    rejects: Path | None,
    id_field: str | None,
    title_field: str | None,
    description_field: tuple[str, ...],
    image_field: str | None,
    attributes: tuple[str, ...],
    numeric: tuple[str, ...],
    image_root: str | None,
    allow_image_roots: tuple[str, ...],
    allow_private_urls: bool | None,
    image_timeout: float | None,
    max_image_pixels: int | None,
    tag_field: tuple[str, ...],
    batch_size: int | None,
    as_json: bool,
) -> None:
    """Ingest CATALOG (JSONL, CSV or Parquet) into the index; re-running skips unchanged items.

    Exits non-zero (after printing the summary) when nothing was indexed: an empty catalogue, or every
    row rejected, with the most common reason and, for missing ids, the fields found to pick
    ``--id-field`` from.
    """
    with library_errors():
        config = stored_or_default_config(index_dir, config_file)
        fields = config.fields.model_copy(
            update={
                k: v
                for k, v in {
                    "id": id_field,
                    "title": title_field,
                    "description": list(description_field) or None,
                    "image": image_field,
                    "attributes": list(attributes) or None,
                    "numeric": list(numeric) or None,
                    "image_root": image_root,
                }.items()
                if v is not None
            }
        )
        config = config.model_copy(update={"fields": fields})
        if model is not None:
            config.encoder.model = model
        if backend_url is not None:
            config.backend = backend_url
        if tag_field:
            config.enrichment.tag_fields = list(tag_field)
        if batch_size is not None:
            config.ingest.batch_size = batch_size
            config.encoder.batch_size = batch_size
        if allow_image_roots:
            config.ingest.image_roots = [str(Path(r).resolve()) for r in allow_image_roots]
        if allow_private_urls:
            config.ingest.allow_private_urls = True
        if image_timeout is not None:
            config.ingest.image_timeout_s = image_timeout
        if max_image_pixels is not None:
            config.ingest.max_image_pixels = max_image_pixels
        config = type(config).model_validate(config.model_dump())
        with Engine.open(index_dir, config) as engine:
            if model is not None and engine.encoder is None:
                raise click.ClickException(f"model {model!r} could not be loaded: {engine.notices[-1]}")
            summary = engine.ingest(catalog, rejects=rejects, progress=_progress_printer())
    if sys.stderr.isatty():
        click.echo(err=True)
    if as_json:
        echo_json(summary)
    else:
        _print_summary(summary, rejects)
    if summary.indexed == 0:
        raise click.ClickException(_nothing_indexed(catalog, summary, config.fields.id, rejects))


def _print_summary(summary: IngestSummary, rejects: Path | None) -> None:
    click.echo(
        f"read {summary.read}, indexed {summary.indexed} "
        f"({summary.written} written, {summary.unchanged} unchanged), rejected {summary.rejected} "
        f"in {summary.seconds:.1f} s ({summary.items_per_second:,.0f} items/s)"
    )
    if summary.rejected and rejects:
        click.echo(f"rejected items and reasons: {rejects}")
    cut = summary.truncated
    cut_note = f"{cut} items had a title over {MAX_TITLE_CHARS} or a description over {MAX_DESCRIPTION_CHARS}"
    echo_notices([*summary.notices, *([f"{cut_note} characters: indexed cut to that length"] if cut else [])])


def _nothing_indexed(catalog: Path, summary: IngestSummary, id_field: str, rejects: Path | None) -> str:
    """Why an ingest indexed nothing, and what to try."""
    if summary.read == 0:
        return f"nothing indexed: {catalog} has no rows (an empty file, or only a header or blank lines)"
    reason, count = next(iter(summary.reject_reasons.items()), ("unknown", 0))
    message = f"nothing indexed: all {summary.read} rows were rejected; most often ({count}): {reason}"
    if "missing id" in summary.reject_reasons:
        found = ", ".join(summary.fields_seen) or "(none)"
        message += (
            f"\nhint: rows are identified by the field {id_field!r}, which they lack; fields found: {found}."
            " Name the id field with --id-field"
        )
        guess = next((f for f in summary.fields_seen if f.lower() in _ID_NAMES), None)
        if guess is not None:
            message += f" (e.g. --id-field {guess})"
    message += f"\nevery reason is in {rejects}" if rejects else "\npass --rejects FILE to see every reason"
    return message


_ID_NAMES = frozenset({"id", "sku", "product_id", "productid", "item_id", "itemid", "uuid", "key", "code"})


def _parse_weights(pairs: tuple[str, ...]) -> dict[str, float] | None:
    """``--weight CHANNEL=WEIGHT`` pairs; names and values are checked by the library's one check."""
    if not pairs:
        return None
    weights: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            if not sep:
                raise ValueError
            weights[name.strip()] = float(value)
        except ValueError as exc:
            raise click.BadParameter(
                f"{pair!r}: use CHANNEL=WEIGHT with CHANNEL in {', '.join(CHANNELS)} and WEIGHT a number",
                param_hint="--weight",
            ) from exc
    try:
        return check_weights(weights, "--weight", some_positive=False)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def _print_result(result: SearchResult) -> None:
    if result.no_good_match:
        click.echo("no good match: the best hit is below the probability threshold")
    if not result.hits:
        click.echo("no hits")
    if result.feedback_ids:
        click.echo(f"image search also looked for photos like: {', '.join(result.feedback_ids)}")
    for rank, hit in enumerate(result.hits, start=1):
        doc = hit.document
        title = (doc.title if doc and doc.title else "") or " ".join(hit.colours + hit.tags) or "(no text)"
        prob = f"  p={hit.probability:.2f}" if hit.probability is not None else ""
        shares = "  ".join(
            f"{name}={score.contribution:.3f}" for name, score in hit.channels.items() if score.contribution
        )
        click.echo(f"{rank:>3}. {hit.id:<12} {hit.score:.4f}{prob}  {title}")
        if shares:
            click.echo(f"     {shares}")


@click.command()
@click.argument("text", required=False)
@index_option
@click.option("--image", help="Query image (path or URL): image->image search, or blended with TEXT.")
@click.option("--filter", "filters", multiple=True, help="key=value, key=v1,v2 or key>=number (repeatable).")
@click.option("--k", default=10, show_default=True, type=int, help="Hits per page.")
@click.option("--offset", default=0, show_default=True, type=int, help="Skip this many hits (pagination).")
@click.option("--weight", "weights", multiple=True, help="CHANNEL=WEIGHT override (repeatable).")
@click.option(
    "--channel", "channels", multiple=True, type=click.Choice(CHANNELS), help="Run only these channels."
)
@click.option("--normalisation", type=click.Choice(["minmax", "zscore", "none"]))
@click.option("--combination", type=click.Choice(["weighted_mean", "rrf"]))
@click.option("--rrf-k", type=float)
@click.option("--no-expand", is_flag=True, help="Search the words as typed (no synonyms, typo fixes).")
@click.option(
    "--image-feedback",
    type=click.IntRange(0, 100),
    help="How many of the best word matches lend their photos to the image search (0: off).",
)
@click.option("--min-probability", type=float, help="Drop hits below this calibrated probability.")
@backend_option
@json_option
def search(
    text: str | None,
    index_dir: Path,
    image: str | None,
    filters: tuple[str, ...],
    k: int,
    offset: int,
    weights: tuple[str, ...],
    channels: tuple[str, ...],
    normalisation: str | None,
    combination: str | None,
    rrf_k: float | None,
    no_expand: bool,
    image_feedback: int | None,
    min_probability: float | None,
    backend_url: str | None,
    as_json: bool,
) -> None:
    """Hybrid search: TEXT and/or --image, with filters and per-query weights."""
    with library_errors():
        query = HybridQuery(
            text=text,
            image=image,
            filters=[parse_filter(f) for f in filters],
            k=k,
            offset=offset,
            weights=_parse_weights(weights),
            channels=list(channels) or None,
            normalisation=normalisation,
            combination=combination,
            rrf_k=rrf_k,
            expand=False if no_expand else None,
            image_feedback=image_feedback,
            min_probability=min_probability,
        )
        with _open_index(index_dir, backend_url) as engine:
            result = engine.search(query)
    echo_notices(result.notices)
    if as_json:
        echo_json(result.model_dump(mode="json"))
    else:
        _print_result(result)


@click.command()
@index_option
@backend_option
@json_option
def stats(index_dir: Path, backend_url: str | None, as_json: bool) -> None:
    """Documents, model and calibration of an index."""
    with library_errors(), _open_index(index_dir, backend_url) as engine:
        info = engine.stats()
    if as_json:
        echo_json(info)
    else:
        for key, value in info.model_dump().items():
            click.echo(f"{key:>18}: {value}")


@click.command()
@click.argument("ids", nargs=-1, required=True)
@index_option
@backend_option
@json_option
def delete(ids: tuple[str, ...], index_dir: Path, backend_url: str | None, as_json: bool) -> None:
    """Delete documents by id."""
    with library_errors(), _open_index(index_dir, backend_url) as engine:
        removed = engine.delete(ids)
    if as_json:
        echo_json({"requested": len(ids), "deleted": removed})
    else:
        click.echo(f"deleted {removed} of {len(ids)}")


def _open_index(index_dir: Path, backend_url: str | None) -> Engine:
    """An existing index; ``--backend`` points this run at a cluster without changing the stored config."""
    if not (index_dir / "blendsearch.json").is_file():
        raise click.ClickException(f"{index_dir} is not a blendsearch index (run `blendsearch ingest` first)")
    if backend_url is None:
        return Engine.open(index_dir)
    from blendsearch.backends.url import backend_from_url

    config = stored_or_default_config(index_dir, None)
    return Engine.open(index_dir, backend=backend_from_url(backend_url, index_dir.name, config))


commands = [ingest, search, stats, delete]
