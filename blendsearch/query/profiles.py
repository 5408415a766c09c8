"""Built-in fusion settings for each kind of catalogue, picked by the index's share of image-only products.

One blend cannot serve every catalogue: where every product has a title, BM25 finds what the words say
and the vectors mostly add noise; where products were indexed from their photo alone, the image vector
is the only channel that sees them. So the defaults are three profiles, each fitted like ``tune --auto``
on generated queries in catalogue and mixed wording against a catalogue of that kind (the fashion train
split indexed full, sparse (41% image-only) and from images only; ``benchmarks/choose_defaults.py``,
figures in docs/fusion.md), and an index with ``SearchSettings.fusion_profile="auto"`` blends with the
profile whose image-only share is nearest its own. The share is counted by the backend
(:meth:`~blendsearch.backends.base.Backend.count_with_user_text`); a backend that cannot count it keeps
the settings' own fields, the single setting fitted across all three kinds.
"""

from __future__ import annotations

from pydantic import BaseModel

from blendsearch.config import SearchSettings

__all__ = ["FUSION_PROFILES", "FusionProfile", "profile_for", "resolve_fusion"]


class FusionProfile(BaseModel):
    """A blend fitted on one kind of catalogue."""

    name: str
    #: The share of image-only products of the catalogue it was fitted on.
    image_only_share: float
    weights: dict[str, float]
    normalisation: str
    combination: str
    rrf_k: float


#: Fitted on the fashion train split (``benchmarks/results/defaults-choice.json``, ``profiles``).
FUSION_PROFILES: tuple[FusionProfile, ...] = (
    FusionProfile(  # every product has text: the words decide, the vectors break their ties
        name="full",
        image_only_share=0.0,
        weights={"bm25": 0.5, "metadata": 2.0, "vector_image": 0.25, "vector_text": 0.25},
        normalisation="zscore",
        combination="weighted_mean",
        rrf_k=60.0,
    ),
    FusionProfile(  # the image vector is the only channel that finds the image-only products
        name="sparse",
        image_only_share=0.41,
        weights={"bm25": 0.5, "metadata": 0.25, "vector_image": 0.25, "vector_text": 0.0},
        normalisation="minmax",
        combination="rrf",
        rrf_k=30.0,
    ),
    # No catalogue text: the image vector, with the generated colours and tags. bm25 found nothing in
    # the fitted catalogue, so its weight was not fitted; 0.25 keeps the few titles of a mostly-image
    # catalogue searchable (where bm25 returns nothing it changes no ranking).
    FusionProfile(
        name="images",
        image_only_share=1.0,
        weights={"bm25": 0.25, "metadata": 0.5, "vector_image": 2.0, "vector_text": 0.25},
        normalisation="minmax",
        combination="weighted_mean",
        rrf_k=60.0,
    ),
)


def profile_for(image_only_share: float) -> FusionProfile:
    """The profile fitted on the kind of catalogue nearest this share of image-only products."""
    return min(FUSION_PROFILES, key=lambda p: abs(p.image_only_share - image_only_share))


def resolve_fusion(settings: SearchSettings, image_only_share: float | None) -> SearchSettings:
    """The settings a text query searches with: ``settings`` with its profile's blend under ``"auto"``.

    ``image_only_share`` None (unknown, an empty index, or a query with an image: the profiles were
    fitted on text queries and weight the image vector, the only channel that reads a query image,
    little or not at all) keeps the settings' own blend."""
    if settings.fusion_profile != "auto" or image_only_share is None:
        return settings
    profile = profile_for(image_only_share)
    blend = {"weights": dict(profile.weights), "normalisation": profile.normalisation}
    blend |= {"combination": profile.combination, "rrf_k": profile.rrf_k}
    return settings.model_copy(update=blend)
