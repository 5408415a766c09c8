"""What query expansion returns: the clauses to search, the text to embed, and why, stage by stage."""

from __future__ import annotations

from pydantic import BaseModel, Field

from blendsearch.backends.base import QueryClause

__all__ = ["Expansion", "StageReport"]


class StageReport(BaseModel):
    """One stage's input and output text, with a "why" line per change (or why nothing changed).

    Text stages (``normalise``, ``typos``) output the rewritten query; expansion stages (``synonyms``,
    ``wordnet``, ``colours``) output the terms they added, comma-separated.
    """

    name: str
    input: str
    output: str
    notes: list[str] = Field(default_factory=list)


class Expansion(BaseModel):
    """An expanded query.

    ``clauses[0]`` is the user's own words (normalised, typo-corrected) with weight 1.0; each expansion is a
    further clause weighted ``ExpansionSettings.expansion_weight``. ``vector_text`` is what the vector
    channels embed: the user's words, folded and typo-corrected, without synonyms.
    """

    original: str
    clauses: list[QueryClause] = Field(default_factory=list)
    vector_text: str = ""
    stages: list[StageReport] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
