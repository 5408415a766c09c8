"""Zero-shot tags (pure numpy over given vectors) and the generated description."""

from __future__ import annotations

import numpy as np
import pytest

from blendsearch.enrichment.describe import describe
from blendsearch.enrichment.tags import default_tag_vocabulary, tag_prompts, zero_shot_tags
from blendsearch.scoring import sigmoid

TAGS = ["Shirts", "Shoes", "Watches"]
TAG_VECTORS = np.eye(3, dtype=np.float32)


def test_tag_prompts_lower_case_the_tag() -> None:
    assert tag_prompts(["Casual Shoes", " Watches "]) == ["a photo of casual shoes", "a photo of watches"]
    assert tag_prompts(["Tops"], template="{tag}, product photo") == ["tops, product photo"]
    with pytest.raises(ValueError, match="must contain"):
        tag_prompts(["x"], template="a photo")


def test_zero_shot_tags_threshold_order_and_probabilities() -> None:
    images = np.array([[0.8, 0.6, 0.0], [0.0, 0.0, 1.0], [0.6, 0.0, -0.8]])
    tags, scores = zero_shot_tags(images, TAG_VECTORS, TAGS, scale=10.0, bias=-5.0, threshold=0.5, max_tags=3)
    # probabilities: sigmoid(10 * cos - 5)
    assert tags == [["Shirts", "Shoes"], ["Watches"], ["Shirts"]]
    assert scores[0] == pytest.approx({"Shirts": float(sigmoid(3.0)), "Shoes": float(sigmoid(1.0))})
    assert scores[1] == pytest.approx({"Watches": float(sigmoid(5.0))})
    assert scores[2] == pytest.approx({"Shirts": float(sigmoid(1.0))})
    assert list(scores[0]) == ["Shirts", "Shoes"]


def test_zero_shot_tags_max_tags_and_temperature() -> None:
    images = np.array([[0.8, 0.6, 0.0]])
    tags, _ = zero_shot_tags(images, TAG_VECTORS, TAGS, scale=10.0, bias=-5.0, threshold=0.5, max_tags=1)
    assert tags == [["Shirts"]]
    # A temperature of 4 flattens the logits: sigmoid(1/4) = 0.562 stays, sigmoid(-5/4) drops.
    tags, scores = zero_shot_tags(
        images, TAG_VECTORS, TAGS, scale=10.0, bias=-5.0, threshold=0.56, max_tags=3, temperature=4.0
    )
    assert tags == [["Shirts", "Shoes"]]
    assert scores[0] == pytest.approx({"Shirts": float(sigmoid(0.75)), "Shoes": float(sigmoid(0.25))})


def test_zero_shot_tags_edge_cases() -> None:
    none, none_scores = zero_shot_tags(np.zeros((2, 3)), TAG_VECTORS, TAGS, 10.0, -5.0, 0.5, 0)
    assert (none, none_scores) == ([[], []], [{}, {}])
    empty, _ = zero_shot_tags(np.zeros((0, 3)), TAG_VECTORS, TAGS, 10.0, -5.0, 0.5, 3)
    assert empty == []
    nothing, _ = zero_shot_tags(np.zeros((1, 3)), TAG_VECTORS, TAGS, 10.0, -5.0, 0.99, 3)
    assert nothing == [[]]
    with pytest.raises(ValueError, match="3 tag vectors for 2 tags"):
        zero_shot_tags(np.zeros((1, 3)), TAG_VECTORS, TAGS[:2], 10.0, -5.0, 0.5, 3)
    with pytest.raises(ValueError, match="shapes do not fit"):
        zero_shot_tags(np.zeros((1, 4)), TAG_VECTORS, TAGS, 10.0, -5.0, 0.5, 3)


def test_default_tag_vocabulary_dedupes_case_insensitively() -> None:
    values = {
        "articleType": ["Shirts", "shirts ", "Casual  Shoes", ""],
        "usage": ["Sports", "Casual Shoes", "casual"],
    }
    vocabulary = default_tag_vocabulary(values)
    assert vocabulary == ["casual", "Casual Shoes", "Shirts", "Sports"]


@pytest.mark.parametrize(
    ("colours", "tags", "expected"),
    [
        (["Navy Blue"], ["Shirts"], "navy blue shirts"),
        (["Black", "White"], ["Casual Shoes", "Sports"], "black and white casual shoes, sports"),
        (["Red", "red", "Blue", "Green"], [], "red, blue and green"),
        ([], ["Tshirts", "Casual"], "tshirts, casual"),
        (["Black"], ["black", "Watches"], "black watches"),
        ([], [], ""),
    ],
)
def test_describe(colours: list[str], tags: list[str], expected: str) -> None:
    assert describe(colours, tags) == expected
