"""Encoder registry: map a model spec (hub id, folder, ``scheme:...``) to an Encoder, lazily.

Third-party encoders register the same way as the built-in ones::

    register_encoder("mymodel", lambda spec, batch_size, device: MyEncoder(spec, batch_size, device))

A spec ``"mymodel:weights-v2"`` then reaches the factory with ``spec="weights-v2"``. Specs without a
scheme are detected: a folder holding ``blendsearch_model.json`` is blendsearch's own trained model,
any other folder or hub id goes to transformers (SigLIP or CLIP, read from its config).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from blendsearch.encoders.base import Encoder
from blendsearch.encoders.spec import names_a_folder
from blendsearch.exceptions import EncoderError

__all__ = ["EncoderFactory", "available_encoders", "load_encoder", "names_a_folder", "register_encoder"]

EncoderFactory = Callable[[str, int, str], Encoder]

_FACTORIES: dict[str, EncoderFactory] = {}

#: blendsearch's own trained model folders carry this file.
OWN_MODEL_MARKER = "blendsearch_model.json"


def register_encoder(scheme: str, factory: EncoderFactory) -> None:
    """Register ``factory(spec, batch_size, device)`` for specs written ``scheme:spec``."""
    _FACTORIES[scheme] = factory


def available_encoders() -> list[str]:
    _register_builtins()
    return sorted(_FACTORIES)


def resolve_device(device: str) -> str:
    """``auto`` becomes ``cuda`` where torch sees a GPU, else ``cpu``."""
    if device != "auto":
        return device
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        return "cpu"


def _register_builtins() -> None:
    if "hash" in _FACTORIES:
        return
    from blendsearch.encoders.fake import HashEncoder

    _FACTORIES.setdefault("hash", lambda spec, bs, dev: HashEncoder(dim=int(spec or 64), batch_size=bs))

    def _hf(spec: str, bs: int, dev: str) -> Encoder:
        from blendsearch.encoders.hf import TransformersEncoder

        return TransformersEncoder(spec, batch_size=bs, device=dev)

    def _open_clip(spec: str, bs: int, dev: str) -> Encoder:
        from blendsearch.encoders.openclip import OpenClipEncoder

        return OpenClipEncoder(spec, batch_size=bs, device=dev)

    def _own(spec: str, bs: int, dev: str) -> Encoder:
        from blendsearch.encoders.own.encoder import DualEncoderEncoder

        return DualEncoderEncoder(spec, batch_size=bs, device=dev)

    _FACTORIES.setdefault("hf", _hf)
    _FACTORIES.setdefault("open_clip", _open_clip)
    _FACTORIES.setdefault("blendsearch", _own)


def load_encoder(spec: str, batch_size: int = 64, device: str = "auto") -> Encoder:
    """Load the encoder a spec names; raises EncoderError (MissingDependencyError for a missing package)."""
    _register_builtins()
    scheme, sep, rest = spec.partition(":")
    if not (sep and scheme in _FACTORIES):  # a mistyped folder fails here, before torch or the network
        folder = Path(spec).expanduser()
        if not folder.exists() and names_a_folder(spec):
            raise EncoderError(
                f"cannot load model {spec!r}: no such folder ({folder.absolute()}); a model is a "
                "folder (from `blendsearch train --out`, or a downloaded SigLIP/CLIP checkpoint) or a hub id "
                "like google/siglip-base-patch16-224"
            )
    if not (sep and scheme == "hash"):  # the numpy hash encoder has no device: no torch import for it
        device = resolve_device(device)
    if sep and scheme in _FACTORIES and not Path(spec).exists():
        return _FACTORIES[scheme](rest, batch_size, device)
    if (Path(spec) / OWN_MODEL_MARKER).is_file():
        return _FACTORIES["blendsearch"](spec, batch_size, device)
    return _FACTORIES["hf"](spec, batch_size, device)


def _describe_failure(spec: str, exc: Exception) -> EncoderError:  # pragma: no cover - used by engine
    return EncoderError(f"cannot load model {spec!r}: {exc}")
