"""The ``herald`` command line.

This module is Herald's composition root: besides the API-side commands it starts the
delivery workers, so it is the one place in ``herald_service`` that imports
``herald_queue`` (lazily, inside those commands only).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import msgspec

from herald_service.errors import HeraldError
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
    from herald_service.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Processes.")
def api(host: str, port: int, workers: int) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from herald_service.api.http_protocol import HeraldHttpProtocol, raise_open_file_limit

    get_settings().require_secret_key()
    raise_open_file_limit()  # idle and slow connections each hold a file descriptor
    uvicorn.run(
        "herald_service.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # uvicorn's httptools protocol (the C parser: a fraction of h11's CPU per
        # request) with header and body read timeouts against slow clients.
        http=HeraldHttpProtocol,
        loop="uvloop",
        log_level="warning",
        access_log=False,
    )


@main.command()
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
@click.option(
    "--nice",
    "niceness",
    default=0,
    type=click.IntRange(0, 19),
    show_default=True,
    help="Lower CPU priority (as nice(1)). With the API on the same machine, requests "
    "then get the CPU first and deliveries use what is left.",
)
def worker(burst: bool, niceness: int) -> None:
    """Run a delivery worker (with the retry sweeper)."""
    from herald_queue.worker import run_worker

    settings = get_settings()
    settings.require_secret_key()
    if niceness:
        os.nice(niceness)
    run_worker(settings, burst=burst)


@main.command("webhooks-worker")
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
def webhooks_worker(burst: bool) -> None:
    """Run a webhook worker: sends signed events and retries them (own queue)."""
    from herald_queue.webhook_worker import run_webhooks_worker

    run_webhooks_worker(get_settings(), burst=burst)


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
    from herald_service.accounts.service import create_account

    account = _with_session(get_settings(), lambda s: create_account(s, name))
    _emit(as_json, {"id": account.id, "name": account.name}, f"created account {account.id}")


@main.group()
def keys() -> None:
    """Manage API keys."""


def _key_payload(key: Any) -> dict[str, Any]:
    from herald_service.keys.schemas import api_key_out

    payload: dict[str, Any] = msgspec.to_builtins(api_key_out(key))
    return payload | {"account_id": key.account_id}


@keys.command("create")
@click.option("--account", "account_id", required=True)
@click.option("--scopes", default="send,read", show_default=True)
@click.option("--name", default="")
@click.option("--domains", default="", help="Comma-separated sending domains (default: all).")
@click.option("--rate", type=float, default=None, help="Requests per second (override).")
@click.option("--burst", type=int, default=None, help="Request burst (override).")
@click.option("--daily-recipients", type=int, default=None, help="Daily recipient cap.")
@click.option("--json", "as_json", is_flag=True)
def keys_create(
    account_id: str,
    scopes: str,
    name: str,
    domains: str,
    rate: float | None,
    burst: int | None,
    daily_recipients: int | None,
    as_json: bool,
) -> None:
    """Create an API key; the key is printed once and never shown again."""
    from herald_service.keys.service import KeyLimits, create_api_key

    limits = KeyLimits(requests_per_second=rate, burst=burst, daily_recipients=daily_recipients)
    key, token = _with_session(
        get_settings(),
        lambda s: create_api_key(
            s,
            account_id,
            scopes.split(","),
            name,
            domains=[d for d in domains.split(",") if d.strip()],
            limits=limits,
        ),
    )
    payload = _key_payload(key) | {"key": token}
    _emit(as_json, payload, f"created key {key.id} ({','.join(key.scopes)}): {token}")


@keys.command("list")
@click.option("--account", "account_id", required=True)
@click.option("--json", "as_json", is_flag=True)
def keys_list(account_id: str, as_json: bool) -> None:
    """List an account's keys (never their secrets)."""
    from herald_service.keys.service import list_api_keys

    rows = _with_session(get_settings(), lambda s: list_api_keys(s, account_id))
    lines = [
        f"{k.id}  {','.join(k.scopes):16} {'revoked' if k.revoked_at else 'active':8} {k.name}"
        for k in rows
    ]
    _emit(as_json, {"data": [_key_payload(k) for k in rows]}, "\n".join(lines) or "no keys")


