"""SigLIP, SigLIP 2 and CLIP through Hugging Face transformers, from a hub id or a local folder.

The model family is read from the checkpoint's ``config.json`` (``model_type``), and text is always
tokenised the way that family was trained: SigLIP pads every text to the full ``max_length`` (64 for
the released models), lower-cased, and sees no attention mask (big_vision trained it that way and pools
the LAST position, so shorter padding changes the vectors); CLIP pads to the longest text in the batch.

torch and transformers are imported when an encoder is built, never at module import.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from blendsearch.encoders.base import Encoder
from blendsearch.encoders.own.hf_io import tokenize
from blendsearch.encoders.spec import names_a_folder
from blendsearch.exceptions import EncoderError, MissingDependencyError, first_line, map_exceptions

if TYPE_CHECKING:
    import torch

__all__ = ["SUPPORTED_MODEL_TYPES", "TransformersEncoder", "hub_unreachable"]


@dataclass(frozen=True)
class _Family:
    """How one model family is built, scored and fed text."""

    model_class: str
    loss: str
    padding: str
    lowercase: bool
    #: SigLIP was trained without a text attention mask; passing one changes its vectors.
    attention_mask: bool


_FAMILIES: dict[str, _Family] = {
    "siglip": _Family("SiglipModel", "sigmoid", "max_length", lowercase=True, attention_mask=False),
    "siglip2": _Family("Siglip2Model", "sigmoid", "max_length", lowercase=True, attention_mask=False),
    "clip": _Family("CLIPModel", "softmax", "longest", lowercase=False, attention_mask=True),
}

#: ``model_type`` values (from config.json) this encoder loads.
SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(sorted(_FAMILIES))

_WEIGHT_PATTERNS = ("*.safetensors", "*.bin")


class TransformersEncoder(Encoder):
    """A SigLIP/SigLIP 2/CLIP dual encoder loaded with transformers.

    ``spec`` is a local folder (loaded with ``local_files_only=True``, so never touches the network) or
    a hub id (served from the local Hugging Face cache when present, with no update check; else
    downloaded). ``dtype="auto"`` runs float16 on CUDA and float32 on CPU.
    """

    def __init__(self, spec: str, batch_size: int = 64, device: str = "cpu", dtype: str = "auto") -> None:
        super().__init__(batch_size=batch_size, device=device)
        torch, transformers = _import_backend()
        torch_dtype = _resolve_dtype(torch, dtype, device)
        self.spec = spec
        folder = Path(spec).expanduser()
        if folder.exists() and not folder.is_dir():
            raise EncoderError(
                f"cannot load model {spec!r}: a model is a folder (config.json + weights), not a file"
            )
        if not folder.exists() and names_a_folder(spec):
            raise EncoderError(f"cannot load model {spec!r}: no such folder")
        self._folder = folder.resolve() if folder.is_dir() else None
        source = str(self._folder) if self._folder else spec
        load = _CheckpointLoader(spec, source, self._folder, transformers, torch_dtype)
        try:  # a hub id is tried in the local cache first: no network round trip when it is there
            try:
                loaded = load(local_only=True)
            except _LoadFailure as local_failure:
                if self._folder is not None:
                    raise
                unreachable = hub_unreachable()  # seconds, where transformers' retries take ~30 s
                if unreachable is not None:
                    raise _LoadFailure(
                        f"cannot load model {spec!r}: it is not in the local Hugging Face cache and the hub "
                        f"is unreachable ({unreachable}) (no network? pass a local folder)"
                    ) from local_failure
                loaded = load(local_only=False)
        except _LoadFailure as failure:
            raise EncoderError(str(failure)) from failure.__cause__
        config, family, self._tokenizer, self._image_processor, self._model = loaded
        model_type = config.model_type
        try:
            self._model.to(device)
        except (RuntimeError, AssertionError) as exc:  # e.g. CUDA asked for on a CPU-only torch
            raise EncoderError(f"cannot move model {spec!r} to device {device!r}: {exc}") from exc
        self._model.eval()
        self._torch = torch

        self.model_type = model_type
        self.loss = family.loss
        self.text_padding = family.padding
        self.text_lowercase = family.lowercase
        self._text_attention_mask = family.attention_mask
        self.max_text_length = int(config.text_config.max_position_embeddings)
        self.dim = _projection_dim(config)
        self.logit_scale = float(self._model.logit_scale.detach().float().exp().item())
        bias = getattr(self._model, "logit_bias", None)
        self.logit_bias = float(bias.detach().float().item()) if bias is not None else 0.0
        self.name = f"hf:{model_type}:{source}"
        self._fingerprint = _fingerprint(self.name, self._folder, source)

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def _tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """The model's text inputs, tokenised exactly as the family was trained (see module docstring)."""
        encoded = tokenize(
            self._tokenizer, texts, self.text_padding, self.max_text_length, lowercase=self.text_lowercase
        )
        names = ("input_ids", "attention_mask") if self._text_attention_mask else ("input_ids",)
        return {name: self._torch.from_numpy(encoded[name]) for name in names}

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        inputs = self._tokenize(texts)
        with self._torch.inference_mode():
            output = self._model.get_text_features(**self._to_device(inputs))
        return _as_numpy(output)

    def _encode_image_batch(self, images: list) -> np.ndarray:
        inputs = self._image_processor(images=[img.convert("RGB") for img in images], return_tensors="pt")
        inputs = dict(inputs)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self._model.dtype)
        with self._torch.inference_mode():
            output = self._model.get_image_features(**self._to_device(inputs))
        return _as_numpy(output)

    def _to_device(self, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {key: value.to(self.device) for key, value in inputs.items()}

    def close(self) -> None:
        """Drop the model; on CUDA also release the cached memory."""
        self._model = None
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()


def _import_backend() -> tuple[Any, Any]:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError("torch", purpose="transformers encoders") from exc
    try:
        import transformers
    except ImportError as exc:
        raise MissingDependencyError("transformers", purpose="SigLIP/CLIP encoders") from exc
    return torch, transformers


class _LoadFailure(EncoderError):
    """A ``from_pretrained`` call failed (missing files, no network): worth retrying online."""


@dataclass
class _CheckpointLoader:
    """Loads config, tokenizer, image processor and model of one checkpoint, cheapest first."""

    spec: str
    source: str
    folder: Path | None
    transformers: Any
    dtype: Any

    def __call__(self, local_only: bool) -> tuple[Any, _Family, Any, Any, Any]:
        transformers, source = self.transformers, self.source
        hub = {"local_files_only": local_only}
        config = self._load(lambda: transformers.AutoConfig.from_pretrained(source, **hub))
        model_type = getattr(config, "model_type", "")
        family = _FAMILIES.get(model_type)
        if family is None:
            raise EncoderError(
                f"cannot load model {self.spec!r}: model type {model_type!r} is not a supported dual encoder "
                f"(supported: {', '.join(SUPPORTED_MODEL_TYPES)}; open_clip models: 'open_clip:<name>')"
            )
        model_class = getattr(transformers, family.model_class, None)
        if model_class is None:
            raise EncoderError(
                f"cannot load model {self.spec!r}: this transformers ({transformers.__version__}) "
                f"has no {family.model_class}"
            )
        tokenizer = self._load(
            lambda: transformers.AutoTokenizer.from_pretrained(source, **hub), model_type=model_type
        )
        new_api = int(transformers.__version__.split(".")[0]) >= 5
        # transformers 5 prefers torchvision resizing where installed; PIL is the reference the models used.
        image_kwargs = {"backend": "pil"} if new_api else {}
        image_processor = self._load(
            lambda: transformers.AutoImageProcessor.from_pretrained(source, **hub, **image_kwargs)
        )
        dtype_key = "dtype" if new_api else "torch_dtype"  # renamed in transformers 4.56
        model = self._load(lambda: model_class.from_pretrained(source, **{dtype_key: self.dtype}, **hub))
        return config, family, tokenizer, image_processor, model

    def _load(self, load: Any, model_type: str = "") -> Any:  # noqa: ANN401
        """Run one ``from_pretrained``; its failure becomes an EncoderError that says what to do."""
        hint = "" if self.folder else " (no network? pass a local folder; HF_HUB_OFFLINE=1 fails at once)"
        try:
            with map_exceptions(
                {Exception: _LoadFailure},
                lambda exc: f"cannot load model {self.spec!r}: {first_line(exc)}{hint}",
            ):
                return load()
        except _LoadFailure as failure:
            if model_type == "siglip" and not _sentencepiece_available():
                raise MissingDependencyError(
                    "sentencepiece", purpose="SigLIP's SentencePiece tokenizer"
                ) from failure.__cause__
            raise


def hub_unreachable(timeout_s: float = 2.0) -> str | None:
    """Why the Hugging Face hub cannot be reached (offline mode, no connection within ``timeout_s``), or
    None when a TCP connection to it opens. One quick probe instead of transformers' retries with backoff.
    """
    import os
    import socket
    import threading
    from urllib.parse import urlsplit

    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        return "HF_HUB_OFFLINE is set"
    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    parts = urlsplit(endpoint)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    outcome: list[str | None] = []

    def probe() -> None:  # in a thread: name resolution itself has no timeout
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(f"{host}:{port}: {exc.strerror or exc}")

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout_s)
    return outcome[0] if outcome else f"{host}:{port}: no answer within {timeout_s:g} s"


