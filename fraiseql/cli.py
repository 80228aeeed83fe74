"""``fraiseql``: serve an app, set up a database, run the demo.

The CLI parses arguments and calls the library; nothing in the library imports it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time

import click

_DATABASE_URL = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    show_envvar=True,
    help="PostgreSQL URL (default: the DATABASE_URL environment variable).",
)


def _to_stderr(message: str) -> None:
    """Progress goes to stderr so stdout carries only the command's result."""
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fraiseql")
def main() -> None:
    """FraiseQL: GraphQL over PostgreSQL with a Rust response pipeline."""


@main.command()
@click.argument("app_path", metavar="MODULE:APP")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@_DATABASE_URL
def serve(app_path: str, host: str, port: int, workers: int, database_url: str | None) -> None:
    """Serve the ASGI app MODULE:APP (for example examples.blog.app:app) with uvicorn."""
    import uvicorn

    if ":" not in app_path:
        raise click.BadParameter("expected MODULE:APP, for example examples.blog.app:app")
    if database_url:
        os.environ["DATABASE_URL"] = database_url  # read by the app; inherited by workers
    sys.path.insert(0, os.getcwd())  # spawned workers receive the parent's sys.path
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal so that a single
    # worker dies *of* SIGTERM (status -15) while --workers N exits 0. A graceful stop is
    # a success either way: the re-raised signal lands here and becomes exit status 0.
    signal.signal(signal.SIGTERM, _exit_after_sigterm)
    uvicorn.run(app_path, host=host, port=port, workers=workers, log_level="info")


def _exit_after_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


@main.group()
def db() -> None:
    """Database set-up."""


@db.command("init")
@click.option("--example", type=click.Choice(["blog"]), required=True, help="Example schema to load.")
@click.option("--rows", default=10_000, show_default=True, type=click.IntRange(0, 10_000_000),
              help="Number of posts the deterministic seed makes.")
@_DATABASE_URL
def db_init(example: str, rows: int, database_url: str | None) -> None:
    """Create the example's tables, views and functions and load its seed."""
    if not database_url:
        raise click.UsageError("no database: pass --database-url or set DATABASE_URL")
    from examples.blog.database import init_database

    started = time.perf_counter()
    asyncio.run(init_database(database_url, rows=rows, progress=_to_stderr))
    click.echo(f"{example}: schema and {rows} posts loaded in {time.perf_counter() - started:.1f} s")


DEMO_QUERY = """query Demo {
  posts(limit: 2, orderBy: [{field: title, direction: ASC}]) {
    id
    title
    tags
    author { name }
    comments { body author { name } }
  }
}"""


@main.command()
@click.option("--rows", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--query", "query_text", default=DEMO_QUERY, help="GraphQL query to send.")
def demo(rows: int, query_text: str) -> None:
    """Start a throwaway PostgreSQL, load the blog example, serve it and query it over HTTP."""
    from fraiseql.db.local import LocalPostgres, LocalPostgresError, free_port

    click.echo("starting a throwaway PostgreSQL cluster ...", err=True)
    try:
        cluster = LocalPostgres(dbname="blog").start()
    except LocalPostgresError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        _demo(cluster.url, free_port(), rows, query_text)
    finally:
        cluster.stop()


def _demo(database_url: str, port: int, rows: int, query_text: str) -> None:
    """Load the example into ``database_url``, serve it on ``port`` and print one answer."""
    import httpx
    import uvicorn

    from examples.blog.database import init_database

    click.echo(f"loading the blog example with {rows} posts into {database_url} ...", err=True)
    asyncio.run(init_database(database_url, rows=rows, progress=_to_stderr))
    os.environ["DATABASE_URL"] = database_url
    server = uvicorn.Server(
        uvicorn.Config("examples.blog.app:app", host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise click.ClickException("the example app did not start")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/graphql"
        click.echo(f"POST {url}", err=True)
        click.echo(query_text, err=True)
        response = httpx.post(url, json={"query": query_text}, timeout=10)
        click.echo(f"HTTP {response.status_code}", err=True)
        click.echo(json.dumps(response.json(), indent=2, ensure_ascii=False))
        if response.status_code != 200 or "errors" in response.json():
            raise SystemExit(1)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":  # pragma: no cover
    main()
