"""What query expansion returns: the clauses to search, the text to embed, and why, stage by stage."""

from __future__ import annotations

from pydantic import BaseModel, Field

from blendsearch.backends.base import QueryClause

__all__ = ["Expansion", "QuerySignals", "StageReport"]


class StageReport(BaseModel):
    """One stage's input and output text, with a "why" line per change (or why nothing changed).

    Text stages (``normalise``, ``typos``) output the rewritten query; expansion stages (``synonyms``,
    ``wordnet``, ``colours``) output the terms they added, comma-separated.
    """

    name: str
    input: str
    output: str
    notes: list[str] = Field(default_factory=list)


class QuerySignals(BaseModel):
    """How much of a query's wording the index knew: query-level evidence for the fused calibration.

    Per-hit scores cannot tell a query in the catalogue's words from one in other words (synonyms, typos,
    shades), whose hits match less often at the same fused score; these counts can. ``words`` counts the
    user's content words (folded, stopwords and added compounds left out); ``known`` those the index
    vocabulary held as typed (or as their singular/plural), before typo correction; ``corrected`` those
    typo correction changed; ``expansions`` the expansion clauses searched besides the user's words.
    """

    words: int = 0
    known: int = 0
    corrected: int = 0
    expansions: int = 0


class Expansion(BaseModel):
    """An expanded query.

    ``clauses[0]`` is the user's own words (normalised, typo-corrected) with weight 1.0; each expansion is a
    further clause weighted ``ExpansionSettings.expansion_weight``. ``vector_text`` is what the vector
    channels embed: the user's words, folded and typo-corrected, then the searched expansions' words.
    """

    original: str
    clauses: list[QueryClause] = Field(default_factory=list)
    vector_text: str = ""
    stages: list[StageReport] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    #: The query's wording against the index vocabulary (None where no vocabulary was consulted).
    signals: QuerySignals | None = None
