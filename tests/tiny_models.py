"""Tiny random-weight SigLIP and CLIP checkpoints, built offline, for testing the real loading code.

Each builder writes a folder that loads the way a hub download does (``config.json`` +
``model.safetensors`` + tokenizer + image processor), so :class:`TransformersEncoder` is exercised
end to end without network. The weights are random (fixed seed): vectors are meaningless, shapes and
plumbing are real. The tokenizer is a word-level ``tokenizers`` model over :data:`VOCAB` (no hub
download is possible), saved as a fast tokenizer; real SigLIP ships a SentencePiece one.
"""

from __future__ import annotations

import math
from pathlib import Path

__all__ = [
    "CLIP_LOGIT_SCALE",
    "SIGLIP_LOGIT_BIAS",
    "SIGLIP_LOGIT_SCALE",
    "SIGLIP_MAX_LENGTH",
    "VOCAB",
    "build_tiny_clip",
    "build_tiny_siglip",
    "build_tiny_siglip2",
]

#: Lower-case words the tiny tokenizers know; anything else becomes the unknown token.
VOCAB = "a an the red blue green black white shirt dress shoes bag watch for men women summer casual".split()

#: Values written into the models before saving, so tests can check they are read back.
SIGLIP_LOGIT_SCALE = 7.0
SIGLIP_LOGIT_BIAS = -3.0
CLIP_LOGIT_SCALE = 20.0
#: SigLIP's text length (the real models use 64); short keeps the tiny model fast.
SIGLIP_MAX_LENGTH = 16
CLIP_MAX_LENGTH = 20

_TINY = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
_IMAGE_SIZE = 32


def _word_level_tokenizer(
    specials: list[str], *, bos: str | None, eos: str, unk: str, pad: str, max_length: int
):
    """A fast tokenizer: lower-case-sensitive word level, ``[bos] words eos`` like the real ones."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate([*specials, *VOCAB])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=unk))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    single = f"{bos} $A {eos}" if bos else f"$A {eos}"
    special_ids = [(t, vocab[t]) for t in (bos, eos) if t]
    backend.post_processor = processors.TemplateProcessing(single=single, special_tokens=special_ids)
    kwargs = {"bos_token": bos} if bos else {}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token=unk,
        eos_token=eos,
        pad_token=pad,
        model_max_length=max_length,
        **kwargs,
    )
    return tokenizer, vocab


def _siglip_text() -> tuple:
    """SigLIP's text side: no bos, ``words </s>`` padded with ``</s>``; and the matching text config."""
    tokenizer, vocab = _word_level_tokenizer(
        ["<pad>", "</s>", "<unk>"],
        bos=None,
        eos="</s>",
        unk="<unk>",
        pad="</s>",
        max_length=SIGLIP_MAX_LENGTH,
    )
    text = {
        **_TINY,
        "vocab_size": len(vocab),
        "max_position_embeddings": SIGLIP_MAX_LENGTH,
        "projection_size": _TINY["hidden_size"],
        "pad_token_id": vocab["</s>"],
        "eos_token_id": vocab["</s>"],
        "bos_token_id": None,
    }
    return tokenizer, text


def build_tiny_siglip(path: str | Path) -> Path:
    """Save a 2-layer, 32-wide SigLIP (sigmoid loss) with scale 7, bias -3 and max text length 16."""
    import torch
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel

    folder = Path(path)
    tokenizer, text = _siglip_text()
    vision = {**_TINY, "image_size": _IMAGE_SIZE, "patch_size": 8}
    torch.manual_seed(0)
    model = SiglipModel(SiglipConfig(text_config=text, vision_config=vision))
    with torch.no_grad():
        model.logit_scale.fill_(math.log(SIGLIP_LOGIT_SCALE))
        model.logit_bias.fill_(SIGLIP_LOGIT_BIAS)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    SiglipImageProcessor(size={"height": _IMAGE_SIZE, "width": _IMAGE_SIZE}).save_pretrained(folder)
    return folder


def build_tiny_clip(path: str | Path) -> Path:
    """Save a 2-layer, 32-wide CLIP (softmax loss) with projection dim 24 and scale 20."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    folder = Path(path)
    bos, eos = "<|startoftext|>", "<|endoftext|>"
    tokenizer, vocab = _word_level_tokenizer(
        [bos, eos, "<unk>"], bos=bos, eos=eos, unk="<unk>", pad=eos, max_length=CLIP_MAX_LENGTH
    )
    text = {
        **_TINY,
        "vocab_size": len(vocab),
        "max_position_embeddings": CLIP_MAX_LENGTH,
        "bos_token_id": vocab[bos],
        "eos_token_id": vocab[eos],
        "pad_token_id": vocab[eos],
    }
    vision = {**_TINY, "image_size": _IMAGE_SIZE, "patch_size": 8}
    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=24))
    with torch.no_grad():
        model.logit_scale.fill_(math.log(CLIP_LOGIT_SCALE))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    CLIPImageProcessor(
        size={"shortest_edge": _IMAGE_SIZE}, crop_size={"height": _IMAGE_SIZE, "width": _IMAGE_SIZE}
    ).save_pretrained(folder)
    return folder


def build_tiny_siglip2(path: str | Path) -> Path:
    """Save a 2-layer SigLIP 2 (NaFlex: variable patch count, up to 16 patches of 8 px)."""
    import torch
    from transformers import Siglip2Config, Siglip2ImageProcessor, Siglip2Model

    folder = Path(path)
    tokenizer, text = _siglip_text()
    vision = {**_TINY, "patch_size": 8, "num_patches": 16}
    torch.manual_seed(0)
    Siglip2Model(Siglip2Config(text_config=text, vision_config=vision)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    Siglip2ImageProcessor(patch_size=8, max_num_patches=16).save_pretrained(folder)
    return folder
