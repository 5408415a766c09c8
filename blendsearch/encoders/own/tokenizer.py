"""A byte-pair-encoding tokenizer trained on the catalogue's own titles (``tokenizers`` library).

Lower-cased and accent-folded like blendsearch's text analysis, split on whitespace and punctuation,
so a query "Men Blue Shirt" and a title "men blue shirt" tokenise the same. Id 0 is padding.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from blendsearch._types import PathInput

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer

__all__ = ["PAD_TOKEN", "UNK_TOKEN", "encode_batch", "load_tokenizer", "train_tokenizer"]

PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"


def train_tokenizer(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> Tokenizer:
    """Train a BPE vocabulary of at most ``vocab_size`` tokens on ``texts``."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token=UNK_TOKEN))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation()]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[PAD_TOKEN, UNK_TOKEN],
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def load_tokenizer(path: PathInput) -> Tokenizer:
    """Read a ``tokenizer.json`` written by :func:`train_tokenizer` (``tokenizer.save``)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(Path(path)))


def encode_batch(tokenizer: Tokenizer, texts: list[str], max_length: int) -> np.ndarray:
    """Token ids [n, longest] (int64, 0-padded, truncated to ``max_length``); empty texts get [UNK]."""
    import numpy as np

    encodings = tokenizer.encode_batch(texts)
    unk = tokenizer.token_to_id(UNK_TOKEN)
    rows = [enc.ids[:max_length] or [unk] for enc in encodings]
    out = np.zeros((len(rows), max(len(r) for r in rows) if rows else 1), dtype=np.int64)
    for i, ids in enumerate(rows):
        out[i, : len(ids)] = ids
    return out
