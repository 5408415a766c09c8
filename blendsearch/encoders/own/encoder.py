"""The encoder that loads a model folder written by ``blendsearch train`` (``blendsearch_model.json``).

Images are fitted into the model's input size exactly as training fitted them (aspect kept, white
padding), so vectors at search time match what the model learned. Nothing from the training loop is
imported here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from blendsearch.encoders.base import Encoder
from blendsearch.encoders.own.folder import TOKENIZER_FILE, WEIGHTS_FILE, fit_image, read_model_info
from blendsearch.encoders.own.hf_io import features, pixel_values, tokenize
from blendsearch.exceptions import EncoderError

__all__ = ["DualEncoderEncoder"]


class DualEncoderEncoder(Encoder):
    """blendsearch's own trained dual encoder, or a SigLIP/CLIP it fine-tuned, loaded from a folder."""

    loss = "sigmoid"

    def __init__(self, spec: str | Path, batch_size: int = 64, device: str = "cpu") -> None:
        super().__init__(batch_size=batch_size, device=device)
        import torch

        folder = Path(spec)
        info = read_model_info(folder)
        self.info = info
        self.kind = info.get("kind", "dual_encoder")
        self.height, self.width = info["image_size"]
        self.max_text_length = int(info["max_text_length"])
        self.logit_scale = float(info["logit_scale"])
        self.logit_bias = float(info["logit_bias"])
        self.name = f"blendsearch:{folder.resolve().name}:{_weights_digest(folder, info)}"
        try:
            if self.kind == "dual_encoder":
                self._load_own(folder, info)
            elif self.kind == "transformers":
                self._load_transformers(folder, info)
            else:
                raise EncoderError(f"{folder}: unknown model kind {self.kind!r}")
        except (OSError, RuntimeError, KeyError, ValueError) as exc:
            raise EncoderError(f"cannot load blendsearch model {folder}: {exc}") from exc
        self.model.to(device).eval()
        self._torch = torch

    def _load_own(self, folder: Path, info: dict[str, Any]) -> None:
        from safetensors.torch import load_file

        from blendsearch.encoders.own.model import ModelConfig, build_model
        from blendsearch.encoders.own.tokenizer import load_tokenizer

        config = ModelConfig.model_validate(info["model"])
        self.model = build_model(config)
        self.model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
        self.tokenizer = load_tokenizer(folder / TOKENIZER_FILE)
        self.dim = config.embed_dim
        self.text_lowercase = True

    def _load_transformers(self, folder: Path, info: dict[str, Any]) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.model = AutoModel.from_pretrained(folder)
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.text_padding = info.get("text_padding", "longest")
        self.mean, self.std = tuple(info["image_mean"]), tuple(info["image_std"])
        self.source_size = tuple(info["source_size"])
        config = self.model.config
        if info.get("model_type") == "clip":
            self.dim = int(config.projection_dim)
        else:  # SigLIP projects text to projection_size (the hidden size unless set)
            text = config.text_config
            self.dim = int(getattr(text, "projection_size", None) or text.hidden_size)

    @property
    def fingerprint(self) -> str:
        return f"{self.name}:{self.dim}"

    def _pixels(self, images: list) -> Any:
        array = np.stack([fit_image(img, self.height, self.width) for img in images])
        return self._torch.from_numpy(array).to(self.device).permute(0, 3, 1, 2)

    def _encode_image_batch(self, images: list) -> np.ndarray:
        with self._torch.inference_mode():
            if self.kind == "dual_encoder":
                pixels = self._pixels(images)
                return self.model.image(pixels).float().cpu().numpy()
            # As in training: fitted into the training pairs' size, then resized to the model's.
            fitted = np.stack([fit_image(img, *self.source_size) for img in images])
            pixels = self._torch.from_numpy(fitted).to(self.device).permute(0, 3, 1, 2)
            values = pixel_values(pixels, self.height, self.width, self.mean, self.std)
            return features(self.model.get_image_features(pixel_values=values)).float().cpu().numpy()

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        from blendsearch.encoders.own.tokenizer import encode_batch

        with self._torch.inference_mode():
            if self.kind == "dual_encoder":
                ids = self._torch.from_numpy(encode_batch(self.tokenizer, texts, self.max_text_length))
                return self.model.text(ids.to(self.device)).float().cpu().numpy()
            encoded = tokenize(self.tokenizer, texts, self.text_padding, self.max_text_length)
            kwargs = {}
            if self.text_padding != "max_length":
                kwargs["attention_mask"] = self._torch.from_numpy(encoded["attention_mask"]).to(self.device)
            ids = self._torch.from_numpy(encoded["input_ids"]).to(self.device)
            return features(self.model.get_text_features(input_ids=ids, **kwargs)).float().cpu().numpy()

    def close(self) -> None:
        self.model = None


def _weights_digest(folder: Path, info: dict[str, Any]) -> str:
    """Identifies the weights: the model description plus the weights' bytes (first 8 MB for big files).

    Content, not modification time, so a copied model folder keeps its fingerprint and its vectors.
    """
    described = {key: value for key, value in info.items() if key != "training"}
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode())
    weights = folder / WEIGHTS_FILE
    if weights.is_file():
        digest.update(str(weights.stat().st_size).encode())
        with weights.open("rb") as handle:
            digest.update(handle.read(8 << 20))
    return digest.hexdigest()[:12]
