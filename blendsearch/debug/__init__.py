"""Score debugging: why does a query score candidates the way it does, and what looks wrong?"""

from blendsearch.debug.format import format_report, plot_report
from blendsearch.debug.models import CandidateScore, DebugReport, GroupStats
from blendsearch.debug.report import debug_scores

__all__ = ["CandidateScore", "DebugReport", "GroupStats", "debug_scores", "format_report", "plot_report"]
