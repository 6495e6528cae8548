"""``herald dev``: the embedded single-machine mode.

Starts (or reuses) a local Redis, migrates a SQLite database under ``./var``, makes sure a
dev account with a verified domain exists, creates an API key, then runs the API, a
delivery worker and a webhook worker as child processes and the capture inbox in this
process. A child that dies is restarted after a short back-off
(:mod:`herald_service.dev_supervisor`). Webhooks may reach loopback receivers here (not in
production). Ctrl-C or SIGTERM stops all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import click
import httpx
import msgspec
from redis.exceptions import RedisError
from sqlalchemy import select

from herald_service.dev_supervisor import Child, Supervisor
from herald_service.redis_urls import is_sentinel_url, redis_client
from herald_service.settings import ConfigError, load_settings
from herald_service.storage.database import async_session_factory, make_async_engine, make_engine
from herald_service.storage.migrate import upgrade
from herald_service.storage.models import Account, Domain

VAR = Path("var")
DEV_ACCOUNT = "dev"
DEV_DOMAIN = "dev.herald.example"


def _secret_key() -> str:
    """HERALD_SECRET_KEY, or one generated once and kept in ``var/secret.key``."""
    if os.environ.get("HERALD_SECRET_KEY"):
        return os.environ["HERALD_SECRET_KEY"]
    path = VAR / "secret.key"
    if not path.exists():
        VAR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _redis_answers(url: str) -> bool:
    client = redis_client(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except RedisError:
        return False
    finally:
        client.close()


def _ensure_redis(url: str) -> subprocess.Popen[bytes] | None:
    """Reuse the Redis at ``url``, or start ``redis-server`` there as a child process
    (never behind Sentinels: those are someone's running deployment)."""
    if _redis_answers(url):
        return None
    if is_sentinel_url(url):
        raise ConfigError("no Redis master answers through the Sentinels of HERALD_REDIS_URL")
    binary = shutil.which("redis-server")
    if binary is None:
        raise ConfigError(f"no Redis answers at {url} and redis-server is not installed")
    parsed = urlparse(url)
    VAR.mkdir(exist_ok=True)
    child = subprocess.Popen(  # noqa: S603 - fixed binary, our own arguments
        [
            binary,
            "--bind",
            parsed.hostname or "127.0.0.1",
            "--port",
            str(parsed.port or 6379),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(VAR.resolve()),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        if _redis_answers(url):
            return child
        time.sleep(0.05)
    child.terminate()
    raise ConfigError(f"started redis-server but it does not answer at {url}")


async def _bootstrap(env: dict[str, str]) -> dict[str, str]:
    """The dev account, its verified domain and a fresh API key."""
    from herald_service.accounts.service import create_account
    from herald_service.domains.service import add_domain
    from herald_service.keys.service import create_api_key

    settings = load_settings(env)
    engine = make_async_engine(settings.database_url)
    try:
        async with async_session_factory(engine).begin() as session:
            account = (
                await session.execute(select(Account).where(Account.name == DEV_ACCOUNT))
            ).scalar() or await create_account(session, DEV_ACCOUNT)
            domain = (
                await session.execute(select(Domain).where(Domain.account_id == account.id))
            ).scalar()
            if domain is None:
                await add_domain(session, settings, account.id, DEV_DOMAIN, verified=True)
            _, token = await create_api_key(session, account.id, ["send", "read", "admin"], "dev")
    finally:
        await engine.dispose()
    return {"account_id": account.id, "api_key": token}


def _wait_http(url: str, api: Child, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.process is None or api.process.poll() is not None:
            raise click.ClickException("the API process exited during start-up")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise click.ClickException(f"the API did not answer at {url}")


def _dev_certificate(env: dict[str, str]) -> dict[str, str]:
    """A self-signed certificate for the SMTP submission server, made once in ./var/tls
    (unless ``HERALD_SUBMISSION_CERT_FILE`` names one)."""
    if env.get("HERALD_SUBMISSION_CERT_FILE"):
        return {}
    from herald_service.submission.certificates import write_self_signed

    cert, key = (
        (VAR / "tls" / "submission.crt").resolve(),
        (VAR / "tls" / "submission.key").resolve(),
    )
    if not (cert.exists() and key.exists()):
        write_self_signed(cert, key, "localhost")
    return {"HERALD_SUBMISSION_CERT_FILE": str(cert), "HERALD_SUBMISSION_KEY_FILE": str(key)}


def _wait_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.1)
    raise click.ClickException(f"the SMTP submission server did not answer on {host}:{port}")


def run_dev(host: str, port: int, as_json: bool) -> None:
    """Run the embedded default until interrupted."""
    from herald_queue.capture import start_capture_server

    env = dict(os.environ)
    env.setdefault("HERALD_DATABASE_URL", f"sqlite:///{(VAR / 'herald.db').resolve()}")
    env.setdefault("HERALD_DELIVERY_MODE", "capture")
    env.setdefault("HERALD_HOSTNAME", "localhost")
    env.setdefault("HERALD_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8,::1/128")
    env.setdefault("HERALD_OUTCOME_JOURNAL_DIR", str((VAR / "outcome-journal").resolve()))
    env.setdefault("HERALD_CONSOLE_KEY_SIGN_IN", "1")
    env.setdefault("HERALD_SUBMISSION_HOST", "127.0.0.1")
    env.setdefault("HERALD_SUBMISSION_PORT", "2587")  # 587 and 465 need root
    env.setdefault("HERALD_SUBMISSION_TLS_PORT", "2465")
    env.update(_dev_certificate(env))
    env.setdefault("HERALD_PUBLIC_URL", f"http://{host}:{port}")  # tracked links come here
    env["HERALD_SECRET_KEY"] = _secret_key()
    settings = load_settings(env)
    redis_child = _ensure_redis(settings.redis_url)
    redis: dict[str, str | bool] = {"url": settings.redis_url, "started": redis_child is not None}
    engine = make_engine(settings.database_url)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # a step-by-step log of no use here
    upgrade(engine)
    details = asyncio.run(_bootstrap(env))
    env.setdefault("HERALD_OPERATOR_ACCOUNTS", details["account_id"])  # it runs this server
    capture = start_capture_server(
        engine, settings.capture_host, settings.capture_port, settings.require_secret_key()
    )
    herald = [sys.executable, "-m", "herald_service"]
    api = Child("API", [*herald, "api", "--host", host, "--port", str(port)], env)
    supervisor = Supervisor(
        [
            api,
            Child("delivery worker", [*herald, "worker"], env),
            Child("webhook worker", [*herald, "webhooks-worker"], env),
            Child("SMTP submission", [*herald, "submission"], env),
        ]
    )
    base = f"http://{host}:{port}"
    smtp: dict[str, str | int] = {
        "host": settings.submission_host,
        "port": settings.submission_port,
        "tls_port": settings.submission_tls_port,
        "username": "apikey",
        "password": details["api_key"],
        "certificate": env["HERALD_SUBMISSION_CERT_FILE"],
    }
    try:
        supervisor.start_all()
        _wait_http(f"{base}/healthz", api)
        _wait_port(settings.submission_host, settings.submission_port)
        _announce(base, details, smtp, redis, as_json)
        supervisor.run()
    finally:
        # SIGTERM to each child: the API and workers finish their work under way first.
        supervisor.stop_all(timeout=settings.shutdown_timeout + 5)
        capture.stop()
        engine.dispose()
        if redis_child is not None:
            redis_child.terminate()
            redis_child.wait(10)


def _announce(
    base: str,
    details: dict[str, str],
    smtp: dict[str, str | int],
    redis: dict[str, str | bool],
    as_json: bool,
) -> None:
    body = msgspec.json.encode(
        {
            "from": f"hello@{DEV_DOMAIN}",
            "to": "you@example.com",
            "subject": "Hello from Herald",
            "text": "It works: signed, queued and delivered to the local inbox.",
        }
    ).decode()
    curl = (
        f"curl -sS -X POST {base}/v1/messages \\\n"
        f"  -H 'Authorization: Bearer {details['api_key']}' \\\n"
        f"  -H 'Content-Type: application/json' \\\n"
        f"  -d '{body}'"
    )
    info = {
        **details,
        "api_url": base,
        "inbox_url": f"{base}/dev/inbox",
        "console_url": f"{base}/console",
        "console_inbox_url": f"{base}/console/inbox",
        "curl": curl,
        "smtp": smtp,
        "redis": redis,
    }
    if as_json:
        click.echo(msgspec.json.encode(info).decode(), nl=True)
        return
    click.echo(
        f"\nHerald is running (embedded mode: SQLite in ./var, capture inbox).\n\n"
        f"  API:      {base}\n  Inbox:    {base}/console/inbox\n  Console:  {base}/console\n"
        f"  Account:  {details['account_id']}\n"
        f"  API key:  {details['api_key']}\n"
        f"            (also signs in to the console: {base}/console/sign-in)\n"
        f"  Redis:    {_redis_text(redis)}\n"
        f"\nSend a message:\n\n{curl}\n\n{_smtp_text(smtp)}\n"
        f"Or sign in to the console as a user you create:\n\n"
        f"  herald users create --email you@example.com --role admin "
        f"--account {details['account_id']}\n\nPress Ctrl-C to stop.\n"
    )


def _redis_text(redis: dict[str, str | bool]) -> str:
    if redis["started"]:
        return f"started redis-server at {redis['url']} (it stops with herald dev)"
    return f"reusing the Redis that answers at {redis['url']}"


def _smtp_text(smtp: dict[str, str | int]) -> str:
    """The SMTP settings as an app's mail configuration asks for them, and a swaks test."""
    host, port = smtp["host"], smtp["port"]
    return (
        f"Or over SMTP (Django, Rails, Nodemailer...):\n\n"
        f"  Host:     {host}\n  Port:     {port} (STARTTLS) or {smtp['tls_port']} (TLS)\n"
        f"  Username: apikey\n  Password: the API key above\n"
        f"  (self-signed certificate: {smtp['certificate']})\n\n"
        f"  swaks --server {host}:{port} -tls --tls-ca-path {smtp['certificate']} \\\n"
        f"    --auth PLAIN --auth-user apikey --auth-password {smtp['password']} \\\n"
        f"    --from hello@{DEV_DOMAIN} --to you@example.com\n"
    )
