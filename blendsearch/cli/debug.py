"""``blendsearch debug-scores``: show the numbers behind a query's scores and what looks wrong."""

from __future__ import annotations

from pathlib import Path

import click

from blendsearch.cli.options import echo_json, json_option, library_errors

__all__ = ["commands"]


@click.command("debug-scores")
@click.argument("text", required=False)
@click.option(
    "--image", "image", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Query image."
)
@click.option(
    "--candidates-images",
    "candidate_images",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Candidate image (repeatable).",
)
@click.option("--candidates-texts", "candidate_texts", multiple=True, help="Candidate text (repeatable).")
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also score this index's top hits for the query.",
)
@click.option("--top", default=10, show_default=True, help="Index hits to score.")
@click.option("--model", help="Model spec (default: the index's model).")
@click.option(
    "--plot", "plot_file", type=click.Path(dir_okay=False, path_type=Path), help="Save a histogram (PNG)."
)
@json_option
def debug_scores_command(
    text: str | None,
    image: Path | None,
    candidate_images: tuple[Path, ...],
    candidate_texts: tuple[str, ...],
    index_dir: Path | None,
    top: int,
    model: str | None,
    plot_file: Path | None,
    as_json: bool,
) -> None:
    """Score TEXT (and/or --image) against candidates and explain the scores.

    Shows per candidate the cosine, the model's logit (scale*cos + bias), its sigmoid, the calibrated
    probability and, for --index hits, each channel's part of the fused score; then warnings (vectors not
    unit length, mixed models, softmax scores read as probabilities, text padding/truncation/case, odd
    temperatures) and a plain verdict.
    """
    from blendsearch.debug import debug_scores, format_report, plot_report
    from blendsearch.encoders.registry import load_encoder

    if not text and image is None:
        raise click.UsageError("give a query TEXT, an --image, or both")
    with library_errors():
        encoder = load_encoder(model) if model else None
        if index_dir is not None:
            from blendsearch.engine import INDEX_FILE, Engine

            if not (index_dir / INDEX_FILE).is_file():
                raise click.ClickException(f"no blendsearch index in {index_dir}")
            with Engine.open(index_dir, encoder=encoder) as engine:
                report = debug_scores(
                    text,
                    image,
                    list(candidate_texts),
                    list(candidate_images),
                    engine=engine,
                    index_top_n=top,
                )
        else:
            if encoder is None:
                raise click.UsageError("give --model (or --index, to use the index's model)")
            try:
                report = debug_scores(
                    text, image, list(candidate_texts), list(candidate_images), encoder=encoder
                )
            finally:
                encoder.close()
        if plot_file is not None:
            plot_report(report, plot_file)
    if as_json:
        echo_json(report)
    else:
        click.echo(format_report(report))
        if plot_file is not None:
            click.echo(f"histogram: {plot_file}")


commands = [debug_scores_command]
