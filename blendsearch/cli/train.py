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
    "--minutes", type=float, help="Time budget; stops cleanly and saves. [default: 25 unless --epochs]"
)
@click.option("--epochs", type=float, help="Passes over the pairs.")
@click.option("--max-steps", type=int, help="Optimiser steps.")
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
    help="Fine-tune this local SigLIP/CLIP folder instead of training from scratch.",
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
    minutes: float | None,
    epochs: float | None,
    max_steps: int | None,
    batch_size: int | None,
    learning_rate: float | None,
    seed: int | None,
    threads: int | None,
    resume: bool,
    init_dir: str | None,
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
    blendsearch train products.csv --out models/fashion --split-field split --minutes 25
    blendsearch ingest products.csv --index idx --model models/fashion
    """
    from blendsearch.config import FieldMapping
    from blendsearch.train.loop import TrainConfig, load_train_config, train_model

    with library_errors():
        config = load_train_config(config_file) if config_file else TrainConfig()
        overrides = {
            "epochs": epochs,
            "max_steps": max_steps,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "seed": seed,
            "threads": threads,
            "init": init_dir,
            "device": device,
            "log_every_steps": log_every,
        }
        update = {key: value for key, value in overrides.items() if value is not None}
        if minutes is not None:
            update["minutes"] = minutes
        elif epochs is not None or max_steps is not None:
            update["minutes"] = None  # a step or epoch count alone is not cut short by the default budget
        config = TrainConfig.model_validate({**config.model_dump(), **update})
        mapping_fields = {
            "id": id_field,
            "title": title_field,
            "image": image_field,
            "image_root": image_root,
        }
        mapping = FieldMapping(**{k: v for k, v in mapping_fields.items() if v is not None})
        summary = train_model(
            catalog,
            out_dir,
            config,
            mapping=mapping,
            split_field=split_field,
            split_value=split_value if split_field else None,
            resume=resume,
            progress=_print_progress,
        )
    if as_json:
        echo_json(summary)
        return
    click.echo(
        f"trained {summary.steps} steps ({summary.epochs:.2f} epochs over {summary.pairs} pairs) in "
        f"{summary.seconds / 60:.1f} min, {summary.items_per_second:,.0f} img/s on {summary.device} "
        f"({summary.precision}); final loss {summary.final_loss:.4f}; stopped by {summary.stopped_by}\n"
        f"model saved to {summary.out_dir} (use it with --model {summary.out_dir})"
    )


commands = [train]
