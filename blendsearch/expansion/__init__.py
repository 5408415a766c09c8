"""Query expansion: normalisation, typo correction, synonyms, WordNet and colour shades, stage by stage.

expander = Expander(engine.config.expansion, engine.vocabulary())
expansion = expander.expand("navy slacks", {"wordnet": False})
expansion.clauses      # [QueryClause("navy slacks", 1.0), QueryClause("trousers", 0.5), ...]
"""

from blendsearch.expansion.expander import STAGES, Expander, unexpanded
from blendsearch.expansion.models import Expansion, StageReport
from blendsearch.expansion.synonyms import load_synonyms, parse_synonyms

__all__ = ["STAGES", "Expander", "Expansion", "StageReport", "load_synonyms", "parse_synonyms", "unexpanded"]
