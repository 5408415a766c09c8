"""BM25F: every backend scores a lexical channel's fields as one combined field.

Per clause and distinct query stem ``t`` (the clause weight multiplies the sum of its terms' scores):

    tf~(t, d) = sum_f w_f * tf_f(t, d)        dl~(d) = sum_f w_f * dl_f(d)        avgdl~ = mean_d dl~(d)
    idf(t)    = ln(1 + (N - n + 0.5) / (n + 0.5)),  n = documents with t in any of the fields, N = all
    score     = idf(t) * tf~ * (k1 + 1) / (tf~ + k1 * (1 - b + b * dl~ / avgdl~)),  k1 = 1.2, b = 0.75

This is the "simple BM25F" of Robertson & Zaragoza, *The Probabilistic Relevance Framework: BM25 and
Beyond* (2009), section 3.7, with Lucene's always-positive IDF: what Lucene's ``CombinedFieldQuery``
(the ``combined_fields`` query of Elasticsearch >= 7.13 and OpenSearch >= 3.2) computes, and close to
FTS5's ``bm25()`` with column weights. Summing per-field BM25 instead (``most_fields``) credits a common
attribute word ("casual", "sports") once per field it appears in, so "casual deodorant" found Casual
Shoes; on the fashion benchmark BM25F ranks better (docs/embedded-backend.md).

The weights are the channel's field boosts made integers (:func:`field_weights`): Lucene refuses
combined-field weights below 1, and the embedded backend builds the combined field by repeating each
field's tokens ``w_f`` times.

The weights' scale is not neutral: multiplying every ``w_f`` by ``c`` scales tf~ and dl~ but not
dl~ / avgdl~, which is dividing k1 by ``c``. :func:`field_weights` raises the smallest boost to 1, so one
field boosted below the others (``generated: 0.5``) doubles every other field's tf and halves the
channel's effective k1: tf saturates sooner and document length counts less. FTS5's ``bm25()`` takes the
boosts unscaled, so it matches BM25F only when the smallest boost is 1. On the fashion benchmark's
``images`` condition this alone took the ``metadata`` channel from nDCG@10 0.383 (FTS5, boosts 1/1/1/0.5)
to 0.361 (weights 2/2/2/1; FTS5 with boosts 2/2/2/1 gives 0.360): a long tag matching one rare query word
("Casual Shoes" for "casual socks men") then outranks the short exact-kind documents.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["K1", "B", "MAX_SCALE", "field_weights"]

K1, B = 1.2, 0.75
#: The largest multiplier tried to make the boost ratios integers (ratios finer than 1/MAX_SCALE round).
MAX_SCALE = 10
_TOLERANCE = 1e-6


def field_weights(fields: Mapping[str, float]) -> dict[str, int]:
    """The integer BM25F weight of each field with a positive boost: the boosts divided by the smallest,
    times the smallest multiplier <= MAX_SCALE that makes every ratio whole (else the ratios x MAX_SCALE,
    rounded). ``{"title": 2, "description": 1}`` stays as it is; ``{"tags": 1, "generated": 0.5}`` gives
    ``{"tags": 2, "generated": 1}``. Only the boosts' ratios matter here, but the weights' scale then
    acts as 1 / k1 (module docstring): boosts that are integers >= 1 with smallest 1 are used as given."""
    positive = {name: float(boost) for name, boost in fields.items() if boost > 0}
    if not positive:
        return {}
    smallest = min(positive.values())
    ratios = {name: boost / smallest for name, boost in positive.items()}
    for scale in range(1, MAX_SCALE + 1):
        scaled = {name: ratio * scale for name, ratio in ratios.items()}
        if all(abs(value - round(value)) < _TOLERANCE for value in scaled.values()):
            return {name: round(value) for name, value in scaled.items()}
    return {name: max(1, round(ratio * MAX_SCALE)) for name, ratio in ratios.items()}
