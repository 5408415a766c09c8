"""The training loop: contrastive training with the SigLIP sigmoid loss, its schedule and stopping rules.

The learning rate warms up linearly, then follows a cosine to ``min_lr_ratio`` over the run's length:
its step count (``max_steps`` / ``epochs``, the default being a fixed step count), or the time budget
(``minutes``) only when the run has no step count. So a run is reproducible whenever it has a step
count: the same seed and pairs give the same weights on CPU whether or not a time cap was set, as long as
the cap is not reached. A cap that is reached stops the run early (``stopped_by="minutes"``) with the
schedule unfinished; a run bounded by time alone stops, and anneals, at a point that depends on the
machine's speed. The config, the trainees, checkpoints and augmentation live in their own
modules of this package; the model folder it writes is :mod:`blendsearch.encoders.own.folder`'s format.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import numpy as np

from blendsearch._types import PathInput
from blendsearch.config import FieldMapping
from blendsearch.encoders.own.folder import TOKENIZER_FILE
from blendsearch.encoders.own.model import siglip_loss
from blendsearch.encoders.threads import free_cores
from blendsearch.exceptions import ConfigError
from blendsearch.train.augment import augment, drop_tokens, trim
from blendsearch.train.checkpoint import CHECKPOINT_DIR, STATE_FILE, load_checkpoint, save_checkpoint
from blendsearch.train.config import RUN_SETTINGS, TrainConfig, TrainProgress, TrainSummary
from blendsearch.train.data import TrainingPairs, load_pairs
from blendsearch.train.trainees import HFTrainee, OwnTrainee, Trainee, init_kind, own_init_config

if TYPE_CHECKING:
    import torch

__all__ = ["train_model"]

P = ParamSpec("P")
R = TypeVar("R")


# -- devices and precision --------------------------------------------------------------------------


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but torch sees no GPU")
    return device


def _resolve_precision(precision: str, device: str) -> str:
    import torch

    if precision != "auto":
        return precision
    if device == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    return "bf16" if amx() else "fp32"


# -- the loop ---------------------------------------------------------------------------------------


def _seed_everything(seed: int) -> None:
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _make_optimizer(module: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; no weight decay on norms, biases, embeddings' positions and the logit scale/bias."""
    import torch

    decay, no_decay, logit = [], [], []
    for name, param in module.named_parameters():
        if not param.requires_grad:
            continue
        if name in ("logit_scale", "logit_bias"):
            logit.append(param)
        else:
            (no_decay if param.ndim < 2 or "position" in name else decay).append(param)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay, "lr_scale": 1.0},
        {"params": no_decay, "weight_decay": 0.0, "lr_scale": 1.0},
        {"params": logit, "weight_decay": 0.0, "lr_scale": config.logit_lr_multiplier},
    ]
    return torch.optim.AdamW(groups, lr=config.learning_rate, betas=(0.9, 0.98), eps=1e-6)


def _lr_factor(step: int, progress: float, config: TrainConfig) -> float:
    warm = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return warm * (config.min_lr_ratio + (1.0 - config.min_lr_ratio) * cosine)


