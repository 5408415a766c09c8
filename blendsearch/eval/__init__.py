"""Evaluation: judged query sets, retrieval metrics, pair retrieval, fusion tuning and the benchmarks.

Modules (import what you need; nothing heavy loads at import):

- :mod:`~blendsearch.eval.metrics`     graded nDCG, recall, MRR, pair retrieval (pure numpy)
- :mod:`~blendsearch.eval.judgements`  query files and gains from a catalogue's TRUE fields
- :mod:`~blendsearch.eval.queries`     generators of tuning and "unlike the catalogue" query sets
- :mod:`~blendsearch.eval.wordlists`   the evaluation's own synonyms, shades and phrasings
- :mod:`~blendsearch.eval.retrieval`   scoring a query set's ranked results, per category
- :mod:`~blendsearch.eval.pairs`       title <-> image retrieval over an index's vectors
- :mod:`~blendsearch.eval.tune`        fitting blend weights and fusion offline
- :mod:`~blendsearch.eval.bench_cache` the benchmarks' cached default model and index folders
- :mod:`~blendsearch.eval.conditions`  catalogue conditions (full, sparse, images) and index building
- :mod:`~blendsearch.eval.bench`       the quality benchmark (and the one import for both benchmarks)
- :mod:`~blendsearch.eval.bench_ingest` the ingest throughput and query latency benchmark
- :mod:`~blendsearch.eval.plots`       PNG figures (matplotlib, lazily)
"""

__all__: list[str] = []
