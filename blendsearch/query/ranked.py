"""A query's fused candidates as arrays, best first: the form search keeps until it builds one page.

Fusing a few hundred candidates into pydantic :class:`~blendsearch.query.models.Hit` objects (one per
candidate, one :class:`~blendsearch.query.models.ChannelScore` per channel) allocates thousands of
objects per query, and the cyclic garbage collector's full passes then land inside queries (p99 near
9x p50 on the fashion catalogue). :class:`RankedCandidates` holds the same facts as matrices, so ranking,
calibration features and ``min_probability`` filtering run on arrays and only the returned page
becomes hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from blendsearch._types import FloatArray
from blendsearch.expansion.models import QuerySignals
from blendsearch.query.models import ChannelScore, Hit

__all__ = ["RankedCandidates"]


@dataclass(frozen=True)
class RankedCandidates:
    """n candidates over c channels, rows best first (ties in order of first appearance).

    ``raw``/``normalised`` are NaN and ``rank`` is 0 where a channel did not return the candidate;
    ``contributions`` rows sum to ``scores``; ``unseen`` marks a channel that cannot see the candidate
    (and did not return it); ``probabilities`` are NaN where no calibration applies; ``signals`` are the
    query's (every row shares them: query-level calibration features), None when it had no text.
    """

    ids: list[str]
    channels: list[str]
    scores: FloatArray
    raw: FloatArray
    normalised: FloatArray
    rank: npt.NDArray[np.int64]
    contributions: FloatArray
    unseen: npt.NDArray[np.bool_]
    probabilities: FloatArray | None = None
    signals: QuerySignals | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def empty(cls, channels: Sequence[str] = (), signals: QuerySignals | None = None) -> RankedCandidates:
        c = len(channels)
        return cls(
            ids=[],
            channels=list(channels),
            scores=np.zeros(0),
            raw=np.zeros((0, c)),
            normalised=np.zeros((0, c)),
            rank=np.zeros((0, c), dtype=np.int64),
            contributions=np.zeros((0, c)),
            unseen=np.zeros((0, c), dtype=bool),
            signals=signals,
        )

    @classmethod
    def from_hits(cls, hits: Sequence[Hit], signals: QuerySignals | None = None) -> RankedCandidates:
        """The arrays of hits given in result order (channels in order of first appearance); ``signals``
        are their query's (:attr:`SearchResult.signals`, :attr:`QueryRun.signals`)."""
        channels = list(dict.fromkeys(name for hit in hits for name in hit.channels))
        n, c = len(hits), len(channels)
        raw = np.full((n, c), np.nan)
        norm = np.full((n, c), np.nan)
        rank = np.zeros((n, c), dtype=np.int64)
        share = np.zeros((n, c))
        unseen = np.zeros((n, c), dtype=bool)
        for i, hit in enumerate(hits):
            for j, name in enumerate(channels):
                score = hit.channels.get(name)
                if score is None:
                    continue
                if score.raw is not None:
                    raw[i, j] = score.raw
                if score.normalised is not None:
                    norm[i, j] = score.normalised
                rank[i, j] = score.rank or 0
                share[i, j] = score.contribution
                unseen[i, j] = score.unseen
        probabilities = np.array([np.nan if h.probability is None else h.probability for h in hits])
        return cls(
            ids=[hit.id for hit in hits],
            channels=channels,
            scores=np.array([hit.score for hit in hits], dtype=np.float64),
            raw=raw,
            normalised=norm,
            rank=rank,
            contributions=share,
            unseen=unseen,
            probabilities=probabilities if n and not np.isnan(probabilities).all() else None,
            signals=signals,
        )

    def with_probabilities(self, probabilities: npt.ArrayLike) -> RankedCandidates:
        values = np.asarray(probabilities, dtype=np.float64)
        if values.shape != (len(self),):
            raise ValueError(f"need {len(self)} probabilities, got shape {values.shape}")
        return self._replace(probabilities=values)

    def take(self, rows: npt.ArrayLike) -> RankedCandidates:
        """The candidates selected by a boolean mask or index array, order kept."""
        index = np.flatnonzero(np.asarray(rows)) if np.asarray(rows).dtype == bool else np.asarray(rows)
        return RankedCandidates(
            ids=[self.ids[i] for i in index.tolist()],
            channels=self.channels,
            scores=self.scores[index],
            raw=self.raw[index],
            normalised=self.normalised[index],
            rank=self.rank[index],
            contributions=self.contributions[index],
            unseen=self.unseen[index],
            probabilities=None if self.probabilities is None else self.probabilities[index],
            signals=self.signals,
        )

    def _replace(self, **changes: object) -> RankedCandidates:
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields.update(changes)
        return RankedCandidates(**fields)  # type: ignore[arg-type]

    def hits(self, start: int = 0, stop: int | None = None) -> list[Hit]:
        """:class:`Hit` objects of rows ``start:stop`` (every channel listed, None where it did not return
        the hit), without documents."""
        rows = range(len(self))[start:stop]
        if not rows:
            return []
        sl = slice(rows.start, rows.stop)
        # Plain lists and model_construct: the values come straight from numpy, so element access on
        # arrays and pydantic validation would only cost time.
        raw_rows, norm_rows = self.raw[sl].tolist(), self.normalised[sl].tolist()
        rank_rows, share_rows = self.rank[sl].tolist(), self.contributions[sl].tolist()
        unseen_rows, scores = self.unseen[sl].tolist(), self.scores[sl].tolist()
        probabilities = None if self.probabilities is None else self.probabilities[sl].tolist()
        hits: list[Hit] = []
        for r, i in enumerate(rows):
            channels = {
                name: ChannelScore.model_construct(
                    raw=None if raw_rows[r][j] != raw_rows[r][j] else raw_rows[r][j],
                    normalised=None if norm_rows[r][j] != norm_rows[r][j] else norm_rows[r][j],
                    rank=rank_rows[r][j] or None,
                    contribution=share_rows[r][j],
                    unseen=unseen_rows[r][j],
                )
                for j, name in enumerate(self.channels)
            }
            p = None if probabilities is None or probabilities[r] != probabilities[r] else probabilities[r]
            hits.append(
                Hit.model_construct(
                    id=self.ids[i],
                    score=scores[r],
                    probability=p,
                    channels=channels,
                    document=None,
                    colours=[],
                    tags=[],
                )
            )
        return hits
