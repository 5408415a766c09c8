"""The model a run trains, behind one interface: blendsearch's own dual encoder (built from scratch with a
tokenizer trained on the captions) or a local transformers SigLIP/CLIP being fine-tuned.

Each says how captions become token ids, how a batch becomes embeddings, and how it saves itself in the
model-folder format of :mod:`blendsearch.encoders.own.folder`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from blendsearch.encoders.own.folder import (
    MODEL_FILE,
    TOKENIZER_FILE,
    WEIGHTS_FILE,
    read_model_info,
    write_model_info,
)
from blendsearch.encoders.own.hf_io import attention_mask, features, pixel_values, tokenize
from blendsearch.exceptions import EncoderError
from blendsearch.train.config import TrainConfig, TrainSummary

if TYPE_CHECKING:
    import torch

    from blendsearch.encoders.own.model import ModelConfig

__all__ = ["HFTrainee", "OwnTrainee", "Trainee", "init_kind", "own_init_config"]


class Trainee:
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


def init_kind(folder: str | None) -> str | None:
    """What ``--init`` names: ``"own"`` (a folder ``blendsearch train`` wrote with its own dual encoder),
    ``"transformers"`` (a SigLIP/CLIP, hub-format or fine-tuned by blendsearch), or None (no init)."""
    if folder is None:
        return None
    if (Path(folder) / MODEL_FILE).is_file() and read_model_info(folder).get("kind") == "dual_encoder":
        return "own"
    return "transformers"


def own_init_config(folder: str) -> ModelConfig:
    """The architecture of a blendsearch-trained model folder (fine-tuning keeps it, and its tokenizer)."""
    from blendsearch.encoders.own.model import ModelConfig

    try:
        return ModelConfig.model_validate(read_model_info(folder)["model"])
    except (KeyError, ValueError) as exc:
        raise EncoderError(f"{folder}: blendsearch_model.json has no usable model config: {exc}") from exc


class OwnTrainee(Trainee):
    """blendsearch's dual encoder: from scratch (a tokenizer trained on the captions), or from a model folder
    (``init``) it wrote before, keeping that folder's tokenizer and weights."""

    def __init__(
        self, config: TrainConfig, texts: list[str], tokenizer_file: Path | None, init: str | None = None
    ) -> None:
        from blendsearch.encoders.own.model import build_model
        from blendsearch.encoders.own.tokenizer import load_tokenizer, train_tokenizer

        if tokenizer_file is not None and tokenizer_file.is_file():
            self.tokenizer = load_tokenizer(tokenizer_file)
        elif init is not None:
            self.tokenizer = load_tokenizer(Path(init) / TOKENIZER_FILE)
        else:
            self.tokenizer = train_tokenizer(
                texts, config.model.vocab_size, min_frequency=config.tokenizer_min_frequency
            )
        if init is not None:
            model_cfg = own_init_config(init)
        else:
            model_cfg = config.model.model_copy(update={"vocab_size": self.tokenizer.get_vocab_size()})
        self.model_cfg = model_cfg
        module = build_model(model_cfg)
        if init is not None:
            from safetensors.torch import load_file

            try:
                module.load_state_dict(load_file(str(Path(init) / WEIGHTS_FILE)))
            except (OSError, RuntimeError) as exc:
                raise EncoderError(f"cannot load the weights of {init}: {exc}") from exc
        super().__init__(module, "dual_encoder", model_cfg.image_height, model_cfg.image_width)

    def tokenize(self, texts: list[str]) -> np.ndarray:
        from blendsearch.encoders.own.tokenizer import encode_batch

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
        write_model_info(
            out,
            {
                "kind": self.kind,
                "model": self.model_cfg.model_dump(mode="json"),
                "image_size": [self.height, self.width],
                "max_text_length": self.model_cfg.max_text_length,
                "logit_scale": float(scale.detach().exp()),
                "logit_bias": float(bias.detach()),
            },
            summary.model_dump(mode="json") if summary else None,
        )


class HFTrainee(Trainee):
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
            # A CLIP blendsearch fine-tuned before keeps the bias it learned (saved beside the weights).
            saved = Path(folder) / MODEL_FILE
            start = float(read_model_info(folder).get("logit_bias", -10.0)) if saved.is_file() else -10.0
            module.logit_bias = torch.nn.Parameter(torch.tensor(start))
        vision = hf_config.vision_config
        self.max_text_length = min(max_text_length, hf_config.text_config.max_position_embeddings)
        self.mean, self.std = _processor_stats(folder)
        super().__init__(module, "transformers", vision.image_size, vision.image_size)

    def tokenize(self, texts: list[str]) -> np.ndarray:
        padding = "max_length" if self.sigmoid_native else "longest"
        return tokenize(self.tokenizer, texts, padding, self.max_text_length)["input_ids"]

    def embed(self, pixels: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        from torch.nn import functional as F

        values = pixel_values(pixels, self.height, self.width, self.mean, self.std)
        kwargs: dict[str, Any] = {}
        if not self.sigmoid_native:
            pad = self.tokenizer.pad_token_id
            kwargs["attention_mask"] = attention_mask(ids, pad, pad == self.tokenizer.eos_token_id)
        image = features(self.module.get_image_features(pixel_values=values))
        text = features(self.module.get_text_features(input_ids=ids, **kwargs))
        return F.normalize(image.float(), dim=-1), F.normalize(text.float(), dim=-1)

    def scale_bias(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.module.logit_scale, self.module.logit_bias

    def save(self, out: Path, summary: TrainSummary | None, config: TrainConfig) -> None:
        scale, bias = self.scale_bias()
        self.module.save_pretrained(out)
        self.tokenizer.save_pretrained(out)
        write_model_info(
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
            summary.model_dump(mode="json") if summary else None,
        )


def _processor_stats(folder: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    path = Path(folder) / "preprocessor_config.json"
    if path.is_file():
        data = json.loads(path.read_text())
        return tuple(data.get("image_mean", (0.5, 0.5, 0.5))), tuple(data.get("image_std", (0.5, 0.5, 0.5)))
    return (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
