"""blendsearch's own dual encoder as search uses it: the model definition, its tokenizer, the model-folder
format (``blendsearch_model.json``) and the encoder that loads a folder.

Training (``blendsearch.train``) writes folders in this format; loading one for search imports nothing
from the training loop. Nothing here imports torch at import time.
"""

from __future__ import annotations

from blendsearch.encoders.own.folder import FORMAT_VERSION, MODEL_FILE, read_model_info
from blendsearch.encoders.own.model import ModelConfig

__all__ = ["FORMAT_VERSION", "MODEL_FILE", "ModelConfig", "read_model_info"]
