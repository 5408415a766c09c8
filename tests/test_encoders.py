"""Encoders: real transformers loading on tiny random checkpoints, open_clip's wrapper, the registry."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
import types
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tiny_models import (
    CLIP_LOGIT_SCALE,
    SIGLIP_LOGIT_BIAS,
    SIGLIP_LOGIT_SCALE,
    SIGLIP_MAX_LENGTH,
    build_tiny_clip,
    build_tiny_siglip,
    build_tiny_siglip2,
)

from blendsearch.encoders import (
    Encoder,
    HashEncoder,
    OpenClipEncoder,
    TransformersEncoder,
    available_encoders,
    load_encoder,
    register_encoder,
    registry,
)
from blendsearch.encoders.openclip import parse_open_clip_spec
from blendsearch.exceptions import EncoderError, MissingDependencyError

TEXTS = ["Red shirt", "a blue summer dress for women", "black shoes", "", "white watch for men"]


def _images(n: int) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 255, (80, 60, 3), dtype=np.uint8)) for _ in range(n)]


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-models")
    return {
        "siglip": build_tiny_siglip(root / "siglip"),
        "clip": build_tiny_clip(root / "clip"),
        "siglip2": build_tiny_siglip2(root / "siglip2"),
    }


@pytest.fixture(scope="session")
def encoders(model_dirs: dict[str, Path]) -> dict[str, Encoder]:
    return {kind: load_encoder(str(path), device="cpu") for kind, path in model_dirs.items()}


# -- transformers: SigLIP, SigLIP 2, CLIP ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["siglip", "clip", "siglip2"])
def test_outputs_are_unit_float32_rows(encoders: dict[str, Encoder], kind: str) -> None:
    encoder = encoders[kind]
    assert isinstance(encoder, TransformersEncoder)
    for vectors, n in ((encoder.encode_texts(TEXTS), len(TEXTS)), (encoder.encode_images(_images(3)), 3)):
        assert vectors.dtype == np.float32
        assert vectors.shape == (n, encoder.dim)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("kind", ["siglip", "clip", "siglip2"])
def test_batching_gives_the_vectors_of_one_batch(encoders: dict[str, Encoder], kind: str) -> None:
    encoder = encoders[kind]
    np.testing.assert_allclose(
        encoder.encode_texts(TEXTS, batch_size=2), encoder.encode_texts(TEXTS, batch_size=64), atol=1e-5
    )
    images = _images(5)
    np.testing.assert_allclose(
        encoder.encode_images(images, batch_size=2), encoder.encode_images(images, batch_size=64), atol=1e-5
    )


def test_empty_input_gives_zero_rows(encoders: dict[str, Encoder]) -> None:
    assert encoders["siglip"].encode_texts([]).shape == (0, 32)


@pytest.mark.parametrize(
    ("kind", "dim", "scale", "bias", "loss", "padding", "lowercase", "max_length"),
    [
        (
            "siglip",
            32,
            SIGLIP_LOGIT_SCALE,
            SIGLIP_LOGIT_BIAS,
            "sigmoid",
            "max_length",
            True,
            SIGLIP_MAX_LENGTH,
        ),
        ("clip", 24, CLIP_LOGIT_SCALE, 0.0, "softmax", "longest", False, 20),
    ],
)
def test_model_parameters_are_read_from_the_checkpoint(
    encoders: dict[str, Encoder],
    kind: str,
    dim: int,
    scale: float,
    bias: float,
    loss: str,
    padding: str,
    lowercase: bool,
    max_length: int,
) -> None:
    encoder = encoders[kind]
    assert encoder.dim == dim
    assert encoder.logit_scale == pytest.approx(scale, rel=1e-5)
    assert encoder.logit_bias == pytest.approx(bias, abs=1e-6)
    assert (encoder.loss, encoder.text_padding, encoder.text_lowercase) == (loss, padding, lowercase)
    assert encoder.max_text_length == max_length


def test_siglip_tokenizes_as_trained_max_length_lowercase_no_mask(encoders: dict[str, Encoder]) -> None:
    encoder = encoders["siglip"]
    inputs = encoder._tokenize(["Red Shirt", "a blue summer dress"])
    assert set(inputs) == {"input_ids"}
    assert tuple(inputs["input_ids"].shape) == (2, SIGLIP_MAX_LENGTH)
    assert inputs["input_ids"][0].tolist() == encoder._tokenize(["red shirt"])["input_ids"][0].tolist()
    long_text = " ".join(["red"] * 40)
    assert tuple(encoder._tokenize([long_text])["input_ids"].shape) == (1, SIGLIP_MAX_LENGTH)
    np.testing.assert_array_equal(encoder.encode_texts(["RED SHIRT"]), encoder.encode_texts(["red shirt"]))


def test_clip_pads_to_the_longest_text_with_a_mask(encoders: dict[str, Encoder]) -> None:
    inputs = encoders["clip"]._tokenize(["red shirt", "a blue summer dress"])
    # <bos> words <eos>: 4 and 6 tokens, padded to 6 with a mask that hides the padding.
    assert tuple(inputs["input_ids"].shape) == (2, 6)
    assert inputs["attention_mask"].tolist() == [[1, 1, 1, 1, 0, 0], [1] * 6]


def test_fingerprint_names_type_and_folder_and_follows_the_weights(
    model_dirs: dict[str, Path], encoders: dict[str, Encoder], tmp_path: Path
) -> None:
    fingerprint = encoders["siglip"].fingerprint
    assert fingerprint.startswith(f"hf:siglip:{model_dirs['siglip'].resolve()}@")
    assert load_encoder(str(model_dirs["siglip"]), device="cpu").fingerprint == fingerprint
    copy = shutil.copytree(model_dirs["siglip"], tmp_path / "copy")
    before = load_encoder(str(copy), device="cpu").fingerprint
    weights = copy / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    assert load_encoder(str(copy), device="cpu").fingerprint != before


def test_missing_folder_is_an_encoder_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="no such folder"):
        load_encoder(str(tmp_path / "no-model-here"), device="cpu")


def test_folder_without_a_model_is_an_encoder_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="cannot load model"):
        load_encoder(str(tmp_path), device="cpu")


def test_file_instead_of_folder_is_an_encoder_error(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(EncoderError, match="not a file"):
        load_encoder(str(tmp_path / "model.bin"), device="cpu")


def test_unsupported_model_type_names_the_supported_ones(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(EncoderError, match="'bert' is not a supported dual encoder.*clip, siglip, siglip2"):
        load_encoder(str(tmp_path), device="cpu")


def test_unknown_hub_id_offline_fails_fast_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read at import time
    start = time.perf_counter()
    with pytest.raises(
        EncoderError, match=r"cannot load model 'blendsearch-tests/no-such-model'.*no network\?"
    ):
        load_encoder("hf:blendsearch-tests/no-such-model", device="cpu")
    assert time.perf_counter() - start < 5


def test_siglip_sentencepiece_tokenizer_without_sentencepiece_names_the_package(
    model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """The released SigLIP checkpoints ship only spiece.model; it needs the sentencepiece package."""
    copy = shutil.copytree(model_dirs["siglip"], tmp_path / "spiece")
    (copy / "tokenizer.json").unlink()
    (copy / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "SiglipTokenizer"}))
    if find_spec("sentencepiece"):
        expected, message = EncoderError, "cannot load model"  # installed: fails on the absent spiece.model
    else:
        expected, message = MissingDependencyError, "sentencepiece is required"
    with pytest.raises(expected, match=message):
        load_encoder(str(copy), device="cpu")


def test_unknown_dtype_is_an_encoder_error(model_dirs: dict[str, Path]) -> None:
    with pytest.raises(EncoderError, match="unknown dtype 'float9'"):
        TransformersEncoder(str(model_dirs["clip"]), dtype="float9")


def test_importing_the_package_and_cli_does_not_import_torch() -> None:
    code = (
        "import sys, blendsearch.encoders, blendsearch.cli;"
        "print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# -- open_clip -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("ViT-B-32/laion2b_s34b_b79k", ("ViT-B-32", "laion2b_s34b_b79k")),
        ("ViT-B-32//models/ckpt.pt", ("ViT-B-32", "/models/ckpt.pt")),
        ("hf-hub:timm/ViT-B-16-SigLIP", ("hf-hub:timm/ViT-B-16-SigLIP", None)),
        ("local-dir:/models/siglip", ("local-dir:/models/siglip", None)),
    ],
)
def test_open_clip_spec_parsing(spec: str, expected: tuple[str, str | None]) -> None:
    assert parse_open_clip_spec(spec) == expected


@pytest.mark.parametrize("spec", ["ViT-B-32", "ViT-B-32/", "/openai"])
def test_open_clip_spec_without_weights_is_an_error(spec: str) -> None:
    with pytest.raises(EncoderError, match="ARCHITECTURE/PRETRAINED"):
        parse_open_clip_spec(spec)


def test_open_clip_missing_gives_the_pip_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "open_clip", None)  # makes `import open_clip` raise ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'blendsearch\[open-clip\]'"):
        load_encoder("open_clip:ViT-B-32/laion2b_s34b_b79k", device="cpu")


def _stub_open_clip(calls: list) -> types.ModuleType:
    """A stand-in for the open_clip API the wrapper uses: a SigLIP-like model (it has a logit bias)."""
    import torch

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.token_embedding = torch.nn.Embedding(128, 8)
            self.visual = torch.nn.Linear(4 * 4 * 3, 8)
            self.logit_scale = torch.nn.Parameter(torch.tensor(math.log(10.0)))
            self.logit_bias = torch.nn.Parameter(torch.tensor(-10.0))

        def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.token_embedding(tokens).mean(dim=1)

        def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
            return self.visual(pixels.flatten(1))

    def tokenizer(texts: list[str]) -> torch.Tensor:
        calls.append(("tokenize", list(texts)))
        ids = [[ord(c) % 128 for c in text][:12] + [0] * (12 - len(text[:12])) for text in texts]
        return torch.tensor(ids, dtype=torch.long)

    tokenizer.context_length = 12

    def preprocess(image: Image.Image) -> torch.Tensor:
        return torch.from_numpy(np.asarray(image.resize((4, 4)), dtype=np.float32) / 255.0).permute(2, 0, 1)

    def create_model_from_pretrained(model_name: str, pretrained: str | None = None, device: str = "cpu"):
        calls.append(("create", model_name, pretrained, device))
        if pretrained == "missing":
            raise RuntimeError(f"Pretrained weights ({pretrained}) not found for model {model_name}.")
        return Model(), preprocess

    module = types.ModuleType("open_clip")
    module.create_model_from_pretrained = create_model_from_pretrained
    module.get_tokenizer = lambda model_name: tokenizer
    return module


def test_open_clip_wrapper_on_a_stub(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list = []
    monkeypatch.setitem(sys.modules, "open_clip", _stub_open_clip(calls))
    encoder = load_encoder("open_clip:ViT-B-16-SigLIP/webli", batch_size=2, device="cpu")
    assert isinstance(encoder, OpenClipEncoder)
    assert calls[0] == ("create", "ViT-B-16-SigLIP", "webli", "cpu")
    assert (encoder.dim, encoder.loss, encoder.max_text_length) == (8, "sigmoid", 12)
    assert encoder.logit_scale == pytest.approx(10.0)
    assert encoder.logit_bias == pytest.approx(-10.0)
    assert encoder.fingerprint == "open_clip:ViT-B-16-SigLIP/webli"
    texts = encoder.encode_texts(["Red Shirt", "blue dress", "bag"])
    assert ("tokenize", ["red shirt", "blue dress"]) in calls  # SigLIP text is lower-cased, batched by 2
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    images = _images(3)
    np.testing.assert_allclose(
        encoder.encode_images(images), encoder.encode_images(images, batch_size=64), atol=1e-6
    )


def test_open_clip_load_failure_is_an_encoder_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "open_clip", _stub_open_clip([]))
    with pytest.raises(
        EncoderError, match=r"cannot load open_clip model 'ViT-B-32/missing': Pretrained weights"
    ):
        load_encoder("open_clip:ViT-B-32/missing", device="cpu")


def test_open_clip_real_tiny_checkpoint(tmp_path: Path) -> None:
    try:
        import open_clip
    except ImportError as exc:
        pytest.skip(f"open_clip cannot be imported: {exc!r}")
    import torch

    config = {
        "embed_dim": 16,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "head_width": 16, "patch_size": 8},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
    }
    (tmp_path / "blendsearch-tiny.json").write_text(json.dumps(config))
    open_clip.add_model_config(tmp_path / "blendsearch-tiny.json")
    model = open_clip.create_model("blendsearch-tiny")
    with torch.no_grad():
        model.logit_scale.fill_(math.log(30.0))
    torch.save(model.state_dict(), tmp_path / "tiny.pt")

    encoder = load_encoder(f"open_clip:blendsearch-tiny/{tmp_path / 'tiny.pt'}", batch_size=2, device="cpu")
    assert (encoder.dim, encoder.loss, encoder.max_text_length) == (16, "softmax", 16)
    assert encoder.logit_scale == pytest.approx(30.0, rel=1e-5)
    texts = encoder.encode_texts(TEXTS)
    assert texts.shape == (len(TEXTS), 16)
    np.testing.assert_allclose(texts, encoder.encode_texts(TEXTS, batch_size=64), atol=1e-5)
    assert encoder.encode_images(_images(3)).shape == (3, 16)


# -- HashEncoder and the registry ----------------------------------------------------------------------


def test_hash_encoder_is_deterministic() -> None:
    first, second = HashEncoder(dim=16), load_encoder("hash:16")
    np.testing.assert_array_equal(first.encode_texts(TEXTS), second.encode_texts(TEXTS))
    np.testing.assert_array_equal(first.encode_images(_images(2)), second.encode_images(_images(2)))
    vectors = first.encode_texts(["red shirt", "red shirt", "blue dress"])
    np.testing.assert_array_equal(vectors[0], vectors[1])
    assert not np.allclose(vectors[0], vectors[2])
    assert second.fingerprint == "hash:16"


def test_a_third_party_scheme_registers_like_the_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))  # undone after the test
    seen: list = []

    class ToyEncoder(HashEncoder):
        name = "toy"

    def factory(spec: str, batch_size: int, device: str) -> Encoder:
        seen.append((spec, batch_size, device))
        return ToyEncoder(dim=int(spec), batch_size=batch_size)

    register_encoder("toy", factory)
    encoder = load_encoder("toy:12", batch_size=3, device="cpu")
    assert isinstance(encoder, ToyEncoder)
    assert seen == [("12", 3, "cpu")]
    assert encoder.encode_texts(["red shirt"]).shape == (1, 12)
    assert {"toy", "hash", "hf", "open_clip", "blendsearch"} <= set(available_encoders())


class _ThreadProbe(Encoder):
    """Records torch's thread count while it encodes."""

    name, dim = "probe", 2

    def __init__(self) -> None:
        super().__init__(batch_size=2)
        self.seen: list[int] = []

    def _encode_image_batch(self, images: list) -> np.ndarray:
        return self._encode_text_batch([""] * len(images))

    def _encode_text_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        self.seen.append(torch.get_num_threads())
        return np.ones((len(texts), self.dim))


def test_threads_apply_while_encoding_and_are_restored_after() -> None:
    import torch

    before = torch.get_num_threads()
    probe = _ThreadProbe()
    probe.threads = 1
    probe.encode_texts(["a", "b", "c"])
    assert probe.seen == [1, 1] and torch.get_num_threads() == before
    probe.threads = None  # torch's own setting
    probe.encode_texts(["a"])
    assert probe.seen[-1] == before
    probe.threads = "auto"
    assert 1 <= probe.threads <= (os.cpu_count() or 1)
    with pytest.raises(ValueError, match="threads must be"):
        probe.threads = 0
