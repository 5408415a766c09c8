"""The model folder ``blendsearch train`` writes and ``load_encoder`` reads: file names, the versioned
``blendsearch_model.json``, and the image fitting both sides must share.

One home for the format, so the writer (training) and the reader (search) cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from blendsearch._types import PathInput
from blendsearch.exceptions import EncoderError
from blendsearch.index_state import atomic_write_text
from blendsearch.jsonfile import read_versioned_json

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__ = [
    "FORMAT_VERSION",
    "MODEL_FILE",
    "TOKENIZER_FILE",
    "WEIGHTS_FILE",
    "fit_image",
    "read_model_info",
    "write_model_info",
]

#: Version of the saved model folder's layout (``blendsearch_model.json``).
FORMAT_VERSION = 1
MODEL_FILE = "blendsearch_model.json"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
_RETRAIN = "save the model again with `blendsearch train`"


def read_model_info(folder: PathInput) -> dict[str, Any]:
    """The parsed ``blendsearch_model.json`` of a model folder, format version checked (older ones read)."""
    info = read_versioned_json(
        Path(folder) / MODEL_FILE, FORMAT_VERSION, hint=_RETRAIN, damaged=EncoderError, older=True
    )
    if info is None:
        raise EncoderError(f"{folder} is not a blendsearch model folder (no {MODEL_FILE})")
    return info


def write_model_info(out: Path, fields: dict[str, Any], training: dict[str, Any] | None) -> None:
    """Write ``blendsearch_model.json`` (atomically): the format version, the model's fields, the run."""
    data = {"format_version": FORMAT_VERSION, **fields, "training": training}
    atomic_write_text(out / MODEL_FILE, json.dumps(data, indent=2))


def fit_image(image: PILImage, height: int, width: int) -> np.ndarray:
    """Resize into ``height`` x ``width`` keeping the aspect ratio, centred on white: uint8 [h, w, 3].

    Catalogue photos sit on white, so padding with white adds no edge the model could learn from.
    Training and search both fit images here, so vectors at search time match what the model learned.
    """
    from PIL import Image

    rgb = image.convert("RGB")
    if rgb.size == (width, height):
        return np.asarray(rgb, dtype=np.uint8)
    scale = min(width / rgb.width, height / rgb.height)
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    canvas.paste(
        rgb.resize(size, Image.Resampling.BICUBIC), ((width - size[0]) // 2, (height - size[1]) // 2)
    )
    return np.asarray(canvas, dtype=np.uint8)
