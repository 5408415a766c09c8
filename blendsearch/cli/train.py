"""``blendsearch train``: train blendsearch's own dual encoder (or fine-tune a SigLIP/CLIP) on a catalogue."""

from __future__ import annotations

from pathlib import Path

import click

from blendsearch.cli.options import echo_json, json_option, library_errors

__all__ = ["commands"]


def _print_progress(p: object) -> None:
    click.echo(
        f"step {p.step:>6}  epoch {p.epoch:6.2f}  loss {p.loss:.4f}  lr {p.learning_rate:.2e}  "
        f"{p.items_per_second:,.0f} img/s  {p.elapsed_s / 60:5.1f} min  "
        f"scale {p.logit_scale:.1f} bias {p.logit_bias:.2f}",
        err=True,
    )


@click.command()
@click.argument("catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Model folder to write (loads later with --model DIR).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TrainConfig JSON (model architecture and optimiser); options below override it.",
)
@click.option("--split-field", help="Train only on rows whose SPLIT-FIELD equals --split-value.")
@click.option("--split-value", default="train", show_default=True)
@click.option(
    "--steps",
    "--max-steps",
    "max_steps",
    type=click.IntRange(min=0),
    help="Optimiser steps (the work, and the schedule's length); 0: none, train by --minutes alone. "
    "[default: 8000]",
)
@click.option(
    "--minutes",
    type=float,
    help="Time cap: stops cleanly and saves at the first step past it. [default: none]",
)
@click.option("--epochs", type=float, help="Passes over the pairs (instead of the default step count).")
@click.option(
    "--batch-size", type=int, help="Pairs per step (SigLIP works well with 256-1024). [default: 256]"
)
@click.option("--lr", "learning_rate", type=float, help="Peak learning rate.")
@click.option("--seed", type=int, help="Random seed. [default: 0]")
@click.option("--threads", type=int, help="CPU threads for torch (1 can be faster on a busy machine).")
@click.option(
    "--resume", is_flag=True, help="Continue from OUT/checkpoint (its step, optimiser and schedule)."
)
@click.option(
    "--init",
    "init_dir",
    type=click.Path(exists=True, file_okay=False),
    help="Fine-tune this model folder (one `blendsearch train` wrote, or a local SigLIP/CLIP) instead of "
    "training from scratch.",
)
@click.option(
    "--holdout",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.1,
    show_default=True,
    help="With --init: titles held out of fine-tuning, to report title->image metrics before and after "
    "(0: no report).",
)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="[default: auto]")
@click.option("--log-every", type=int, help="Print progress every N steps. [default: 50]")
@click.option("--id-field", help="Catalogue column holding the id.")
@click.option("--title-field", help="Catalogue column holding the title (the caption).")
@click.option("--image-field", help="Catalogue column holding the image reference.")
@click.option("--image-root", help="Folder or .zip that relative image references resolve against.")
@json_option
def train(  # noqa: PLR0913 - one parameter per option
    catalog: Path,
    out_dir: Path,
    config_file: Path | None,
    split_field: str | None,
    split_value: str,
    max_steps: int | None,
    minutes: float | None,
    epochs: float | None,
    batch_size: int | None,
    learning_rate: float | None,
    seed: int | None,
    threads: int | None,
    resume: bool,
    init_dir: str | None,
    holdout: float,
    device: str | None,
    log_every: int | None,
    id_field: str | None,
    title_field: str | None,
    image_field: str | None,
    image_root: str | None,
    as_json: bool,
) -> None:
    """Train an image-text dual encoder on CATALOG's image-title pairs with the SigLIP loss.

    \b
    blendsearch train products.csv --out models/fashion --split-field split   # 8,000 steps
    blendsearch ingest products.csv --index idx --model models/fashion
    blendsearch train other.csv --init models/fashion --out models/other --steps 500 --minutes 10
    """
    from blendsearch.config import FieldMapping
    from blendsearch.train import TrainConfig, load_train_config, train_model
    from blendsearch.train.adapt import adapt_model

    with library_errors():
        config = load_train_config(config_file) if config_file else TrainConfig()
        overrides = {
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "seed": seed,
            "threads": threads,
            "init": init_dir,
            "device": device,
            "log_every_steps": log_every,
        }
        update: dict[str, object] = {key: value for key, value in overrides.items() if value is not None}
        if max_steps is not None:
            update["max_steps"] = max_steps or None  # 0: no step count, the time budget alone
        elif epochs is not None:
            update["max_steps"] = None  # --epochs replaces the default step count
        if minutes is not None:
            update["minutes"] = minutes
        config = TrainConfig.model_validate({**config.model_dump(), **update})
        mapping_fields = {
            "id": id_field,
            "title": title_field,
            "image": image_field,
            "image_root": image_root,
        }
        mapping = FieldMapping(**{k: v for k, v in mapping_fields.items() if v is not None})
        where = {
            "mapping": mapping,
            "split_field": split_field,
            "split_value": split_value if split_field else None,
        }
        adapted = None
        if init_dir is not None and holdout > 0 and not resume:
            adapted = adapt_model(
                catalog, out_dir, config, holdout=holdout, progress=_print_progress, **where
            )
            summary = adapted.training
        else:
            summary = train_model(catalog, out_dir, config, resume=resume, progress=_print_progress, **where)
    if as_json:
        echo_json(adapted if adapted is not None else summary)
        return
    click.echo(
        f"trained {summary.steps} steps ({summary.epochs:.2f} epochs over {summary.pairs} pairs) in "
        f"{summary.seconds / 60:.1f} min, {summary.items_per_second:,.0f} img/s on {summary.device} "
        f"({summary.precision}); final loss {summary.final_loss:.4f}; stopped by {summary.stopped_by}\n"
        f"model saved to {summary.out_dir} (use it with --model {summary.out_dir})"
    )
    if adapted is not None:
        click.echo(f"held-out title->image on {adapted.held_out_pairs} pairs (before -> after fine-tuning):")
        for key in ("r@1", "r@5", "r@10", "mrr"):
            click.echo(f"  {key:<4} {adapted.before[key]:.4f} -> {adapted.after[key]:.4f}")


commands = [train]
