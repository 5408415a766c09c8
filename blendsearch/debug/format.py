"""Terminal table and histogram of a :class:`~blendsearch.debug.models.DebugReport`."""

from __future__ import annotations

from pathlib import Path

from blendsearch._types import PathInput
from blendsearch.debug.models import CandidateScore, DebugReport

__all__ = ["format_report", "plot_report"]

_LABEL_WIDTH = 44


def _num(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _channels(row: CandidateScore) -> str:
    parts = []
    for name, score in row.channels.items():
        raw = "unseen" if score.unseen else "-" if score.raw is None else f"{score.raw:.3g}"
        parts.append(f"{name} {raw}/{_num(score.normalised, 2)}/+{score.contribution:.3f}")
    return "  ".join(parts)


def format_report(report: DebugReport) -> str:
    """The report as a plain-text table per group, then warnings and the verdict."""
    lines: list[str] = []
    query = " + ".join(
        part
        for part in (
            f"text {report.query_text!r}" if report.query_text else "",
            f"image {report.query_image}" if report.query_image else "",
        )
        if part
    )
    lines.append(f"query: {query}")
    model = f"model: {report.model} ({report.loss} loss, logit scale {report.logit_scale:g}, bias "
    model += f"{report.logit_bias:g})"
    if report.temperature is not None:
        model += f", calibrated temperature {report.temperature:.4g}"
    lines.append(model)
    show_softmax = report.loss == "softmax"
    for group in report.groups:
        rows = [c for c in report.candidates if c.query == group.query and c.source == group.source]
        lines.append("")
        spread = ""
        if group.spread is not None and group.variance is not None:
            spread = f"spread {group.spread:.4f}, variance {group.variance:.2e}"
        lines.append(f"{group.query} query vs {group.source} candidates ({group.n}) {spread}")
        header = f"  {'candidate':<{_LABEL_WIDTH}} {'cosine':>8} {'logit':>8} {'sigmoid':>8}"
        if show_softmax:
            header += f" {'softmax':>8}"
        header += f" {'prob':>8}"
        if group.source == "index":
            header += f" {'fused':>7}"
        lines.append(header)
        for row in rows:
            label = row.label if len(row.label) <= _LABEL_WIDTH else row.label[: _LABEL_WIDTH - 3] + "..."
            line = f"  {label:<{_LABEL_WIDTH}} {_num(row.cosine):>8} {_num(row.logit, 3):>8}"
            line += f" {_num(row.sigmoid):>8}"
            if show_softmax:
                line += f" {_num(row.softmax):>8}"
            line += f" {_num(row.probability):>8}"
            if group.source == "index":
                line += f" {_num(row.fused_score, 3):>7}"
            lines.append(line)
            if row.channels:
                lines.append(f"      {_channels(row)}")
        lines.append(f"  -> {group.verdict}")
    if report.groups and any(c.channels for c in report.candidates):
        lines.append(
            "  (channels: raw/normalised/+contribution to the fused score; unseen: the item has no field "
            "the channel searches, credited with the channel's mean)"
        )
    if report.warnings:
        lines.append("")
        lines.append("warnings:")
        lines += [f"  ! {w}" for w in report.warnings]
    lines.append("")
    lines.append(f"verdict: {report.verdict}")
    return "\n".join(lines)


def plot_report(report: DebugReport, png: PathInput) -> Path:
    """Histogram of the candidates' cosines, one series per group (matplotlib Agg, imported here)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for group in report.groups:
        values = [
            c.cosine
            for c in report.candidates
            if c.query == group.query and c.source == group.source and c.cosine is not None
        ]
        if values:
            name = f"{group.query} vs {group.source}"
            ax.hist(values, bins=min(20, max(5, len(values))), alpha=0.6, label=name)
    ax.set_xlabel("cosine")
    ax.set_ylabel("candidates")
    ax.set_title("Candidate cosines")
    if report.groups:
        ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(png)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
