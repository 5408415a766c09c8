"""``blendsearch serve``: the HTTP API and web page over one index, on uvicorn."""

from __future__ import annotations

from pathlib import Path

import click

from blendsearch.cli.options import index_option, library_errors

__all__ = ["app_factory", "commands"]

#: Where ``--workers N`` (separate processes, each importing the app by name) read the options from.
_ENV_PREFIX = "BLENDSEARCH_SERVE_"


def app_factory() -> object:
    """The app built from environment variables, for uvicorn workers (``--workers`` > 1)."""
    import json
    import os

    from blendsearch.serve import ServeSettings, create_app
    from blendsearch.serve.app import open_engine, warm

    settings = ServeSettings.model_validate_json(os.environ[_ENV_PREFIX + "SETTINGS"])
    engine = open_engine(json.loads(os.environ[_ENV_PREFIX + "INDEX"]))
    warm(engine)
    return create_app(engine, settings)


@click.command("serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="Worker processes.")
@click.option(
    "--api-key",
    envvar="BLENDSEARCH_API_KEY",
    help="Key for the write endpoints (env BLENDSEARCH_API_KEY); without one, writes are off.",
)
@click.option("--protect-reads", is_flag=True, help="Require the API key for read endpoints too.")
@click.option(
    "--image-root",
    type=click.Path(exists=True, path_type=Path),
    help="Folder or .zip that product image paths resolve against (default: the index config's).",
)
@click.option("--max-k", default=100, show_default=True, type=click.IntRange(1), help="Largest k allowed.")
@click.option("--log-level", default="info", show_default=True, help="uvicorn log level.")
def serve_command(
    index_dir: Path,
    host: str,
    port: int,
    workers: int,
    api_key: str | None,
    protect_reads: bool,
    image_root: Path | None,
    max_k: int,
    log_level: str,
) -> None:
    """Serve the index over HTTP: /v1/search, /v1/documents, ..., OpenAPI at /openapi.json, the page at /."""
    import json
    import os

    import uvicorn

    from blendsearch.serve import ServeSettings, create_app
    from blendsearch.serve.app import open_engine, warm

    if protect_reads and not api_key:
        raise click.UsageError("--protect-reads needs --api-key (or BLENDSEARCH_API_KEY)")
    settings = ServeSettings(
        api_key=api_key,
        protect_reads=protect_reads,
        image_root=str(image_root.resolve()) if image_root else None,
        max_k=max_k,
    )
    if workers > 1:
        os.environ[_ENV_PREFIX + "SETTINGS"] = settings.model_dump_json()
        os.environ[_ENV_PREFIX + "INDEX"] = json.dumps(str(index_dir.resolve()))
        uvicorn.run(
            "blendsearch.cli.serve:app_factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
        )
        return
    with library_errors():
        engine = open_engine(index_dir)
        click.echo(f"warming {index_dir} ...", err=True)
        warm(engine)
    try:
        uvicorn.run(create_app(engine, settings), host=host, port=port, log_level=log_level)
    finally:
        engine.close()


commands = [serve_command]
