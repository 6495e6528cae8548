"""The commands that run a process: the API, the workers, the inbound and submission
servers, migrations, the all-in-one dev mode, and the OpenAPI generator.

Heavy imports (uvicorn, the workers in ``herald_queue``) happen inside each command, so a
command loads only what it runs.
"""

from __future__ import annotations

import math
import os
import signal
from types import FrameType

import click

from herald_service.cli.output import emit
from herald_service.settings import get_settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Processes.")
def api(host: str, port: int, workers: int) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from herald_service.api.http_protocol import HeraldHttpProtocol, raise_open_file_limit

    settings = get_settings()
    settings.require_secret_key()
    raise_open_file_limit()  # idle and slow connections each hold a file descriptor
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again for the
    # handler it found, which would end the process "killed by SIGTERM": exit 0 instead.
    signal.signal(signal.SIGTERM, _exit_zero)
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
        # SIGTERM: stop accepting, let requests under way finish for this long, then run
        # the lifespan's shutdown, which writes the enqueues still waiting (EnqueueBatcher).
        timeout_graceful_shutdown=math.ceil(settings.shutdown_timeout),
    )


def _exit_zero(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@click.command()
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


@click.command("webhooks-worker")
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
def webhooks_worker(burst: bool) -> None:
    """Run a webhook worker: sends signed events and retries them (own queue)."""
    from herald_queue.webhook_worker import run_webhooks_worker

    run_webhooks_worker(get_settings(), burst=burst)


@click.command()
@click.option("--host", default=None, help="Address to listen on [HERALD_INBOUND_HOST].")
@click.option("--port", default=None, type=int, help="Port [HERALD_INBOUND_PORT].")
@click.option("--json", "as_json", is_flag=True, help="Print where it listens as JSON.")
def inbound(host: str | None, port: int | None, as_json: bool) -> None:
    """Run the return-path SMTP server that takes bounces, complaint reports and unsubscribes."""
    import signal
    import threading

    from herald_queue.inbound import start_inbound_server

    settings = get_settings()
    listen_host = host or settings.inbound_host
    listen_port = port if port is not None else settings.inbound_port
    controller = start_inbound_server(settings, listen_host, listen_port)
    emit(
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


@click.command()
@click.option("--host", default=None, help="Address to listen on [HERALD_SUBMISSION_HOST].")
@click.option("--port", default=None, type=int, help="STARTTLS port [HERALD_SUBMISSION_PORT].")
@click.option(
    "--tls-port", default=None, type=int, help="Implicit TLS port [HERALD_SUBMISSION_TLS_PORT]."
)
@click.option("--json", "as_json", is_flag=True, help="Print where it listens as JSON.")
def submission(host: str | None, port: int | None, tls_port: int | None, as_json: bool) -> None:
    """Run the SMTP submission server (587 STARTTLS, 465 TLS) for apps that speak SMTP."""
    import asyncio

    from herald_service.submission.server import serve

    settings = get_settings()
    listen_host = host or settings.submission_host
    listen_port = port if port is not None else settings.submission_port
    secure_port = tls_port if tls_port is not None else settings.submission_tls_port
    ready = asyncio.Event()

    async def run() -> None:
        async def announce() -> None:
            await ready.wait()
            emit(
                as_json,
                {"host": listen_host, "port": listen_port, "tls_port": secure_port},
                f"SMTP submission listening on {listen_host}:{listen_port} (STARTTLS) "
                f"and {listen_host}:{secure_port} (TLS)",
            )

        announcer = asyncio.create_task(announce())
        try:
            await serve(settings, listen_host, listen_port, secure_port or None, ready)
        finally:
            announcer.cancel()

    asyncio.run(run())


@click.command()
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
    emit(as_json, {"status": "ok"}, "database is up to date")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the connection details as JSON.")
def dev(host: str, port: int, as_json: bool) -> None:
    """Run everything on this machine: SQLite, Redis, API, worker and a capture inbox."""
    from herald_service.devserver import run_dev

    run_dev(host=host, port=port, as_json=as_json)


@click.command()
def openapi() -> None:
    """Print the OpenAPI document generated from the application."""
    from herald_service.api.app import create_app
    from herald_service.api.reference import openapi_document
    from herald_service.settings import load_settings

    app = create_app(load_settings({"HERALD_SECRET_KEY": "openapi-generation-only"}))
    click.echo(openapi_document(app), nl=False)


COMMANDS: list[click.Command] = [
    api,
    worker,
    webhooks_worker,
    inbound,
    submission,
    migrate,
    dev,
    openapi,
]