def _keeps_torch_threads(train: Callable[P, R]) -> Callable[P, R]:
    """Run ``train`` and restore torch's thread count after: the caller's process keeps its own setting."""

    @functools.wraps(train)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        import torch

        threads = torch.get_num_threads()
        try:
            return train(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return wrapper


@_keeps_torch_threads
def train_model(
    source: TrainingPairs | PathInput,
    out_dir: PathInput,
    config: TrainConfig | None = None,
    *,
    mapping: FieldMapping | None = None,
    split_field: str | None = None,
    split_value: str | None = None,
    resume: bool = False,
    progress: Callable[[TrainProgress], None] | None = None,
) -> TrainSummary:
    """Train a dual encoder on image-title pairs (or a catalogue file) and save it to ``out_dir``.

    ``out_dir`` then loads with ``load_encoder(out_dir)``. A checkpoint under ``out_dir/checkpoint``
    is written every ``checkpoint_every_steps`` steps / ``checkpoint_every_minutes`` minutes and at the
    end; ``resume=True`` continues from it (same step, optimizer state, schedule and elapsed time).
    ``split_field``/``split_value`` keep only the catalogue rows of one split.
    """
    import torch

    config = config or TrainConfig()
    if config.epochs is None and config.max_steps is None and config.minutes is None:
        raise ConfigError("give at least one of epochs, max_steps and minutes")
    out = Path(out_dir)
    checkpoint_dir = out / CHECKPOINT_DIR
    if resume and not (checkpoint_dir / STATE_FILE).is_file():
        raise ConfigError(f"nothing to resume: {checkpoint_dir} holds no checkpoint")
    if resume:
        # The run's own model, data and optimiser settings; only when to stop and where to run may change.
        saved = TrainConfig.model_validate(json.loads((checkpoint_dir / STATE_FILE).read_text())["config"])
        config = saved.model_copy(update={key: getattr(config, key) for key in RUN_SETTINGS})
    device = _resolve_device(config.device)
    precision = _resolve_precision(config.precision, device)
    if config.threads:
        torch.set_num_threads(config.threads)
    elif device == "cpu":
        torch.set_num_threads(free_cores(torch.get_num_threads()))

    kind = init_kind(config.init)
    if kind == "own" and not resume:
        # Fine-tuning a model blendsearch trained: its architecture (and so its image size) is kept.
        config = config.model_copy(update={"model": own_init_config(str(config.init))})
    height, width = config.model.image_height, config.model.image_width
    if isinstance(source, TrainingPairs):
        pairs = source
    else:
        pairs = load_pairs(
            source, mapping, split_field=split_field, split_value=split_value, height=height, width=width
        )
    if len(pairs) < 2:
        raise ConfigError(f"training needs at least 2 pairs, got {len(pairs)}")
    if pairs.images.shape[1:3] != (height, width) and kind != "transformers":
        raise ConfigError(
            f"pairs are {pairs.images.shape[2]}x{pairs.images.shape[1]} px, the model takes {width}x{height}"
        )

    _seed_everything(config.seed)
    out.mkdir(parents=True, exist_ok=True)
    if kind == "transformers":
        trainee: Trainee = HFTrainee(str(config.init), config.model.max_text_length)
        trainee.source_size = pairs.images.shape[1:3]  # images are fitted to this, then resized
    else:
        tokenizer_file = checkpoint_dir / TOKENIZER_FILE if resume else None
        trainee = OwnTrainee(config, pairs.texts, tokenizer_file, init=config.init if kind == "own" else None)
    module = trainee.module.to(device)
    module.train()
    optimizer = _make_optimizer(module, config)
    parameters = sum(p.numel() for p in module.parameters())

    token_ids = trainee.tokenize(pairs.texts)
    groups = pairs.groups()
    images = np.ascontiguousarray(pairs.images)  # in memory: random batches from a memmap are slow
    n = len(pairs)
    batch_size = min(config.batch_size, n)
    steps_per_epoch = n // batch_size
    limits = [config.max_steps or math.inf, (config.epochs or math.inf) * steps_per_epoch]
    total_steps = min(limits)
    budget_s = config.minutes * 60.0 if config.minutes else math.inf

    step, elapsed_before, curve, resumed_from = 0, 0.0, [], None
    window_losses: list[float] = []  # losses since the last curve point
    if resume:
        meta = load_checkpoint(trainee, optimizer, checkpoint_dir, device)
        step, elapsed_before, curve = meta["step"], meta["elapsed_s"], [tuple(p) for p in meta["loss_curve"]]
        window_losses = list(meta["window_losses"])
        resumed_from = step

    def progress_fraction(at_step: int, elapsed: float) -> float:
        # By work when the run has a step count: a time cap that is not reached must not change the model.
        return at_step / total_steps if total_steps < math.inf else elapsed / budget_s

    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=precision == "bf16")
    start = time.perf_counter()
    last_ckpt_time, window_items, window_start = start, 0, start
    loss_value = math.nan
    stopped_by = "max_steps"

    def elapsed_now() -> float:
        return elapsed_before + time.perf_counter() - start

    def checkpoint() -> None:
        state = {
            "step": step,
            "elapsed_s": elapsed_now(),
            "loss_curve": curve,
            "window_losses": window_losses,
            "config": config.model_dump(mode="json"),
        }
        save_checkpoint(trainee, optimizer, state, checkpoint_dir)

    scale, bias = trainee.scale_bias()
    while True:
        elapsed = elapsed_now()
        if step >= total_steps:
            stopped_by = "max_steps" if config.max_steps and step >= config.max_steps else "epochs"
            break
        if elapsed >= budget_s:
            stopped_by = "minutes"
            break
        epoch, within = divmod(step, steps_per_epoch)
        order = np.random.default_rng([config.seed, epoch]).permutation(n)
        index = np.sort(order[within * batch_size : (within + 1) * batch_size])
        rng = np.random.default_rng([config.seed, epoch, within, 1])
        batch_images = augment(images[index], rng, config.augment_shift, config.augment_flip)
        ids = token_ids[index]
        if isinstance(trainee, OwnTrainee):  # id 0 is padding only in our own tokenizer
            ids = drop_tokens(ids, rng, config.token_dropout) if config.token_dropout else trim(ids)
        pixels = torch.from_numpy(np.ascontiguousarray(batch_images)).to(device).permute(0, 3, 1, 2)
        ids_t = torch.from_numpy(np.ascontiguousarray(ids)).to(device)
        group_t = torch.from_numpy(groups[index]).to(device) if config.group_same_captions else None

        factor = _lr_factor(step, progress_fraction(step, elapsed), config)
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate * factor * group["lr_scale"]
        with autocast:
            image_emb, text_emb = trainee.embed(pixels, ids_t)
        loss = siglip_loss(image_emb.float(), text_emb.float(), scale, bias, group_t)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
        optimizer.step()
        step += 1
        loss_value = float(loss.detach())
        window_losses.append(loss_value)
        window_items += len(index)

        now = time.perf_counter()
        if step % config.log_every_steps == 0:
            mean_loss = sum(window_losses) / len(window_losses)
            curve.append((step, round(mean_loss, 6)))
            if progress is not None:
                progress(
                    TrainProgress(
                        step=step,
                        epoch=step / steps_per_epoch,
                        loss=mean_loss,
                        learning_rate=config.learning_rate * factor,
                        items_per_second=window_items / max(now - window_start, 1e-9),
                        elapsed_s=elapsed_now(),
                        logit_scale=float(scale.detach().exp()),
                        logit_bias=float(bias.detach()),
                    )
                )
            window_losses, window_items, window_start = [], 0, now
        by_steps = config.checkpoint_every_steps and step % config.checkpoint_every_steps == 0
        by_time = (
            config.checkpoint_every_minutes and now - last_ckpt_time >= config.checkpoint_every_minutes * 60
        )
        if by_steps or by_time:
            checkpoint()
            last_ckpt_time = time.perf_counter()

    seconds = elapsed_now()
    checkpoint()
    trained_items = (step - (resumed_from or 0)) * batch_size
    summary = TrainSummary(
        out_dir=str(out),
        pairs=n,
        steps=step,
        epochs=round(step / steps_per_epoch, 4),
        seconds=round(seconds, 2),
        items_per_second=round(trained_items / max(seconds - elapsed_before, 1e-9), 2),
        final_loss=curve[-1][1] if curve else loss_value,
        loss_curve=curve,
        stopped_by=stopped_by,
        resumed_from_step=resumed_from,
        device=device,
        precision=precision,
        seed=config.seed,
        parameters=parameters,
        logit_scale=float(scale.detach().exp()),
        logit_bias=float(bias.detach()),
        init=config.init,
        threads=torch.get_num_threads(),
    )
    module.eval()
    trainee.save(out, summary, config)
    return summary
