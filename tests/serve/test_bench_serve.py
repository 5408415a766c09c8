"""``blendsearch bench serve`` end to end at a tiny size: a real server process, load, an API ingest."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from blendsearch.cli import main


def test_bench_serve_small(built_index: Path) -> None:
    before = sorted(p.name for p in built_index.iterdir())
    result = CliRunner().invoke(
        main,
        ["bench", "serve", "--index", str(built_index), "--requests", "12", "--concurrency", "1,3",
         "--ingest", "30", "--seconds", "20", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["documents"] == 24
    assert [(level["concurrency"], level["requests"], level["errors"]) for level in report["levels"]] == [
        (1, 12, 0),
        (3, 12, 0),
    ]
    assert [level["errors"] for level in report["during_ingest"]] == [0, 0]
    assert report["ingest"]["indexed"] == 30 and report["ingest"]["errors"] == []
    assert report["in_process_p50_ms"] > 0 and report["http_over_in_process_p50"] > 0
    assert sorted(p.name for p in built_index.iterdir()) == before  # the served copy took the writes


def test_serve_command_options() -> None:
    runner = CliRunner()
    assert "--api-key" in runner.invoke(main, ["serve", "--help"]).output
    refused = runner.invoke(
        main, ["serve", "--index", "nowhere", "--protect-reads"], env={"BLENDSEARCH_API_KEY": ""}
    )
    assert refused.exit_code == 2 and "--protect-reads needs --api-key" in refused.output
    missing = runner.invoke(main, ["serve", "--index", "nowhere"])
    assert missing.exit_code == 1 and "no blendsearch index in nowhere" in missing.output
