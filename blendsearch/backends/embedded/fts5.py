"""BM25 on SQLite's FTS5 table (``lexical="fts5"``, or when tantivy is not installed)."""

from __future__ import annotations

import sqlite3

from blendsearch.backends.base import LexicalRequest
from blendsearch.search_fields import LEXICAL_FIELDS
from blendsearch.text import stem, words

__all__ = ["fts5_ranked", "match_expression"]

#: With several clauses each SQL query returns this many times k, so the Python merge rarely misses
#: a document that is strong in the sum but not in any single clause's top k.
CLAUSE_OVERFETCH = 4


def match_expression(text: str, columns: list[str]) -> str | None:
    """FTS5 MATCH text: the clause's words OR-ed, each quoted, restricted to ``columns``.

    Words are passed unstemmed (FTS5's porter stems them as it stemmed the indexed text); words with
    the same stem are sent once so a clause never counts one term twice.
    """
    by_stem: dict[str, str] = {}
    for word in words(text):
        by_stem.setdefault(stem(word), word)
    if not by_stem:
        return None
    terms = " OR ".join('"' + w.replace('"', '""') + '"' for w in by_stem.values())
    return "{" + " ".join(columns) + "} : (" + terms + ")"


def fts5_ranked(
    conn: sqlite3.Connection, request: LexicalRequest, allowed_table: str | None
) -> list[tuple[int, float]]:
    """(doc_key, score) best first: FTS5 ``bm25()`` with the field boosts as column weights, one SQL query
    per clause, summed by clause weight; the ties at the k-th score are kept (ids break them)."""
    weights = [max(float(request.fields.get(name, 0.0)), 0.0) for name in LEXICAL_FIELDS]
    columns = [name for name, weight in zip(LEXICAL_FIELDS, weights, strict=True) if weight > 0]
    queries = [
        (expression, clause.weight)
        for clause in request.clauses
        if clause.weight > 0 and (expression := match_expression(clause.text, columns)) is not None
    ]
    if not columns or not queries:
        return []
    limit = request.k if len(queries) == 1 else request.k * CLAUSE_OVERFETCH
    # No join with docs here: FTS5 sorts rowids, ids are looked up for the winners only. The unary
    # ``+`` keeps SQLite from pushing the rowid list into FTS5 (one full-text query per allowed id).
    marks = ", ".join("?" * len(weights))
    sql = (
        f"SELECT rowid, -bm25(fts, {marks}) AS score FROM fts WHERE fts MATCH ?"
        + (f" AND +rowid IN (SELECT doc_key FROM temp.{allowed_table})" if allowed_table else "")
        + " ORDER BY score DESC, rowid LIMIT ?"
    )
    by_key: dict[int, float] = {}
    for expression, clause_weight in queries:
        for key, score in conn.execute(sql, [*weights, expression, limit]):
            by_key[key] = by_key.get(key, 0.0) + clause_weight * score
    ranked = sorted(by_key.items(), key=lambda kv: -kv[1])
    if len(ranked) > request.k:  # keep the ties at the cut, so ids break them as MemoryBackend does
        cut = ranked[request.k - 1][1]
        ranked = [kv for kv in ranked if kv[1] >= cut]
    return ranked
