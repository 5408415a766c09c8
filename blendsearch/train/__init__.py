"""Training blendsearch's own image-text dual encoder (SigLIP sigmoid loss), and evaluating it.

``train_model(pairs_or_catalog, out_dir, TrainConfig(...)) -> TrainSummary`` writes a model folder that
``load_encoder(out_dir)`` loads as a :class:`~blendsearch.encoders.own.encoder.DualEncoderEncoder`
(the model and its folder format live in :mod:`blendsearch.encoders.own`, apart from this training code).
``adapt_model`` fine-tunes a model folder on another catalogue and reports held-out metrics before/after.
Nothing heavy is imported here: torch loads when training or encoding starts.
"""

from __future__ import annotations

from blendsearch.encoders.own.model import ModelConfig
from blendsearch.train.adapt import AdaptSummary, adapt_model
from blendsearch.train.config import (
    DEFAULT_STEPS,
    TrainConfig,
    TrainProgress,
    TrainSummary,
    load_train_config,
)
from blendsearch.train.data import TrainingPairs, load_pairs, pairs_from_images
from blendsearch.train.evaluate import pair_recall, recall_from_vectors
from blendsearch.train.loop import train_model

__all__ = [
    "DEFAULT_STEPS",
    "AdaptSummary",
    "ModelConfig",
    "TrainConfig",
    "TrainProgress",
    "TrainSummary",
    "TrainingPairs",
    "adapt_model",
    "load_pairs",
    "load_train_config",
    "pair_recall",
    "pairs_from_images",
    "recall_from_vectors",
    "train_model",
]
