"""Image feedback: the photos of a text query's best word matches sharpen its image-vector search.

A text query reaches an image-only product through one channel: the text->image cosine, which a small
model ranks loosely. The products the words DID match show what the shopper wants to see, so their photos
make a second, sharper query for the photos the words cannot reach (pseudo-relevance feedback in the
Rocchio way, across modalities). So when a text query runs the image-vector channel beside a lexical one,
the lexical channels run first; their best ``SearchSettings.image_feedback`` products WITH catalogue text
(a match on generated colours or tags is the model's own guess, not evidence) lend the mean of their
image vectors, and the channel searches with ``normalise(text + image_feedback_weight *
normalise(mean))``. Its raw scores are then cosines to that blended vector (``blendsearch debug-scores`` still
shows the plain text->image cosines).

Fashion test index, sparse condition (41% image-only), shipped profile, expansion on, nDCG@10 / Recall@100
without -> with (5 products, weight 1): dev 0.945 / 0.726 -> 0.944 / 0.733, unlike wording 0.741 / 0.612 ->
0.755 / 0.656, hand-written shopper wording 0.789 / 0.602 -> 0.813 / 0.641; full condition +0.002 to +0.006
nDCG@10. Both numbers were chosen on the train split's generated queries (``benchmarks/image_feedback.py``,
docs/fusion.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from blendsearch.backends.base import Backend, ChannelRequest, ChannelResult, LexicalRequest, VectorRequest
from blendsearch.config import SearchSettings
from blendsearch.encoders.base import l2_normalise
from blendsearch.query.hybrid import QueryRun, fuse_arrays
from blendsearch.query.models import HybridQuery
from blendsearch.search_fields import USER_TEXT_FIELDS, present_fields

__all__ = ["feedback_photos", "feedback_vector", "retrieve"]

#: How many lexical candidates, per wanted feedback product, are read to find ones with catalogue text.
_LOOKAHEAD = 4


def _feedback_request(
    requests: Sequence[ChannelRequest], settings: SearchSettings
) -> tuple[int, VectorRequest] | None:
    """The image-vector request feedback would sharpen, with its position; None where it does not apply."""
    if settings.image_feedback <= 0 or settings.image_feedback_weight <= 0:
        return None
    if not any(isinstance(r, LexicalRequest) for r in requests):
        return None
    for position, request in enumerate(requests):
        if isinstance(request, VectorRequest) and request.channel == "vector_image":
            return position, request
    return None


def feedback_photos(
    results: Sequence[ChannelResult], settings: SearchSettings, backend: Backend, count: int
) -> tuple[list[str], list[np.ndarray]]:
    """The best ``count`` products of the lexical ``results`` (fused with ``settings``) that have catalogue
    text and an image vector, with those vectors: one ``get`` of the first ``count * 4`` candidates."""
    # Fused as search fuses them (the query object is only a carrier: fusion reads settings and results).
    run = QueryRun(query=HybridQuery(text="feedback"), settings=settings, results=list(results))
    candidates = fuse_arrays(run).ids[: count * _LOOKAHEAD]
    if not candidates:
        return [], []
    found = {doc.id: doc for doc in backend.get(candidates, with_vectors=True)}
    wanted = set(USER_TEXT_FIELDS)
    usable = [
        found[i]
        for i in candidates
        if i in found and found[i].image_vector is not None and wanted & present_fields(found[i])
    ][:count]
    return [doc.id for doc in usable], [np.asarray(doc.image_vector) for doc in usable]


def feedback_vector(text_vector: np.ndarray, images: Sequence[np.ndarray], weight: float) -> np.ndarray:
    """``normalise(normalise(text) + weight * normalise(mean(images)))``; the text vector alone without
    images."""
    text = l2_normalise(np.asarray(text_vector, dtype=np.float32))
    if not images:
        return text
    mean = l2_normalise(np.mean(np.stack(images).astype(np.float32), axis=0))
    return l2_normalise(text + np.float32(weight) * mean)


def retrieve(
    backend: Backend, query: HybridQuery, requests: Sequence[ChannelRequest], settings: SearchSettings
) -> tuple[list[ChannelResult], list[ChannelRequest], list[str]]:
    """Answer a query's channel requests, with image feedback where it applies (a query with text and no
    image: an image query's vector already is a photo).

    Returns the results (in request order), the requests as sent (the image-vector one with its blended
    vector) and the ids whose photos fed it (empty: no feedback).
    """
    text_query = bool(query.text and query.text.strip()) and query.image is None
    target = _feedback_request(requests, settings) if text_query else None
    if target is None:
        return (backend.search(requests) if requests else []), list(requests), []
    position, request = target
    lexical = [r for r in requests if isinstance(r, LexicalRequest)]
    lexical_results = backend.search(lexical)
    ids, images = feedback_photos(lexical_results, settings, backend, settings.image_feedback)
    sent = list(requests)
    if images:
        vector = feedback_vector(request.vector, images, settings.image_feedback_weight)
        sent[position] = request.model_copy(update={"vector": vector})
    others = [r for r in sent if not isinstance(r, LexicalRequest)]
    answered = iter(lexical_results), iter(backend.search(others))
    results = [next(answered[0]) if isinstance(r, LexicalRequest) else next(answered[1]) for r in sent]
    return results, sent, ids if images else []
