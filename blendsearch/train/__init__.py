"""Training blendsearch's own image-text dual encoder (SigLIP sigmoid loss), and evaluating it.

``train_model(pairs_or_catalog, out_dir, TrainConfig(...)) -> TrainSummary`` writes a model folder that
``load_encoder(out_dir)`` loads as a :class:`~blendsearch.train.encoder.DualEncoderEncoder`.
Nothing heavy is imported here: torch loads when training or encoding starts.
"""

from __future__ import annotations

from blendsearch.train.data import TrainingPairs, load_pairs, pairs_from_images
from blendsearch.train.evaluate import pair_recall, recall_from_vectors
from blendsearch.train.loop import TrainConfig, TrainProgress, TrainSummary, load_train_config, train_model
from blendsearch.train.model import ModelConfig

__all__ = [
    "ModelConfig",
    "TrainConfig",
    "TrainProgress",
    "TrainSummary",
    "TrainingPairs",
    "load_pairs",
    "load_train_config",
    "pair_recall",
    "pairs_from_images",
    "recall_from_vectors",
    "train_model",
]
