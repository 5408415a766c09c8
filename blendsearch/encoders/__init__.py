"""Encoders: images and texts into one vector space, chosen by a model spec.

``load_encoder(spec)`` picks the implementation: ``hash:64`` (deterministic test encoder), a folder or
hub id of a SigLIP/CLIP checkpoint (transformers), ``open_clip:ARCH/TAG``, or a folder of blendsearch's
own trained model. Nothing here imports torch: the model classes import it when one is built.
"""

from __future__ import annotations

from blendsearch.encoders.base import Encoder, l2_normalise
from blendsearch.encoders.fake import HashEncoder
from blendsearch.encoders.hf import TransformersEncoder
from blendsearch.encoders.openclip import OpenClipEncoder
from blendsearch.encoders.registry import available_encoders, load_encoder, register_encoder

__all__ = [
    "Encoder",
    "HashEncoder",
    "OpenClipEncoder",
    "TransformersEncoder",
    "available_encoders",
    "l2_normalise",
    "load_encoder",
    "register_encoder",
]
