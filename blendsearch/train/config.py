"""What a training run is told (:class:`TrainConfig`) and what it reports (:class:`TrainProgress`,
:class:`TrainSummary`); plain pydantic models, so a config reads from JSON and a summary is stored in the
model folder.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from blendsearch._types import PathInput
from blendsearch.encoders.own.model import ModelConfig
from blendsearch.jsonfile import load_json_model

__all__ = [
    "DEFAULT_STEPS",
    "RUN_SETTINGS",
    "TrainConfig",
    "TrainProgress",
    "TrainSummary",
    "load_train_config",
]

#: Steps of the default run: 8,000 batches of 256 are 58 epochs over the fashion catalogue's 35,277 training
#: pairs (137 steps per epoch), the middle of the 54-61 epochs the former 25-minute budget reached on the
#: reference 2-core machine (loaded vs quiet); see docs/training.md.
DEFAULT_STEPS = 8000


class TrainConfig(BaseModel):
    """Everything a training run needs besides the data.

    The default run is a fixed amount of work, :data:`DEFAULT_STEPS` optimiser steps, so the same command
    gives the same model on a busy and a quiet machine; ``minutes`` is an optional cap on top.
    """

    model_config = ConfigDict(extra="forbid")

    model: ModelConfig = Field(default_factory=ModelConfig)
    #: A model folder to fine-tune instead of training from scratch: one ``blendsearch train`` wrote (its
    #: architecture and tokenizer are kept) or a transformers SigLIP/CLIP folder.
    init: str | None = None
    batch_size: int = Field(default=256, ge=2)
    learning_rate: float = Field(default=2e-3, gt=0)
    weight_decay: float = Field(default=0.05, ge=0)
    #: The logit scale and bias start far from where short runs end (SigLIP's init is made for long
    #: runs), so they learn this many times faster than the weights.
    logit_lr_multiplier: float = Field(default=10.0, gt=0)
    warmup_steps: int = Field(default=50, ge=0)
    min_lr_ratio: float = Field(default=0.02, ge=0, le=1)
    #: Stop after this many passes over the pairs / steps / minutes, whichever comes first. The learning-rate
    #: schedule spans the step count (``max_steps`` / ``epochs``) when there is one, so a time cap that is
    #: not reached changes nothing; only a run bounded by ``minutes`` alone is scheduled by the clock.
    epochs: float | None = Field(default=None, gt=0)
    max_steps: int | None = Field(default=DEFAULT_STEPS, ge=1)
    minutes: float | None = Field(default=None, gt=0)
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
RUN_SETTINGS = (
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
    return load_json_model(path, TrainConfig, "training config")
