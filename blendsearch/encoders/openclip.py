"""open_clip models (CLIP, SigLIP, EVA, ... from the open_clip zoo) behind the Encoder interface.

Specs, after the ``open_clip:`` scheme:

* ``ViT-B-32/laion2b_s34b_b79k``: an architecture and a pretrained tag (``open_clip.list_pretrained()``);
* ``ViT-B-32//path/to/checkpoint.pt``: an architecture and a local checkpoint file (anything after the
  first ``/`` that is not a tag is handed to open_clip as a path);
* ``hf-hub:timm/ViT-B-16-SigLIP`` (or ``local-dir:/path``): a self-describing model.

open_clip's own tokenizers already pad to the context length and clean text the way each model was
trained, so texts go to them untouched (SigLIP's are lower-cased first, as in big_vision).
``import open_clip`` happens when an encoder is built; it needs torchvision.
"""

from __future__ import annotations

import hashlib
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from blendsearch.encoders.base import Encoder
from blendsearch.exceptions import EncoderError, MissingDependencyError, first_line, map_exceptions

__all__ = ["OpenClipEncoder", "parse_open_clip_spec"]

_SELF_DESCRIBING = ("hf-hub:", "local-dir:")


def parse_open_clip_spec(spec: str) -> tuple[str, str | None]:
    """open_clip's (model_name, pretrained): ``"ViT-B-32/openai"`` -> ``("ViT-B-32", "openai")``."""
    if spec.startswith(_SELF_DESCRIBING):
        return spec, None
    model_name, sep, pretrained = spec.partition("/")
    if not sep or not model_name or not pretrained:
        raise EncoderError(
            f"open_clip spec {spec!r} must be ARCHITECTURE/PRETRAINED (a tag or a checkpoint path), "
            "e.g. 'open_clip:ViT-B-32/laion2b_s34b_b79k', or 'open_clip:hf-hub:ORG/NAME'"
        )
    return model_name, pretrained


class OpenClipEncoder(Encoder):
    """An open_clip dual encoder; ``loss`` is "sigmoid" for models with a logit bias (SigLIP), else "softmax".

    On CUDA the fp32 weights run under float16 autocast (open_clip's recommended inference mode).
    """

    text_padding = "max_length"

    def __init__(self, spec: str, batch_size: int = 64, device: str = "cpu") -> None:
        super().__init__(batch_size=batch_size, device=device)
        open_clip = _import_open_clip()
        import torch

        self._torch = torch
        self.spec = spec
        model_name, pretrained = parse_open_clip_spec(spec)
        with map_exceptions(
            {Exception: EncoderError},
            lambda exc: (
                f"cannot load open_clip model {spec!r}: {first_line(exc)}"
                " (no network? give a checkpoint path)"
            ),
        ):
            self._model, self._preprocess = open_clip.create_model_from_pretrained(
                model_name, pretrained=pretrained, device=device
            )
            self._tokenizer = open_clip.get_tokenizer(model_name)
        self._model.eval()

        self.logit_scale = float(self._model.logit_scale.detach().float().exp().item())
        bias = getattr(self._model, "logit_bias", None)
        self.logit_bias = float(bias.detach().float().item()) if bias is not None else 0.0
        self.loss = "sigmoid" if bias is not None else "softmax"
        self.text_lowercase = bias is not None
        context = getattr(self._tokenizer, "context_length", None) or getattr(
            self._model, "context_length", 77
        )
        self.max_text_length = int(context)
        self.name = f"open_clip:{spec}"
        self._fingerprint = _fingerprint(self.name, pretrained)
        self.dim = int(self._encode_text_batch([""]).shape[1])

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def _tokenize(self, texts: list[str]) -> Any:  # noqa: ANN401 - a torch.LongTensor [n, context_length]
        if self.text_lowercase:
            texts = [text.lower() for text in texts]
        return self._tokenizer(texts)

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        tokens = self._tokenize(texts).to(self.device)
        with self._torch.inference_mode(), self._autocast():
            features = self._model.encode_text(tokens)
        return features.detach().float().cpu().numpy()

    def _encode_image_batch(self, images: list) -> np.ndarray:
        pixels = self._torch.stack([self._preprocess(img.convert("RGB")) for img in images]).to(self.device)
        with self._torch.inference_mode(), self._autocast():
            features = self._model.encode_image(pixels)
        return features.detach().float().cpu().numpy()

    def _autocast(self) -> Any:  # noqa: ANN401
        if self.device.startswith("cuda"):
            return self._torch.autocast("cuda", dtype=self._torch.float16)
        return nullcontext()

    def close(self) -> None:
        """Drop the model; on CUDA also release the cached memory."""
        self._model = None
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()


def _import_open_clip() -> Any:  # noqa: ANN401
    try:
        import open_clip
    except ImportError as exc:  # open_clip itself, or torchvision/timm that it imports
        raise MissingDependencyError(
            "open_clip_torch", extra="open-clip", purpose="open_clip models"
        ) from exc
    return open_clip


def _fingerprint(name: str, pretrained: str | None) -> str:
    """The spec, plus the checkpoint file's size and mtime where it names a local file."""
    if pretrained is None or not Path(pretrained).is_file():
        return name
    stat = Path(pretrained).stat()
    digest = hashlib.sha256(f"{Path(pretrained).resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return f"{name}@{digest.hexdigest()[:16]}"
