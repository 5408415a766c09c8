"""Training budgets by work: a fixed step count gives the same weights whatever the clock says (a time cap
that is not reached, a stall mid-run), the default run is 8,000 steps, and ``--init`` fine-tunes a model
blendsearch trained, with held-out metrics before and after."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from blendsearch.encoders.own.model import ModelConfig
from blendsearch.exceptions import ConfigError
from blendsearch.train import TrainConfig, train_model
from blendsearch.train import loop as train_loop
from blendsearch.train.adapt import ADAPTATION_FILE, adapt_model, split_pairs
from blendsearch.train.config import DEFAULT_STEPS
from blendsearch.train.data import TrainingPairs, pairs_from_images

TINY = ModelConfig(
    embed_dim=8,
    image_height=20,
    image_width=16,
    image_widths=[4, 8],
    image_blocks=[0, 1],
    vocab_size=48,
    max_text_length=6,
    text_width=8,
    text_layers=0,
    text_heads=2,
)
COLOURS = {"red": (220, 30, 30), "green": (30, 180, 30), "blue": (30, 30, 220), "yellow": (230, 210, 20)}


def _pairs(shapes: tuple[str, ...] = ("circle", "square")) -> TrainingPairs:
    """Made here: a coloured shape per image, captioned with its colour and shape (two images each)."""
    images, texts = [], []
    for colour, fill in COLOURS.items():
        for shape in shapes:
            for offset in (-1, 1):
                image = Image.new("RGB", (16, 20), (255, 255, 255))
                box = (5 + offset, 7, 11 + offset, 13)
                draw = ImageDraw.Draw(image)
                (draw.ellipse if shape == "circle" else draw.rectangle)(box, fill=fill)
                images.append(image)
                texts.append(f"{colour} {shape}")
    return pairs_from_images(images, texts, height=20, width=16)


def _config(**overrides: object) -> TrainConfig:
    base = {
        "model": TINY,
        "batch_size": 8,
        "learning_rate": 1e-2,
        "warmup_steps": 1,
        "max_steps": 6,
        "minutes": None,
        "precision": "fp32",
        "device": "cpu",
        "log_every_steps": 2,
        "checkpoint_every_steps": None,
        "checkpoint_every_minutes": None,
        "threads": 1,
    }
    return TrainConfig.model_validate({**base, **overrides})


def _weights(folder: Path) -> bytes:
    return (folder / "model.safetensors").read_bytes()


class _StallingClock:
    """``time.perf_counter`` that jumps 50 s after its third reading: a machine that stalled mid-run."""

    def __init__(self) -> None:
        self.calls = 0

    def perf_counter(self) -> float:
        self.calls += 1
        return 1000.0 + (50.0 if self.calls > 3 else 0.0)


def test_the_default_run_is_a_fixed_step_count_without_a_time_cap() -> None:
    config = TrainConfig()
    assert (config.max_steps, config.minutes, config.epochs) == (DEFAULT_STEPS, None, None)
    assert DEFAULT_STEPS == 8000
    # 35,277 fashion training pairs at batch 256: 137 steps an epoch, so 8,000 steps are 58.4 epochs.
    assert round(DEFAULT_STEPS / (35_277 // 256), 1) == 58.4


def test_same_seed_and_steps_give_identical_weights_whatever_the_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = _pairs()
    plain = train_model(pairs, tmp_path / "plain", _config())
    capped = train_model(pairs, tmp_path / "capped", _config(minutes=60.0))
    # A stall that eats 83% of a 1-minute cap without reaching it: the schedule follows the steps.
    monkeypatch.setattr(train_loop, "time", _StallingClock())
    stalled = train_model(pairs, tmp_path / "stalled", _config(minutes=1.0))
    monkeypatch.undo()
    other_seed = train_model(pairs, tmp_path / "seed1", _config(seed=1))

    assert [s.stopped_by for s in (plain, capped, stalled)] == ["max_steps"] * 3
    assert plain.steps == capped.steps == stalled.steps == 6
    assert _weights(tmp_path / "plain") == _weights(tmp_path / "capped") == _weights(tmp_path / "stalled")
    assert plain.loss_curve == stalled.loss_curve
    assert _weights(tmp_path / "seed1") != _weights(tmp_path / "plain")
    assert other_seed.steps == 6


def test_a_cap_that_is_reached_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train_loop, "time", _StallingClock())
    summary = train_model(_pairs(), tmp_path / "cut", _config(minutes=0.5))
    assert (summary.stopped_by, summary.steps) == ("minutes", 1)


def test_cli_steps_and_minutes(tmp_path: Path) -> None:
    from blendsearch.cli import main

    pairs = _pairs()
    rows = ["id,title,image"]
    for i, (pixels, text) in enumerate(zip(pairs.images, pairs.texts, strict=True)):
        Image.fromarray(np.asarray(pixels)).save(tmp_path / f"{i}.png")
        rows.append(f"p{i},{text},{i}.png")
    catalog = tmp_path / "shapes.csv"
    catalog.write_text("\n".join(rows) + "\n")
    config = tmp_path / "train.json"
    config.write_text(_config(max_steps=None).model_dump_json())
    runner = CliRunner()
    base = ["train", str(catalog), "--config", str(config), "--json"]
    steps = runner.invoke(main, [*base, "--out", str(tmp_path / "a"), "--steps", "3", "--minutes", "30"])
    assert steps.exit_code == 0, steps.output
    summary = json.loads(steps.stdout)
    assert (summary["steps"], summary["stopped_by"]) == (3, "max_steps")
    epochs = runner.invoke(main, [*base, "--out", str(tmp_path / "b"), "--epochs", "2"])
    assert epochs.exit_code == 0, epochs.output
    assert (json.loads(epochs.stdout)["steps"], json.loads(epochs.stdout)["stopped_by"]) == (4, "epochs")
    neither = runner.invoke(main, [*base, "--out", str(tmp_path / "c"), "--steps", "0"])
    assert neither.exit_code == 1
    assert "give at least one of epochs, max_steps and minutes" in neither.output


def test_split_pairs_holds_whole_titles_out() -> None:
    pairs = _pairs()
    fit, held = split_pairs(pairs, 0.25, seed=0)
    assert (len(fit), len(held)) == (12, 4)
    assert not set(fit.texts) & set(held.texts)
    with pytest.raises(ConfigError, match="holdout"):
        split_pairs(pairs, 1.0)


def test_init_fine_tunes_a_blendsearch_trained_model(tmp_path: Path) -> None:
    from blendsearch.encoders.registry import load_encoder

    base = train_model(_pairs(("circle",)), tmp_path / "base", _config(max_steps=30))
    assert base.steps == 30
    # The new catalogue has squares the base model never saw; its architecture and tokenizer are kept
    # (the run's own model config, a different size, is ignored).
    other = _config(init=str(tmp_path / "base"), max_steps=30, model=TINY.model_copy(update={"embed_dim": 4}))
    adapted = adapt_model(_pairs(("circle", "square")), tmp_path / "adapted", other, holdout=0.25)

    assert (adapted.fitted_pairs, adapted.held_out_pairs) == (12, 4)
    assert adapted.training.steps == 30 and adapted.training.init == str(tmp_path / "base")
    assert set(adapted.before) >= {"r@1", "r@5", "r@10", "mrr", "n"} and adapted.after["n"] == 4
    info = json.loads((tmp_path / "adapted" / "blendsearch_model.json").read_text())
    assert info["kind"] == "dual_encoder" and info["model"]["embed_dim"] == 8
    assert (tmp_path / "adapted" / "tokenizer.json").read_text() == (
        tmp_path / "base" / "tokenizer.json"
    ).read_text()
    saved = json.loads((tmp_path / "adapted" / ADAPTATION_FILE).read_text())
    assert saved["before"] == adapted.before and saved["after"] == adapted.after
    assert load_encoder(str(tmp_path / "adapted"), device="cpu").encode_texts(["red square"]).shape == (1, 8)
    # Fine-tuning started from the base weights: the first loss is the base model's, far below a fresh start.
    fresh = train_model(_pairs(("circle", "square")), tmp_path / "fresh", _config(max_steps=2))
    assert adapted.training.loss_curve[0][1] < fresh.loss_curve[0][1]
