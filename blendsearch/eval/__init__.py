"""Evaluation: judged query sets, retrieval metrics, pair retrieval, fusion tuning and the benchmarks.

Modules (import what you need; nothing heavy loads at import):

- :mod:`~blendsearch.eval.metrics`     graded nDCG, recall, MRR, pair retrieval (pure numpy)
- :mod:`~blendsearch.eval.judgements`  query files and gains from a catalogue's TRUE fields
- :mod:`~blendsearch.eval.queries`     generators of tuning and "unlike the catalogue" query sets
- :mod:`~blendsearch.eval.wordlists`   the evaluation's own synonyms, shades and phrasings
- :mod:`~blendsearch.eval.retrieval`   scoring a query set's ranked results, per category
- :mod:`~blendsearch.eval.pairs`       title <-> image retrieval over an index's vectors
- :mod:`~blendsearch.eval.tune`        fitting blend weights and fusion offline
- :mod:`~blendsearch.eval.bench`       the quality and ingest benchmarks
- :mod:`~blendsearch.eval.plots`       PNG figures (matplotlib, lazily)
"""

__all__: list[str] = []
