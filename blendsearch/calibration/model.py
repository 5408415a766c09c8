"""The calibration an index carries (``calibration.json``) and how search turns hits into probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel

from blendsearch._types import FloatArray, PathInput
from blendsearch.calibration.fused import FusedCalibration
from blendsearch.calibration.vector import VectorCalibration
from blendsearch.exceptions import IndexFormatError
from blendsearch.expansion.models import QuerySignals
from blendsearch.index_state import atomic_write_text
from blendsearch.jsonfile import load_versioned_model
from blendsearch.query.models import Hit
from blendsearch.query.ranked import RankedCandidates

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
        self,
        hits: Sequence[Hit],
        query_modality: QueryModality | None = None,
        signals: QuerySignals | None = None,
    ) -> list[float | None]:
        """A match probability per hit (hits in result order, best first), or None where none applies.

        The fused calibration is used when fitted. Otherwise the vector calibration reads each hit's
        cross-modal cosine: ``vector_image`` for a text query (text vs the product image, the pairs it was
        fitted on). An image or text+image query compares images with images there, which the pairs do
        not cover, so it gets None. ``query_modality`` defaults to "text" when a text channel ran.
        ``signals`` are the hits' query's (``SearchResult.signals``), which the fused model reads.
        """
        ranked = RankedCandidates.from_hits(hits, signals)
        probabilities = self.candidate_probabilities(ranked, query_modality)
        return [None if p != p else float(p) for p in probabilities.tolist()]

    def candidate_probabilities(
        self, ranked: RankedCandidates, query_modality: QueryModality | None = None
    ) -> FloatArray:
        """:meth:`probabilities` of a query's fused candidates as arrays (NaN where none applies)."""
        if not len(ranked):
            return np.zeros(0)
        if self.fused is not None:
            return self.fused.candidate_probabilities(ranked)
        none = np.full(len(ranked), np.nan)
        if self.vector is None or "vector_image" not in ranked.channels:
            return none
        ran = "text" if set(ranked.channels) & set(_TEXT_CHANNELS) else "image"
        if (query_modality or ran) != "text":
            return none
        cosines = ranked.raw[:, ranked.channels.index("vector_image")]
        present = ~np.isnan(cosines)
        return np.where(present, self.vector.probability(np.where(present, cosines, 0.0)), np.nan)


def save_calibration(index_dir: PathInput, calibration: Calibration) -> Path:
    """Write ``calibration.json`` into the index directory (replacing it atomically)."""
    path = Path(index_dir) / CALIBRATION_FILE
    atomic_write_text(path, calibration.model_dump_json(indent=2))
    return path


def load_calibration(index_dir: PathInput) -> Calibration | None:
    """The index's calibration, or None when it has not been calibrated."""
    return load_versioned_model(
        Path(index_dir) / CALIBRATION_FILE,
        Calibration,
        FORMAT_VERSION,
        what="calibration file",
        hint="re-run `blendsearch calibrate`",
        damaged=IndexFormatError,
    )
