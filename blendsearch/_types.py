"""The "accepts many shapes" input types, in one place (the httpx ``_types`` habit)."""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING, Union

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # PIL is imported lazily at run time
    from PIL.Image import Image as PILImage

__all__ = ["AttributeValue", "FloatArray", "ImageInput", "PathInput", "Vector", "Vectors"]

#: A filesystem path given as text or a path object.
PathInput = Union[str, "PathLike[str]"]

#: An image to encode or search with: a path/URL, raw bytes, or a PIL image.
ImageInput = Union[str, "PathLike[str]", bytes, "PILImage"]

#: A catalogue attribute value after reading (lists are multi-valued attributes).
AttributeValue = str | int | float | bool | list[str]

#: One embedding, float32, shape [d].
Vector = npt.NDArray[np.float32]

#: A batch of embeddings, float32, shape [n, d], one row per item.
Vectors = npt.NDArray[np.float32]

#: Scores, features, probabilities and colour coordinates: float64 arrays of any shape.
FloatArray = npt.NDArray[np.float64]
