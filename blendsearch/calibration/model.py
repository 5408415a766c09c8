"""The calibration an index carries (``calibration.json``) and how search turns hits into probabilities."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from blendsearch._types import PathInput
from blendsearch.calibration.fused import FusedCalibration
from blendsearch.calibration.vector import VectorCalibration
from blendsearch.exceptions import IndexFormatError
from blendsearch.query.models import Hit

__all__ = ["CALIBRATION_FILE", "Calibration", "QueryModality", "load_calibration", "save_calibration"]

CALIBRATION_FILE = "calibration.json"
FORMAT_VERSION = 1

#: What a query searched with: which vector channel compares across modalities depends on it.
QueryModality = Literal["text", "image", "text+image"]

_TEXT_CHANNELS = ("bm25", "metadata", "vector_text")


class Calibration(BaseModel):
    """Fitted calibrations of an index: the vector channel's, the fused score's, or both."""

    format_version: int = FORMAT_VERSION
    vector: VectorCalibration | None = None
    fused: FusedCalibration | None = None

    def probabilities(
        self, hits: Sequence[Hit], query_modality: QueryModality | None = None
    ) -> list[float | None]:
        """A match probability per hit (hits in result order, best first), or None where none applies.

        The fused calibration is used when fitted. Otherwise the vector calibration reads each hit's
        cross-modal cosine: ``vector_image`` for a text query (text vs the product image, the pairs it was
        fitted on). An image or text+image query compares images with images there, which the pairs do
        not cover, so it gets None. ``query_modality`` defaults to "text" when a text channel ran.
        """
        if not hits:
            return []
        if self.fused is not None:
            return [float(p) for p in self.fused.probabilities(hits)]
        if self.vector is None:
            return [None] * len(hits)
        modality = query_modality or _infer_modality(hits)
        if modality != "text":
            return [None] * len(hits)
        out: list[float | None] = []
        for hit in hits:
            score = hit.channels.get("vector_image")
            if score is None or score.raw is None:
                out.append(None)
            else:
                out.append(float(self.vector.probability([score.raw])[0]))
        return out


def _infer_modality(hits: Sequence[Hit]) -> QueryModality:
    ran = set().union(*(hit.channels for hit in hits))
    return "text" if ran & set(_TEXT_CHANNELS) else "image"


def save_calibration(index_dir: PathInput, calibration: Calibration) -> Path:
    """Write ``calibration.json`` into the index directory (replacing it atomically)."""
    path = Path(index_dir) / CALIBRATION_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(calibration.model_dump_json(indent=2))
    temporary.replace(path)
    return path


def load_calibration(index_dir: PathInput) -> Calibration | None:
    """The index's calibration, or None when it has not been calibrated."""
    path = Path(index_dir) / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise IndexFormatError(f"{path} is not valid JSON ({exc}); re-run `blendsearch calibrate`") from exc
    version = data.get("format_version") if isinstance(data, dict) else None
    if version != FORMAT_VERSION:
        raise IndexFormatError(
            f"{path} has format version {version}; this blendsearch reads {FORMAT_VERSION}: "
            "re-run `blendsearch calibrate`"
        )
    try:
        return Calibration.model_validate(data)
    except ValidationError as exc:
        raise IndexFormatError(f"{path} is invalid: {exc}; re-run `blendsearch calibrate`") from exc