@keys.command("revoke")
@click.option("--account", "account_id", required=True)
@click.argument("key_id")
@click.option("--json", "as_json", is_flag=True)
def keys_revoke(account_id: str, key_id: str, as_json: bool) -> None:
    """Revoke a key; every API process refuses it within five seconds."""
    from herald_service.keys.service import revoke_api_key

    key = _with_session(get_settings(), lambda s: revoke_api_key(s, account_id, key_id))
    _emit(as_json, _key_payload(key), f"revoked {key.id}")


@main.group()
def domains() -> None:
    """Manage sending domains."""


def _domain_payload(domain: Any, settings: Settings) -> dict[str, Any]:
    from herald_service.domains.schemas import domain_out

    payload: dict[str, Any] = msgspec.to_builtins(domain_out(domain, settings))
    return payload


def _domain_text(payload: dict[str, Any]) -> str:
    lines = [f"{payload['name']} ({payload['id']}): {payload['status']}"]
    for r in payload["records"]:
        need = "required" if r["required"] else "advised"
        lines.append(f"  [{r['status']:8}] {r['type']:4} {r['host']}  {r['value']}  ({need})")
        if r["status"] in ("missing", "mismatch", "error") and r["detail"]:
            lines.append(f"             {r['detail']}; found: {r['found'] or 'nothing'}")
    return "\n".join(lines)


@domains.command("add")
@click.option("--account", "account_id", required=True)
@click.argument("name")
@click.option("--selector", default=None, help="DKIM selector base (default: dated).")
@click.option("--allow-subdomains", is_flag=True, help="Allow From addresses in subdomains.")
@click.option("--json", "as_json", is_flag=True)
def domains_add(
    account_id: str, name: str, selector: str | None, allow_subdomains: bool, as_json: bool
) -> None:
    """Add a sending domain and print the DNS records to publish."""
    from herald_service.domains.service import add_domain

    settings = get_settings()

    async def work(session: Any) -> dict[str, Any]:
        domain = await add_domain(
            session,
            settings,
            account_id,
            name,
            dkim_selector=selector,
            allow_subdomains=allow_subdomains,
        )
        return _domain_payload(domain, settings)

    payload = _with_session(settings, work)
    _emit(as_json, payload, "added " + _domain_text(payload))


@domains.command("verify")
@click.option("--account", "account_id", required=True)
@click.argument("domain_id")
@click.option("--json", "as_json", is_flag=True)
def domains_verify(account_id: str, domain_id: str, as_json: bool) -> None:
    """Look the domain's DNS records up now and print each record's status."""
    from herald_service.dns import make_resolver
    from herald_service.domains.checks import verify_domain
    from herald_service.domains.service import get_domain
    from herald_service.storage.types import utcnow

    settings = get_settings()

    async def work(session: Any) -> dict[str, Any]:
        domain = await get_domain(session, account_id, domain_id)
        resolver = make_resolver(settings, cache=False)
        await verify_domain(session, settings, resolver, domain, utcnow())
        return _domain_payload(domain, settings)

    payload = _with_session(settings, work)
    _emit(as_json, payload, _domain_text(payload))


@domains.command("rotate")
@click.option("--account", "account_id", required=True)
@click.argument("domain_id")
@click.option("--selector", default=None, help="DKIM selector base (default: dated).")
@click.option("--json", "as_json", is_flag=True)
def domains_rotate(account_id: str, domain_id: str, selector: str | None, as_json: bool) -> None:
    """Create new DKIM keys (pending until their records verify) and print the records."""
    from herald_service.domains.service import rotate_dkim_keys

    settings = get_settings()

    async def work(session: Any) -> dict[str, Any]:
        domain = await rotate_dkim_keys(session, settings, account_id, domain_id, selector)
        return _domain_payload(domain, settings)

    payload = _with_session(settings, work)
    _emit(as_json, payload, "rotating " + _domain_text(payload))


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
    except HeraldError as exc:
        details = "".join(f"\n  {e.field}: {e.message}" for e in exc.errors)
        click.echo(f"herald: {exc.detail}{details}", err=True)
        sys.exit(1)
