"""Contrastive training with the SigLIP sigmoid loss: config, seeding, schedule, checkpoints, resume.

The learning rate warms up linearly, then follows a cosine to ``min_lr_ratio`` over the run's length,
where the length is the step count (``max_steps`` / ``epochs``) or the time budget (``minutes``),
whichever ends first. With steps or epochs only, a run is reproducible: the same seed and pairs give
the same loss curve on CPU. A time budget makes the stop point (and, through the schedule, the curve)
depend on the machine's speed.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from blendsearch._types import PathInput
from blendsearch.config import FieldMapping
from blendsearch.encoders.threads import free_cores
from blendsearch.exceptions import ConfigError, EncoderError
from blendsearch.train.data import TrainingPairs, load_pairs
from blendsearch.train.model import ModelConfig, siglip_loss

if TYPE_CHECKING:
    import torch

__all__ = [
    "CHECKPOINT_DIR",
    "FORMAT_VERSION",
    "MODEL_FILE",
    "TOKENIZER_FILE",
    "TrainConfig",
    "TrainProgress",
    "TrainSummary",
    "load_train_config",
    "train_model",
]

#: Version of the saved model folder's layout (``blendsearch_model.json``).
FORMAT_VERSION = 1
MODEL_FILE = "blendsearch_model.json"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
CHECKPOINT_DIR = "checkpoint"


class TrainConfig(BaseModel):
    """Everything a training run needs besides the data. Defaults are tuned for ~25 CPU minutes."""

    model_config = ConfigDict(extra="forbid")

    model: ModelConfig = Field(default_factory=ModelConfig)
    #: A pretrained SigLIP/CLIP folder (transformers format) to fine-tune instead of training from scratch.
    init: str | None = None
    batch_size: int = Field(default=256, ge=2)
    learning_rate: float = Field(default=2e-3, gt=0)
    weight_decay: float = Field(default=0.05, ge=0)
    #: The logit scale and bias start far from where short runs end (SigLIP's init is made for long
    #: runs), so they learn this many times faster than the weights.
    logit_lr_multiplier: float = Field(default=10.0, gt=0)
    warmup_steps: int = Field(default=50, ge=0)
    min_lr_ratio: float = Field(default=0.02, ge=0, le=1)
    #: Stop after this many passes over the pairs / steps / minutes, whichever comes first.
    epochs: float | None = Field(default=None, gt=0)
    max_steps: int | None = Field(default=None, ge=1)
    minutes: float | None = Field(default=25.0, gt=0)
    seed: int = Field(default=0, ge=0)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    #: ``auto``: bfloat16 autocast on CUDA and on CPUs with AMX (Sapphire Rapids and later), else float32.
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    #: CPU threads for torch. None: torch's default, less the cores other processes keep busy (by the
    #: load average at the start): on a shared machine two spinning threads can be far slower than one.
    threads: int | None = Field(default=None, ge=1)
    #: Random shifts (pixels, each way) and horizontal flips of the images.
    augment_shift: int = Field(default=4, ge=0)
    augment_flip: bool = True
    #: Probability of dropping each caption token (keeps at least one; own model only). Regularises the
    #: text tower, which otherwise memorises product-specific words (+0.016 R@10 on the fashion test split).
    token_dropout: float = Field(default=0.15, ge=0, lt=1)
    #: Pairs with the same caption are positives of each other, not negatives.
    group_same_captions: bool = True
    checkpoint_every_steps: int | None = Field(default=500, ge=1)
    checkpoint_every_minutes: float | None = Field(default=5.0, gt=0)
    log_every_steps: int = Field(default=50, ge=1)
    #: Training tokenizer: BPE vocabulary size (capped by ``model.vocab_size``).
    tokenizer_min_frequency: int = Field(default=2, ge=1)


#: Settings a resumed run takes from the new config; everything else comes from the checkpoint.
_RUN_SETTINGS = (
    "epochs",
    "max_steps",
    "minutes",
    "device",
    "threads",
    "checkpoint_every_steps",
    "checkpoint_every_minutes",
)


class TrainProgress(BaseModel):
    """Reported every ``log_every_steps`` steps."""

    step: int
    epoch: float
    loss: float
    learning_rate: float
    items_per_second: float
    elapsed_s: float
    logit_scale: float
    logit_bias: float


class TrainSummary(BaseModel):
    """What a run did; also stored under ``training`` in ``blendsearch_model.json``."""

    out_dir: str
    pairs: int
    steps: int
    epochs: float
    seconds: float
    items_per_second: float
    final_loss: float
    #: (step, mean loss since the previous point), one point per ``log_every_steps``.
    loss_curve: list[tuple[int, float]]
    stopped_by: Literal["minutes", "epochs", "max_steps"]
    resumed_from_step: int | None = None
    device: str
    precision: str
    seed: int
    parameters: int
    logit_scale: float
    logit_bias: float
    init: str | None = None
    #: CPU threads torch used.
    threads: int = 1


def load_train_config(path: PathInput) -> TrainConfig:
    """Read a TrainConfig from JSON (partial files are fine: missing keys keep their defaults)."""
    file = Path(path)
    try:
        return TrainConfig.model_validate(json.loads(file.read_text()))
    except FileNotFoundError as exc:
        raise ConfigError(f"training config {file} does not exist") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"training config {file} is not valid JSON: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError(f"training config {file} is invalid:\n{exc}") from exc


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


# -- the trainable pieces: own dual encoder or a transformers SigLIP/CLIP -----------------------------


class _Trainee:
    """The model being trained, with how it turns pixel arrays and captions into tensors."""

    def __init__(self, module: torch.nn.Module, kind: str, height: int, width: int) -> None:
        self.module = module
        self.kind = kind
        self.height = height
        self.width = width

    def tokenize(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed(self, pixels: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def scale_bias(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def save(self, out: Path, summary: TrainSummary | None, config: TrainConfig) -> None:
        raise NotImplementedError


class _OwnTrainee(_Trainee):
    def __init__(self, config: TrainConfig, texts: list[str], tokenizer_file: Path | None) -> None:
        from blendsearch.train.model import build_model
        from blendsearch.train.tokenizer import load_tokenizer, train_tokenizer

        if tokenizer_file is not None and tokenizer_file.is_file():
            self.tokenizer = load_tokenizer(tokenizer_file)
        else:
            self.tokenizer = train_tokenizer(
                texts, config.model.vocab_size, min_frequency=config.tokenizer_min_frequency
            )
        model_cfg = config.model.model_copy(update={"vocab_size": self.tokenizer.get_vocab_size()})
        self.model_cfg = model_cfg
        super().__init__(
            build_model(model_cfg), "dual_encoder", model_cfg.image_height, model_cfg.image_width
        )

    def tokenize(self, texts: list[str]) -> np.ndarray:
        from blendsearch.train.tokenizer import encode_batch

        return encode_batch(self.tokenizer, texts, self.model_cfg.max_text_length)

    def embed(self, pixels: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.module(pixels, ids)

    def scale_bias(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.module.logit_scale, self.module.logit_bias

    def save_tokenizer(self, out: Path) -> None:
        self.tokenizer.save(str(out / TOKENIZER_FILE))

    def save(self, out: Path, summary: TrainSummary | None, config: TrainConfig) -> None:
        from safetensors.torch import save_file

        state = {k: v.detach().cpu().contiguous() for k, v in self.module.state_dict().items()}
        save_file(state, str(out / WEIGHTS_FILE), metadata={"format": "pt"})
        self.save_tokenizer(out)
        scale, bias = self.scale_bias()
        _write_model_json(
            out,
            {
                "kind": self.kind,
                "model": self.model_cfg.model_dump(mode="json"),
                "image_size": [self.height, self.width],
                "max_text_length": self.model_cfg.max_text_length,
                "logit_scale": float(scale.detach().exp()),
                "logit_bias": float(bias.detach()),
            },
            summary,
        )


class _HFTrainee(_Trainee):
    """Fine-tuning a local transformers SigLIP (sigmoid loss already) or CLIP (given a SigLIP bias)."""

    def __init__(self, folder: str, max_text_length: int) -> None:
        import torch

        try:
            from transformers import AutoConfig, AutoModel, AutoTokenizer

            hf_config = AutoConfig.from_pretrained(folder)
            module = AutoModel.from_pretrained(folder)
            self.tokenizer = AutoTokenizer.from_pretrained(folder)
        except (OSError, ValueError, KeyError) as exc:
            raise EncoderError(f"cannot load pretrained model from {folder}: {exc}") from exc
        self.model_type = hf_config.model_type
        if self.model_type not in ("siglip", "clip"):
            raise EncoderError(f"--init needs a SigLIP or CLIP folder; {folder} holds {self.model_type!r}")
        self.sigmoid_native = self.model_type == "siglip"
        if not self.sigmoid_native:
            module.logit_bias = torch.nn.Parameter(torch.tensor(-10.0))
        vision = hf_config.vision_config
        self.max_text_length = min(max_text_length, hf_config.text_config.max_position_embeddings)
        self.mean, self.std = _processor_stats(folder)
        super().__init__(module, "transformers", vision.image_size, vision.image_size)

    def tokenize(self, texts: list[str]) -> np.ndarray:
        padding = "max_length" if self.sigmoid_native else "longest"
        out = self.tokenizer(
            texts, padding=padding, truncation=True, max_length=self.max_text_length, return_tensors="np"
        )
        return out["input_ids"].astype(np.int64)

    def embed(self, pixels: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        from torch.nn import functional as F

        values = hf_pixel_values(pixels, self.height, self.width, self.mean, self.std)
        kwargs: dict[str, Any] = {}
        if not self.sigmoid_native:
            kwargs["attention_mask"] = (ids != self.tokenizer.pad_token_id).long()
        image = _features(self.module.get_image_features(pixel_values=values))
        text = _features(self.module.get_text_features(input_ids=ids, **kwargs))
        return F.normalize(image.float(), dim=-1), F.normalize(text.float(), dim=-1)

    def scale_bias(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.module.logit_scale, self.module.logit_bias

    def save(self, out: Path, summary: TrainSummary | None, config: TrainConfig) -> None:
        scale, bias = self.scale_bias()
        self.module.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        _write_model_json(
            out,
            {
                "kind": self.kind,
                "model_type": self.model_type,
                "image_size": [self.height, self.width],
                "source_size": list(self.source_size),
                "image_mean": list(self.mean),
                "image_std": list(self.std),
                "max_text_length": self.max_text_length,
                "text_padding": "max_length" if self.sigmoid_native else "longest",
                "logit_scale": float(scale.detach().exp()),
                "logit_bias": float(bias.detach()),
            },
            summary,
        )


def _features(output: Any) -> torch.Tensor:
    """transformers 5 returns a model output from ``get_*_features``; 4.x returned the tensor."""
    if hasattr(output, "pooler_output"):
        return output.pooler_output
    return output


def _processor_stats(folder: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    path = Path(folder) / "preprocessor_config.json"
    if path.is_file():
        data = json.loads(path.read_text())
        return tuple(data.get("image_mean", (0.5, 0.5, 0.5))), tuple(data.get("image_std", (0.5, 0.5, 0.5)))
    return (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)


def hf_pixel_values(
    pixels: torch.Tensor, height: int, width: int, mean: tuple[float, ...], std: tuple[float, ...]
) -> torch.Tensor:
    """uint8 [n, 3, h, w] -> a transformers vision model's normalised float input at its size."""
    import torch
    from torch.nn import functional as F

    x = pixels.float() / 255.0
    if x.shape[-2:] != (height, width):
        x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    m = torch.tensor(mean, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(std, device=x.device).view(1, 3, 1, 1)
    return (x - m) / s


def _write_model_json(out: Path, fields: dict[str, Any], summary: TrainSummary | None) -> None:
    data = {
        "format_version": FORMAT_VERSION,
        **fields,
        "training": summary.model_dump(mode="json") if summary else None,
    }
    _atomic_write(out / MODEL_FILE, json.dumps(data, indent=2))


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# -- batches ----------------------------------------------------------------------------------------


def _augment(batch: np.ndarray, rng: np.random.Generator, shift: int, flip: bool) -> np.ndarray:
    """Random translation (edge-padded) and horizontal flip of a uint8 [n, h, w, 3] batch."""
    n, h, w, _ = batch.shape
    if shift:
        padded = np.pad(batch, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="edge")
        dy = rng.integers(0, 2 * shift + 1, n)
        dx = rng.integers(0, 2 * shift + 1, n)
        batch = np.stack([padded[i, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
    if flip:
        flips = rng.random(n) < 0.5
        batch = batch.copy() if not shift else batch
        batch[flips] = batch[flips, :, ::-1]
    return batch


def _drop_tokens(ids: np.ndarray, rng: np.random.Generator, p: float) -> np.ndarray:
    """Zero (pad) each real token with probability p, keeping at least the first; then left-compact."""
    real = ids != 0
    keep = real & (rng.random(ids.shape) >= p)
    keep[:, 0] |= ~keep.any(1)
    out = np.zeros_like(ids)
    for i, row in enumerate(ids):
        kept = row[keep[i]]
        out[i, : len(kept)] = kept
    return out[:, : max(1, int(keep.sum(1).max()))]


def _trim(ids: np.ndarray) -> np.ndarray:
    longest = int((ids != 0).sum(1).max()) if len(ids) else 1
    return ids[:, : max(1, longest)]


# -- checkpoints ------------------------------------------------------------------------------------


def _save_checkpoint(
    trainee: _Trainee, optimizer: torch.optim.Optimizer, state: dict[str, Any], folder: Path
) -> None:
    """Weights, optimizer moments and loop state, without pickle (safetensors + JSON)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in trainee.module.state_dict().items()}
    opt_state = optimizer.state_dict()
    for index, entry in opt_state["state"].items():
        for name, value in entry.items():
            tensors[f"optim.{index}.{name}"] = (
                value.detach().cpu().contiguous() if hasattr(value, "detach") else _scalar_tensor(value)
            )
    if isinstance(trainee, _OwnTrainee):
        trainee.save_tokenizer(folder)
    tmp = folder / "state.safetensors.tmp"
    save_file(tensors, str(tmp))
    os.replace(tmp, folder / "state.safetensors")
    meta = {**state, "param_groups": opt_state["param_groups"]}
    _atomic_write(folder / "state.json", json.dumps(meta))


def _scalar_tensor(value: float) -> torch.Tensor:
    import torch

    return torch.tensor(value)


def _load_checkpoint(
    trainee: _Trainee, optimizer: torch.optim.Optimizer, folder: Path, device: str
) -> dict[str, Any]:
    from safetensors.torch import load_file

    meta = json.loads((folder / "state.json").read_text())
    tensors = load_file(str(folder / "state.safetensors"), device=device)
    model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    trainee.module.load_state_dict(model_state)
    opt_state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            opt_state.setdefault(int(index), {})[name] = value.cpu() if name == "step" else value
    optimizer.load_state_dict({"state": opt_state, "param_groups": meta.pop("param_groups")})
    return meta


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


def _train(
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
    import torch

    config = config or TrainConfig()
    if config.epochs is None and config.max_steps is None and config.minutes is None:
        raise ConfigError("give at least one of epochs, max_steps and minutes")
    out = Path(out_dir)
    checkpoint_dir = out / CHECKPOINT_DIR
    if resume and not (checkpoint_dir / "state.json").is_file():
        raise ConfigError(f"nothing to resume: {checkpoint_dir} holds no checkpoint")
    if resume:
        # The run's own model, data and optimiser settings; only when to stop and where to run may change.
        saved = TrainConfig.model_validate(json.loads((checkpoint_dir / "state.json").read_text())["config"])
        config = saved.model_copy(update={key: getattr(config, key) for key in _RUN_SETTINGS})
    device = _resolve_device(config.device)
    precision = _resolve_precision(config.precision, device)
    if config.threads:
        torch.set_num_threads(config.threads)
    elif device == "cpu":
        torch.set_num_threads(free_cores(torch.get_num_threads()))

    height, width = config.model.image_height, config.model.image_width
    if isinstance(source, TrainingPairs):
        pairs = source
    else:
        pairs = load_pairs(
            source, mapping, split_field=split_field, split_value=split_value, height=height, width=width
        )
    if len(pairs) < 2:
        raise ConfigError(f"training needs at least 2 pairs, got {len(pairs)}")
    if pairs.images.shape[1:3] != (height, width) and config.init is None:
        raise ConfigError(
            f"pairs are {pairs.images.shape[2]}x{pairs.images.shape[1]} px, the model takes {width}x{height}"
        )

    _seed_everything(config.seed)
    out.mkdir(parents=True, exist_ok=True)
    if config.init is not None:
        trainee: _Trainee = _HFTrainee(config.init, config.model.max_text_length)
        trainee.source_size = pairs.images.shape[1:3]  # images are fitted to this, then resized
    else:
        tokenizer_file = checkpoint_dir / TOKENIZER_FILE if resume else None
        trainee = _OwnTrainee(config, pairs.texts, tokenizer_file)
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
        meta = _load_checkpoint(trainee, optimizer, checkpoint_dir, device)
        step, elapsed_before, curve = meta["step"], meta["elapsed_s"], [tuple(p) for p in meta["loss_curve"]]
        window_losses = list(meta["window_losses"])
        resumed_from = step

    def progress_fraction(at_step: int, elapsed: float) -> float:
        return max(at_step / total_steps if total_steps < math.inf else 0.0, elapsed / budget_s)

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
        _save_checkpoint(trainee, optimizer, state, checkpoint_dir)

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
        batch_images = _augment(images[index], rng, config.augment_shift, config.augment_flip)
        ids = token_ids[index]
        if isinstance(trainee, _OwnTrainee):  # id 0 is padding only in our own tokenizer
            ids = _drop_tokens(ids, rng, config.token_dropout) if config.token_dropout else _trim(ids)
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

    threads = torch.get_num_threads()
    try:
        return _train(
            source,
            out_dir,
            config,
            mapping=mapping,
            split_field=split_field,
            split_value=split_value,
            resume=resume,
            progress=progress,
        )
    finally:
        torch.set_num_threads(threads)  # the caller's process keeps its own setting
