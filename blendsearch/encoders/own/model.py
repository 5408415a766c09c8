"""blendsearch's own small dual encoder: a residual CNN over small product photos and a small text
transformer over BPE tokens, trained with the SigLIP sigmoid loss.

Sized for CPU training: product thumbnails (about 60x80) are encoded at native resolution, the CNN uses
plain 3x3 convolutions (fastest per FLOP on CPU, and well served by bfloat16 on AMX), and titles are
short, so a 2-layer transformer is cheap next to the image tower.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    import torch

__all__ = ["ModelConfig", "build_model", "siglip_loss"]

#: Per-channel RGB mean and std the image tower normalises with (ImageNet statistics).
IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)


class ModelConfig(BaseModel):
    """Architecture of the dual encoder; stored in ``blendsearch_model.json`` to rebuild it."""

    model_config = ConfigDict(extra="forbid")

    embed_dim: int = Field(default=256, ge=8)
    #: Height and width images are resized to (the fashion photos are 80x60).
    image_height: int = Field(default=80, ge=16)
    image_width: int = Field(default=60, ge=16)
    #: Channels of each CNN stage; every stage after the first halves the resolution.
    image_widths: list[int] = Field(default_factory=lambda: [16, 32, 64, 128])
    #: Residual blocks per stage (after the stage's first, possibly strided, convolution).
    image_blocks: list[int] = Field(default_factory=lambda: [0, 1, 1, 1])
    vocab_size: int = Field(default=8000, ge=16)
    max_text_length: int = Field(default=32, ge=4)
    text_width: int = Field(default=256, ge=8)
    #: Transformer layers over the tokens; 0 is a bag of token embeddings (mean-pooled), which is as good
    #: for short keyword-like titles at a fraction of the cost (docs/training.md).
    text_layers: int = Field(default=0, ge=0)
    text_heads: int = Field(default=4, ge=1)
    #: Hidden width of an MLP between the pooled text and the embedding; 0 is a linear head.
    text_hidden: int = Field(default=0, ge=0)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _consistent(self) -> ModelConfig:
        if len(self.image_widths) != len(self.image_blocks) or not self.image_widths:
            raise ValueError("image_widths and image_blocks must be non-empty lists of the same length")
        if self.text_width % self.text_heads:
            raise ValueError("text_width must be a multiple of text_heads")
        return self


def _torch_modules():  # noqa: ANN202 - returns classes built on torch, imported lazily
    import torch
    from torch import nn
    from torch.nn import functional as F

    class ConvBN(nn.Sequential):
        def __init__(self, c_in: int, c_out: int, stride: int = 1, act: bool = True) -> None:
            layers: list[nn.Module] = [
                nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
                nn.BatchNorm2d(c_out),
            ]
            if act:
                layers.append(nn.ReLU(inplace=True))
            super().__init__(*layers)

    class ResidualBlock(nn.Module):
        def __init__(self, channels: int) -> None:
            super().__init__()
            self.body = nn.Sequential(ConvBN(channels, channels), ConvBN(channels, channels, act=False))
            nn.init.zeros_(self.body[-1][1].weight)  # start as identity: stable from-scratch training

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.relu(x + self.body(x))

    class ImageTower(nn.Module):
        def __init__(self, cfg: ModelConfig) -> None:
            super().__init__()
            layers: list[nn.Module] = [ConvBN(3, cfg.image_widths[0], stride=2)]
            channels = cfg.image_widths[0]
            for stage, (width, blocks) in enumerate(zip(cfg.image_widths, cfg.image_blocks, strict=True)):
                if stage > 0 or width != channels:
                    layers.append(ConvBN(channels, width, stride=2 if stage > 0 else 1))
                layers.extend(ResidualBlock(width) for _ in range(blocks))
                channels = width
            self.features = nn.Sequential(*layers)
            self.head = nn.Linear(channels, cfg.embed_dim)
            self.register_buffer("mean", torch.tensor(IMAGE_MEAN).view(1, 3, 1, 1) * 255.0, persistent=False)
            self.register_buffer("std", torch.tensor(IMAGE_STD).view(1, 3, 1, 1) * 255.0, persistent=False)

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            """``pixels``: uint8 or float in 0..255, [n, 3, h, w]."""
            x = (pixels.float() - self.mean) / self.std
            x = self.features(x.contiguous(memory_format=torch.channels_last))
            return self.head(x.mean(dim=(2, 3)))

    class TextTower(nn.Module):
        def __init__(self, cfg: ModelConfig) -> None:
            super().__init__()
            self.token = nn.Embedding(cfg.vocab_size, cfg.text_width, padding_idx=0)
            self.position = nn.Parameter(torch.zeros(cfg.max_text_length, cfg.text_width))
            nn.init.normal_(self.token.weight, std=0.02)
            nn.init.normal_(self.position, std=0.01)
            layer = nn.TransformerEncoderLayer(
                cfg.text_width,
                cfg.text_heads,
                dim_feedforward=4 * cfg.text_width,
                dropout=cfg.dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            self.layers = (
                nn.TransformerEncoder(layer, cfg.text_layers, enable_nested_tensor=False)
                if cfg.text_layers
                else None
            )
            self.norm = nn.LayerNorm(cfg.text_width)
            self.head = (
                nn.Sequential(
                    nn.Linear(cfg.text_width, cfg.text_hidden),
                    nn.GELU(),
                    nn.Linear(cfg.text_hidden, cfg.embed_dim),
                )
                if cfg.text_hidden
                else nn.Linear(cfg.text_width, cfg.embed_dim)
            )

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            """``ids``: [n, length] token ids, 0 = padding. Mean-pooled over the real tokens."""
            mask = ids != 0
            x = self.token(ids) + self.position[: ids.shape[1]]
            if self.layers is not None:
                x = self.layers(x, src_key_padding_mask=~mask)
            x = self.norm(x)
            weights = mask.unsqueeze(-1).to(x.dtype)
            pooled = (x * weights).sum(1) / weights.sum(1).clamp_min(1.0)
            return self.head(pooled)

    class DualEncoderModule(nn.Module):
        def __init__(self, cfg: ModelConfig) -> None:
            super().__init__()
            self.config = cfg
            self.image = ImageTower(cfg)
            self.text = TextTower(cfg)
            # SigLIP initialisation: t' = log 10 (scale 10), b = -10 (Zhai et al. 2023, section 3.2).
            self.logit_scale = nn.Parameter(torch.tensor(math.log(10.0)))
            self.logit_bias = nn.Parameter(torch.tensor(-10.0))

        def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
            return F.normalize(self.image(pixels).float(), dim=-1)

        def encode_text(self, ids: torch.Tensor) -> torch.Tensor:
            return F.normalize(self.text(ids).float(), dim=-1)

        def forward(self, pixels: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return self.encode_image(pixels), self.encode_text(ids)

    return DualEncoderModule


def build_model(config: ModelConfig) -> torch.nn.Module:
    """A freshly initialised dual encoder (seed torch first for reproducible weights)."""
    return _torch_modules()(config)


def siglip_loss(
    image: torch.Tensor,
    text: torch.Tensor,
    logit_scale: torch.Tensor,
    logit_bias: torch.Tensor,
    groups: torch.Tensor | None = None,
) -> torch.Tensor:
    """SigLIP sigmoid loss: ``-1/n * sum_ij log sigmoid(z_ij * (exp(t) * x_i.y_j + b))``.

    ``z_ij`` is +1 for matching pairs and -1 otherwise (Zhai et al. 2023, "Sigmoid Loss for Language
    Image Pre-Training", algorithm 1). ``groups`` (one id per row) marks rows that share a caption as
    positives of each other, so duplicate titles in a batch are not pushed apart.
    """
    import torch
    from torch.nn import functional as F

    logits = image @ text.T * logit_scale.exp() + logit_bias
    if groups is None:
        labels = 2 * torch.eye(len(image), device=image.device) - 1
    else:
        labels = 2 * (groups[:, None] == groups[None, :]).float() - 1
    return -F.logsigmoid(labels * logits).sum() / len(image)
