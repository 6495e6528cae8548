"""The ``herald`` command line.

This module is Herald's composition root: besides the API-side commands it starts the
delivery workers, so it is the one place in ``herald_service`` that imports
``herald_queue`` (lazily, inside those commands only).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import msgspec

from herald_service.settings import ConfigError, Settings, get_settings

T = TypeVar("T")


def _emit(as_json: bool, payload: dict[str, Any], human: str) -> None:
    click.echo(msgspec.json.encode(payload).decode() if as_json else human)


def _with_session(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(session)`` in one committed transaction."""
    from herald_service.storage.database import async_session_factory, make_async_engine

    async def run() -> T:
        engine = make_async_engine(settings.database_url)
        try:
            async with async_session_factory(engine).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@click.group()
@click.version_option(package_name="herald-server")
def main() -> None:
    """Herald: self-hosted transactional email."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Processes.")
def api(host: str, port: int, workers: int) -> None:
    """Serve the HTTP API."""
    import uvicorn

    get_settings().require_secret_key()
    uvicorn.run(
        "herald_service.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@main.command()
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
def worker(burst: bool) -> None:
    """Run a delivery worker (with the retry sweeper)."""
    from herald_queue.worker import run_worker

    run_worker(get_settings(), burst=burst)


@main.command()
@click.option("--host", default=None, help="Address to listen on [HERALD_INBOUND_HOST].")
@click.option("--port", default=None, type=int, help="Port [HERALD_INBOUND_PORT].")
@click.option("--json", "as_json", is_flag=True, help="Print where it listens as JSON.")
def inbound(host: str | None, port: int | None, as_json: bool) -> None:
    """Run the return-path SMTP server that takes bounces and complaint reports."""
    import signal
    import threading

    from herald_queue.inbound import start_inbound_server

    settings = get_settings()
    listen_host = host or settings.inbound_host
    listen_port = port if port is not None else settings.inbound_port
    controller = start_inbound_server(settings, listen_host, listen_port)
    _emit(
        as_json,
        {"host": listen_host, "port": listen_port, "status": "listening"},
        f"inbound SMTP listening on {listen_host}:{listen_port}",
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        click.echo("stopping", err=True)
    finally:
        controller.stop()


@main.command()
@click.option("--json", "as_json", is_flag=True)
def migrate(as_json: bool) -> None:
    """Bring the database schema up to date (safe to run repeatedly)."""
    from herald_service.storage.database import make_engine
    from herald_service.storage.migrate import upgrade

    engine = make_engine(get_settings().database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    _emit(as_json, {"status": "ok"}, "database is up to date")


@main.group()
def accounts() -> None:
    """Manage accounts."""


@accounts.command("create")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def accounts_create(name: str, as_json: bool) -> None:
    """Create an account."""
    from herald_service.services.accounts import create_account

    account = _with_session(get_settings(), lambda s: create_account(s, name))
    _emit(as_json, {"id": account.id, "name": account.name}, f"created account {account.id}")


@main.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option("--account", "account_id", required=True)
@click.option("--scopes", default="send,read", show_default=True)
@click.option("--name", default="")
@click.option("--json", "as_json", is_flag=True)
def keys_create(account_id: str, scopes: str, name: str, as_json: bool) -> None:
    """Create an API key; the key is printed once and never shown again."""
    from herald_service.services.api_keys import create_api_key

    key, token = _with_session(
        get_settings(), lambda s: create_api_key(s, account_id, scopes.split(","), name)
    )
    payload = {"id": key.id, "key": token, "scopes": key.scopes, "account_id": account_id}
    _emit(as_json, payload, f"created key {key.id} ({','.join(key.scopes)}): {token}")


@main.group()
def domains() -> None:
    """Manage sending domains."""


@domains.command("add")
@click.option("--account", "account_id", required=True)
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def domains_add(account_id: str, name: str, as_json: bool) -> None:
    """Add a sending domain and print the DNS records to publish."""
    from herald_service.services.domains import add_domain, dns_records

    settings = get_settings()
    domain = _with_session(settings, lambda s: add_domain(s, settings, account_id, name))
    records = dns_records(domain, settings)
    payload = {
        "id": domain.id,
        "name": domain.name,
        "status": domain.status,
        "records": [msgspec.structs.asdict(r) for r in records],
    }
    lines = [f"{r.type:5} {r.host}  {r.value}" for r in records]
    _emit(as_json, payload, f"added {domain.name} ({domain.id}); publish:\n" + "\n".join(lines))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the connection details as JSON.")
def dev(host: str, port: int, as_json: bool) -> None:
    """Run everything on this machine: SQLite, Redis, API, worker and a capture inbox."""
    from herald_service.devserver import run_dev

    run_dev(host=host, port=port, as_json=as_json)


@main.command()
def openapi() -> None:
    """Print the OpenAPI document generated from the application."""
    from herald_service.api.app import create_app
    from herald_service.settings import load_settings

    app = create_app(load_settings({"HERALD_SECRET_KEY": "openapi-generation-only"}))
    click.echo(json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True))


def run() -> None:
    """Entry point that turns configuration errors into a one-line message."""
    try:
        main()
    except ConfigError as exc:
        click.echo(f"herald: configuration error: {exc}", err=True)
        sys.exit(2)
