"""Notices (no model, a stage that is off, a filter with no values yet): each printed once, on stderr.

The library says a notice twice over: it logs it (``blendsearch`` logger, for applications) and lists it
in the result (``SearchResult.notices``, ``IngestSummary.notices``). A command prints every one of them
once per run, as ``note: ...`` on stderr, so stdout carries only results (``--json`` stays parseable).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import click

__all__ = ["echo_notices", "install_notice_printer"]

_META_KEY = "blendsearch.notices"


def _printed() -> set[str]:
    """The notices this command run has printed (kept on the click context, so each run starts empty)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return set()
    printed: set[str] = ctx.meta.setdefault(_META_KEY, set())
    return printed


def echo_notices(notices: Iterable[str]) -> None:
    """Print each notice not yet printed in this run, as ``note: ...`` on stderr."""
    printed = _printed()
    for notice in notices:
        if notice not in printed:
            printed.add(notice)
            click.echo(f"note: {notice}", err=True)


class _NoticePrinter(logging.Handler):
    """Routes the library's logged warnings through :func:`echo_notices` (instead of Python's bare
    last-resort print), so a notice both logged and listed in a result shows once."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            echo_notices([record.getMessage()])
        except Exception:  # logging must never break a command
            self.handleError(record)


def install_notice_printer() -> None:
    """Attach the printer to the ``blendsearch`` logger once (the CLI calls it for every command)."""
    logger = logging.getLogger("blendsearch")
    if not any(isinstance(h, _NoticePrinter) for h in logger.handlers):
        handler = _NoticePrinter(level=logging.WARNING)
        logger.addHandler(handler)
