"""Fusion settings pinned for tests whose expected values depend on them, not on the library defaults.

The built-in defaults (:class:`blendsearch.config.SearchSettings`) are chosen on generated queries and may
change; tests of fusion maths, request bodies, debug output or tuning mechanics, and tests that need all
four channels, pin these instead so their exact expectations stay meaningful. Import with
``from pinned_settings import ...`` (tests/ is on sys.path under pytest's default import mode).
"""

from __future__ import annotations

from typing import Any

from blendsearch.config import SearchSettings

__all__ = [
    "FOUR_CHANNEL_COMBINATION",
    "FOUR_CHANNEL_IMAGE_FEEDBACK",
    "FOUR_CHANNEL_NORMALISATION",
    "FOUR_CHANNEL_WEIGHTS",
    "four_channel_cli_args",
    "four_channel_search",
    "four_channel_search_fields",
]

#: Every channel weighted (vector_text included), so every channel runs.
FOUR_CHANNEL_WEIGHTS: dict[str, float] = {
    "bm25": 1.0,
    "metadata": 0.5,
    "vector_image": 1.0,
    "vector_text": 0.5,
}
FOUR_CHANNEL_COMBINATION = "weighted_mean"
FOUR_CHANNEL_NORMALISATION = "minmax"
#: Image feedback off: the pinned expectations are of the four channels' own candidates (feedback has
#: tests of its own, tests/test_image_feedback.py).
FOUR_CHANNEL_IMAGE_FEEDBACK = 0


def four_channel_search_fields() -> dict[str, Any]:
    """SearchSettings fields for all four channels, min-max normalised and weighted-mean combined, no
    image feedback.

    A fresh dict each call, so a test may override or add fields without touching another's.
    """
    return {
        "weights": dict(FOUR_CHANNEL_WEIGHTS),
        "normalisation": FOUR_CHANNEL_NORMALISATION,
        "combination": FOUR_CHANNEL_COMBINATION,
        "image_feedback": FOUR_CHANNEL_IMAGE_FEEDBACK,
    }


def four_channel_search(**overrides: Any) -> SearchSettings:
    """SearchSettings with all four channels pinned (see :func:`four_channel_search_fields`)."""
    return SearchSettings(**{**four_channel_search_fields(), **overrides})


def four_channel_cli_args() -> list[str]:
    """The same pinned fusion as ``blendsearch search`` options (``--weight``, normalisation, combination)."""
    weights = [arg for name, w in FOUR_CHANNEL_WEIGHTS.items() for arg in ("--weight", f"{name}={w}")]
    return [
        *weights,
        "--normalisation",
        FOUR_CHANNEL_NORMALISATION,
        "--combination",
        FOUR_CHANNEL_COMBINATION,
        "--image-feedback",
        str(FOUR_CHANNEL_IMAGE_FEEDBACK),
    ]