def _sentencepiece_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("sentencepiece") is not None


def _resolve_dtype(torch: Any, dtype: str, device: str) -> Any:  # noqa: ANN401
    if dtype == "auto":
        dtype = "float16" if device.startswith("cuda") else "float32"
    resolved = getattr(torch, dtype, None)
    if not isinstance(resolved, torch.dtype):
        raise EncoderError(f"unknown dtype {dtype!r} (use auto, float32, float16 or bfloat16)")
    return resolved


def _projection_dim(config: Any) -> int:  # noqa: ANN401
    """The shared embedding size: CLIP's ``projection_dim``; SigLIP's text head size (= vision width)."""
    if getattr(config, "model_type", "") == "clip":
        return int(config.projection_dim)
    text = config.text_config
    return int(getattr(text, "projection_size", None) or config.vision_config.hidden_size)


def _as_numpy(output: Any) -> np.ndarray:  # noqa: ANN401
    """Features as float32 numpy: transformers 4 returns a tensor, 5 an output with the projected pooler."""
    tensor = output if hasattr(output, "detach") else getattr(output, "pooler_output", None)
    if tensor is None:
        raise EncoderError(f"unexpected model output {type(output).__name__}: no pooled features")
    return tensor.detach().float().cpu().numpy()


def _fingerprint(name: str, folder: Path | None, source: str) -> str:
    """Model type + where + a hash of config.json and (folders) the weight files' sizes and mtimes.

    For a hub id the cached snapshot's path carries the revision, so a new upload changes the hash.
    """
    digest = hashlib.sha256()
    if folder is not None:
        config_file = folder / "config.json"
        for pattern in _WEIGHT_PATTERNS:
            for weights in sorted(folder.glob(pattern)):
                stat = weights.stat()
                digest.update(f"{weights.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    else:
        from transformers.utils import cached_file

        config_file = Path(cached_file(source, "config.json", local_files_only=True))  # loaded: cached
        digest.update(str(config_file.parent.name).encode())
    digest.update(config_file.read_bytes())
    return f"{name}@{digest.hexdigest()[:16]}"
