"""Training blendsearch's own dual encoder on tiny synthetic pairs: loss, reproducibility, resume, loading."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from blendsearch.encoders.own.encoder import DualEncoderEncoder
from blendsearch.encoders.own.folder import fit_image
from blendsearch.encoders.own.model import ModelConfig
from blendsearch.encoders.registry import load_encoder
from blendsearch.exceptions import ConfigError
from blendsearch.train import TrainConfig, TrainProgress, train_model
from blendsearch.train.data import TrainingPairs, load_pairs, pairs_from_images
from blendsearch.train.evaluate import pair_recall, recall_from_vectors

COLOURS = {"red": (220, 30, 30), "green": (30, 180, 30), "blue": (30, 30, 220), "yellow": (230, 210, 20)}
SHAPES = ("circle", "square", "triangle", "bar")
SIZES = ("small", "large")
TINY = ModelConfig(
    embed_dim=16,
    image_height=32,
    image_width=24,
    image_widths=[8, 16],
    image_blocks=[0, 1],
    vocab_size=64,
    max_text_length=8,
    text_width=16,
    text_layers=1,
    text_heads=2,
)


def _shape(colour: str, shape: str, size: str, offset: int) -> Image.Image:
    image = Image.new("RGB", (24, 32), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    r = 5 if size == "small" else 10
    cx, cy = 12 + offset, 16 - offset
    box = (cx - r, cy - r, cx + r, cy + r)
    fill = COLOURS[colour]
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    elif shape == "triangle":
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    else:
        draw.rectangle((cx - r, cy - 2, cx + r, cy + 2), fill=fill)
    return image


@pytest.fixture(scope="module")
def shapes() -> TrainingPairs:
    """64 pairs: 4 colours x 4 shapes x 2 sizes x 2 positions; 32 distinct captions."""
    images, texts = [], []
    for colour in COLOURS:
        for shape in SHAPES:
            for size in SIZES:
                for offset in (-2, 2):
                    images.append(_shape(colour, shape, size, offset))
                    texts.append(f"{size} {colour} {shape}")
    return pairs_from_images(images, texts, height=32, width=24)


def _config(**overrides: object) -> TrainConfig:
    base = {
        "model": TINY,
        "batch_size": 32,
        "learning_rate": 1e-2,
        "warmup_steps": 2,
        "max_steps": 24,
        "minutes": None,
        "precision": "fp32",
        "log_every_steps": 4,
        "checkpoint_every_steps": None,
        "checkpoint_every_minutes": None,
        "augment_shift": 1,
        "token_dropout": 0.1,
        "threads": 1,
    }
    return TrainConfig.model_validate({**base, **overrides})


def test_loss_decreases_and_run_is_reproducible(shapes: TrainingPairs, tmp_path: Path) -> None:
    first = train_model(shapes, tmp_path / "a", _config())
    again = train_model(shapes, tmp_path / "b", _config())
    other_seed = train_model(shapes, tmp_path / "c", _config(seed=1, max_steps=4))

    losses = [loss for _, loss in first.loss_curve]
    assert [step for step, _ in first.loss_curve] == [4, 8, 12, 16, 20, 24]
    assert losses[-1] < 0.6 * losses[0]
    assert first.loss_curve == again.loss_curve
    assert other_seed.loss_curve[0] != first.loss_curve[0]
    assert (first.steps, first.epochs, first.stopped_by, first.pairs) == (24, 12.0, "max_steps", 64)


def test_interrupted_run_resumes_from_its_checkpoint(shapes: TrainingPairs, tmp_path: Path) -> None:
    whole = train_model(shapes, tmp_path / "whole", _config(max_steps=12))

    def crash_at_step_8(progress: TrainProgress) -> None:
        if progress.step == 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_model(
            shapes,
            tmp_path / "cut",
            _config(max_steps=12, checkpoint_every_steps=6),
            progress=crash_at_step_8,
        )
    state = json.loads((tmp_path / "cut" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 6
    resumed = train_model(shapes, tmp_path / "cut", _config(max_steps=12), resume=True)

    assert resumed.resumed_from_step == 6
    assert resumed.steps == 12
    assert resumed.loss_curve == whole.loss_curve


def test_resume_without_checkpoint_is_a_config_error(shapes: TrainingPairs, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nothing to resume"):
        train_model(shapes, tmp_path / "none", _config(), resume=True)


def test_saved_folder_loads_through_load_encoder(shapes: TrainingPairs, tmp_path: Path) -> None:
    bag_of_tokens = TINY.model_copy(update={"text_layers": 0})
    summary = train_model(shapes, tmp_path / "model", _config(max_steps=40, model=bag_of_tokens))
    files = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert files == ["blendsearch_model.json", "checkpoint", "model.safetensors", "tokenizer.json"]
    info = json.loads((tmp_path / "model" / "blendsearch_model.json").read_text())
    assert (info["format_version"], info["kind"], info["image_size"]) == (1, "dual_encoder", [32, 24])
    assert info["training"]["steps"] == 40

    encoder = load_encoder(str(tmp_path / "model"), device="cpu")
    assert isinstance(encoder, DualEncoderEncoder)
    assert encoder.dim == 16
    assert encoder.logit_scale == pytest.approx(summary.logit_scale)
    assert encoder.logit_bias == pytest.approx(summary.logit_bias)
    texts = encoder.encode_texts(["large red circle", "small blue bar", ""])
    images = encoder.encode_images([Image.fromarray(np.asarray(row)) for row in shapes.images[:5]])
    assert texts.shape == (3, 16) and images.shape == (5, 16)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, rtol=1e-5)
    # 32 distinct captions, 2 images each: chance R@5 is about 0.3; the trained model does far better.
    recall = pair_recall(encoder, shapes)
    assert recall["n"] == 64
    assert recall["r@5"] >= 0.6
    assert recall["cos_gap"] > 0.2


def test_loading_a_model_folder_imports_no_training_code(shapes: TrainingPairs, tmp_path: Path) -> None:
    # Search loads a trained folder through the model-folder format alone, never the training loop.
    train_model(shapes, tmp_path / "model", _config(max_steps=1))
    probe = (
        "import sys; from blendsearch.encoders.registry import load_encoder; "
        f"load_encoder({str(tmp_path / 'model')!r}, device='cpu').encode_texts(['red']); "
        "print(sorted(m for m in sys.modules if m.startswith('blendsearch.train')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_recall_from_vectors_counts_same_title_hits() -> None:
    # Image 1 ranks first for query 0 but shares its title, so query 0 hits at rank 1.
    images = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    texts = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    result = recall_from_vectors(texts, images, ["a", "a", "b"], ks=(1, 2))
    # query 0 ("a"): hits rank 0 (image 1). query 1: same. query 2 ("b"): image 0 (a) first, image 2 second.
    assert result["r@1"] == pytest.approx(2 / 3)
    assert result["r@2"] == 1.0
    assert result["mrr"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert result["cos_pos"] == pytest.approx((0.0 + 1.0 + 0.6) / 3)


def test_fit_image_keeps_aspect_on_white() -> None:
    wide = Image.new("RGB", (40, 10), (0, 0, 0))
    fitted = fit_image(wide, 32, 24)
    assert fitted.shape == (32, 24, 3)
    assert fitted[0, 0].tolist() == [255, 255, 255]
    assert fitted[16, 12].tolist() == [0, 0, 0]


def _write_catalog(folder: Path, shapes: TrainingPairs) -> Path:
    rows = ["id,title,image,split"]
    for i, (pixels, text) in enumerate(zip(shapes.images, shapes.texts, strict=True)):
        Image.fromarray(np.asarray(pixels)).save(folder / f"{i}.png")
        rows.append(f"p{i},{text},{i}.png,{'test' if i % 8 == 0 else 'train'}")
    rows.append("broken,no image here,missing.png,train")
    catalog = folder / "shapes.csv"
    catalog.write_text("\n".join(rows) + "\n")
    return catalog


def test_load_pairs_reads_the_split_and_caches(shapes: TrainingPairs, tmp_path: Path) -> None:
    catalog = _write_catalog(tmp_path, shapes)
    pairs = load_pairs(catalog, split_field="split", split_value="train", height=32, width=24)
    assert len(pairs) == 56 and pairs.skipped == 1
    assert pairs.ids[:2] == ["p1", "p2"]
    np.testing.assert_array_equal(pairs.images[0], shapes.images[1])
    cached = load_pairs(catalog, split_field="split", split_value="train", height=32, width=24)
    assert isinstance(cached.images, np.memmap)
    np.testing.assert_array_equal(cached.images, pairs.images)


def test_cli_trains_and_prints_json(shapes: TrainingPairs, tmp_path: Path) -> None:
    from blendsearch.cli import main

    catalog = _write_catalog(tmp_path, shapes)
    config = tmp_path / "train.json"
    config.write_text(_config().model_dump_json())
    out = tmp_path / "model"
    args = [
        "train", str(catalog), "--out", str(out), "--config", str(config),
        "--split-field", "split", "--max-steps", "3", "--seed", "3", "--json",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["steps"], summary["pairs"], summary["seed"]) == (3, 56, 3)
    assert (out / "blendsearch_model.json").is_file()


def test_cli_reports_a_bad_config_cleanly(tmp_path: Path) -> None:
    from blendsearch.cli import main

    catalog = tmp_path / "c.csv"
    catalog.write_text("id,title\n1,a\n")
    config = tmp_path / "bad.json"
    config.write_text('{"batch_size": 1}')
    result = CliRunner().invoke(
        main, ["train", str(catalog), "--out", str(tmp_path / "m"), "--config", str(config)]
    )
    assert result.exit_code == 1
    assert "training config" in result.output and "batch_size" in result.output


@pytest.mark.parametrize(("kind", "dim"), [("siglip", 32), ("clip", 24)])
def test_finetunes_a_tiny_pretrained(shapes: TrainingPairs, tmp_path: Path, kind: str, dim: int) -> None:
    import tiny_models

    init = getattr(tiny_models, f"build_tiny_{kind}")(tmp_path / kind)
    config = _config(init=str(init), max_steps=2, batch_size=8, learning_rate=1e-4, log_every_steps=1)
    summary = train_model(shapes, tmp_path / "tuned", config)
    assert summary.steps == 2 and len(summary.loss_curve) == 2
    assert summary.init == str(init)
    encoder = load_encoder(str(tmp_path / "tuned"), device="cpu")
    assert isinstance(encoder, DualEncoderEncoder)
    vectors = encoder.encode_texts(["red circle", "blue bar"])
    images = encoder.encode_images([Image.fromarray(np.asarray(shapes.images[0]))])
    assert vectors.shape == (2, dim) and images.shape == (1, dim)
    assert encoder.logit_bias == pytest.approx(summary.logit_bias)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("kind", ["siglip", "clip"])
def test_training_masks_captions_as_search_tokenises_them(tmp_path: Path, kind: str) -> None:
    # Fine-tuning rebuilds the mask from ids; it must be the tokenizer's own, which search uses (CLIP pads
    # with its end token, so "ids != pad" would hide the token CLIP pools).
    import tiny_models
    import torch
    from transformers import AutoTokenizer

    from blendsearch.encoders.own.hf_io import attention_mask, tokenize

    tokenizer = AutoTokenizer.from_pretrained(getattr(tiny_models, f"build_tiny_{kind}")(tmp_path / kind))
    texts = ["red circle", "large blue bar", "x"]
    encoded = tokenize(tokenizer, texts, "longest", 16)
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    rebuilt = attention_mask(torch.from_numpy(encoded["input_ids"]), pad, pad == eos)
    np.testing.assert_array_equal(rebuilt.numpy(), encoded["attention_mask"])
    specials = 2 if kind == "clip" else 1  # [bos] words eos
    assert encoded["attention_mask"].sum(1).tolist() == [len(t.split()) + specials for t in texts]
    if kind == "clip":  # the old rule, ids != pad, hid each caption's end token
        ids = torch.from_numpy(encoded["input_ids"])
        assert ((ids != pad).sum(1) == rebuilt.sum(1) - 1).all()


def test_time_budget_stops_cleanly_and_saves(shapes: TrainingPairs, tmp_path: Path) -> None:
    summary = train_model(shapes, tmp_path / "timed", _config(max_steps=None, minutes=0.005))
    assert summary.stopped_by == "minutes"
    assert summary.seconds >= 0.3
    assert (tmp_path / "timed" / "model.safetensors").is_file()
    assert (tmp_path / "timed" / "checkpoint" / "state.json").is_file()
