"""Adapting a model to a new catalogue: fine-tune it (``init``) on the catalogue's own image/title pairs, and
measure title -> image retrieval on pairs held out of the fine-tuning, before and after.

The held-out pairs are whole caption groups (every pair sharing a title goes to the same side), so a title
seen in fine-tuning is never a held-out query.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from blendsearch._types import PathInput
from blendsearch.config import FieldMapping
from blendsearch.exceptions import ConfigError
from blendsearch.train.config import TrainConfig, TrainProgress, TrainSummary
from blendsearch.train.data import TrainingPairs, load_pairs
from blendsearch.train.trainees import init_kind, own_init_config

__all__ = ["ADAPTATION_FILE", "AdaptSummary", "adapt_model", "split_pairs"]

#: Written into the output folder beside the model: the before/after metrics of the adaptation.
ADAPTATION_FILE = "adaptation.json"


class AdaptSummary(BaseModel):
    """Held-out title -> image metrics of the initial model and of the fine-tuned one, and the run."""

    init: str
    fitted_pairs: int
    held_out_pairs: int
    before: dict[str, float]
    after: dict[str, float]
    training: TrainSummary


def split_pairs(pairs: TrainingPairs, holdout: float, seed: int = 0) -> tuple[TrainingPairs, TrainingPairs]:
    """(fit, held-out) by a seeded shuffle of caption groups, ``holdout`` of the groups held out."""
    if not 0 < holdout < 1:
        raise ConfigError(f"holdout must be between 0 and 1, got {holdout}")
    groups = pairs.groups()
    distinct = int(groups.max()) + 1 if len(groups) else 0
    order = np.random.default_rng(seed).permutation(distinct)
    held_groups = order[: max(1, int(round(distinct * holdout)))]
    held = np.isin(groups, held_groups)
    if held.all() or (~held).sum() < 2:
        raise ConfigError(f"{len(pairs)} pairs are too few to hold {holdout:.0%} of their titles out")

    def subset(mask: np.ndarray) -> TrainingPairs:
        index = np.flatnonzero(mask)
        return TrainingPairs(
            images=np.ascontiguousarray(pairs.images[index]),
            texts=[pairs.texts[i] for i in index],
            ids=[pairs.ids[i] for i in index] if pairs.ids else [],
        )

    return subset(~held), subset(held)


def _recall(model: str, pairs: TrainingPairs, device: str) -> dict[str, float]:
    from blendsearch.encoders.registry import load_encoder
    from blendsearch.train.evaluate import pair_recall

    return pair_recall(load_encoder(model, device="cpu" if device == "auto" else device), pairs)


def adapt_model(
    source: TrainingPairs | PathInput,
    out_dir: PathInput,
    config: TrainConfig,
    *,
    holdout: float = 0.1,
    mapping: FieldMapping | None = None,
    split_field: str | None = None,
    split_value: str | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
) -> AdaptSummary:
    """Fine-tune ``config.init`` on the pairs less a held-out ``holdout`` of their titles; report both models'
    held-out metrics (also written to ``out_dir/adaptation.json``). Bounded like any run: by
    ``config.max_steps`` / ``epochs`` and the ``minutes`` cap."""
    from blendsearch.train.loop import train_model

    if config.init is None:
        raise ConfigError("adaptation needs a model to start from (init)")
    if isinstance(source, TrainingPairs):
        pairs = source
    else:
        kind = init_kind(config.init)
        model = own_init_config(config.init) if kind == "own" else config.model
        pairs = load_pairs(
            source,
            mapping,
            split_field=split_field,
            split_value=split_value,
            height=model.image_height,
            width=model.image_width,
        )
    fit, held = split_pairs(pairs, holdout, config.seed)
    before = _recall(config.init, held, config.device)
    summary = train_model(fit, out_dir, config, progress=progress)
    after = _recall(str(out_dir), held, config.device)
    result = AdaptSummary(
        init=config.init,
        fitted_pairs=len(fit),
        held_out_pairs=len(held),
        before=before,
        after=after,
        training=summary,
    )
    (Path(out_dir) / ADAPTATION_FILE).write_text(json.dumps(result.model_dump(mode="json"), indent=2))
    return result
