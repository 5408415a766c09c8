"""Plain-text tables of metric dictionaries, for the CLI's readable (non-JSON) output."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["format_table"]


def _cell(value: object, column: str) -> str:
    if column == "n" and isinstance(value, float) and value == value:
        return str(int(value))
    if isinstance(value, float):
        return "-" if value != value else f"{value:.4f}"
    return str(value)


def format_table(
    rows: Mapping[str, Mapping[str, object]], columns: Sequence[str] | None = None, *, label: str = ""
) -> str:
    """Rows by name, one column per metric (default: every key seen, in first-seen order).

    >>> print(format_table({"bm25": {"mrr": 0.5}}, label="method"))
    method  mrr
    bm25    0.5000
    """
    if columns is None:
        columns = []
        for values in rows.values():
            columns.extend(k for k in values if k not in columns)
    table = [[label, *columns]] + [
        [name, *(_cell(values.get(c, ""), c) for c in columns)] for name, values in rows.items()
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table
    )
