"""Delivery throughput to a local SMTP sink: one connection against many.

Two measurements, each the median of ``--runs`` runs of ``--messages`` messages (3 KB):

* ``smtp``: Herald's SMTP pool alone (``SmtpPool.send``), with 1, 8 and 32 connections
  to the destination, and with a new connection per message (no reuse).
* ``worker``: the whole delivery path of a worker (claim with lease → SMTP → record the
  attempt, status and event) for messages stored in a database, with 1, 32 and 100
  deliveries at once (``--concurrency``; 100 is ``herald worker``'s default), as msg/s and
  as the bench process's CPU time per message. SQLite by default; set
  ``HERALD_BENCH_DATABASE_URL`` for PostgreSQL.

The sink is aiosmtpd's ``Sink`` handler in its own process on 127.0.0.1.

    .venv/bin/python loadtests/delivery_bench.py --messages 2000 --runs 3 [--skip-smtp]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from herald_queue.delivery import deliver_message
from herald_queue.runtime import WorkerRuntime
from herald_queue.smtp import Destination, SmtpPool
from herald_service.accounts.service import create_account
from herald_service.core.ids import new_id
from herald_service.domains.service import add_domain
from herald_service.settings import Settings
from herald_service.storage.database import async_session_factory, make_async_engine, make_engine
from herald_service.storage.migrate import upgrade
from herald_service.storage.models import Message, Recipient
from herald_service.storage.types import utcnow

BODY = (
    b"From: app@bench.example\r\nTo: user@sink.example\r\nSubject: bench\r\n"
    b"Message-ID: <bench@herald.example>\r\n\r\n" + (b"x" * 76 + b"\r\n") * 38
)


SMTP_CASES = (
    ("smtp, new connection per message (8 at once)", 8, False),
    ("smtp, 1 connection reused", 1, True),
    ("smtp, 8 connections reused", 8, True),
    ("smtp, 32 connections reused", 32, True),
)

SINK_COMMAND = (sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_sink(port: int) -> subprocess.Popen[bytes]:
    sink = subprocess.Popen(
        [*SINK_COMMAND, "-l", f"127.0.0.1:{port}"],
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return sink
        except OSError:
            time.sleep(0.05)
    sink.kill()
    raise RuntimeError("the sink did not start")


async def smtp_run(port: int, messages: int, connections: int, reuse: bool) -> float:
    pool = SmtpPool(
        helo_name="bench.herald.example",
        command_timeout=30,
        per_destination=connections,
        max_transactions=1000000 if reuse else 1,
    )
    destination = Destination("127.0.0.1", port, "sink.example")

    async def one(i: int) -> None:
        result = await pool.send(destination, "b@bench.example", [f"u{i}@sink.example"], BODY)
        assert result.replies[f"u{i}@sink.example"].code == 250

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(messages)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return messages / elapsed


async def _seed(settings: Settings, messages: int) -> list[str]:
    """Store ``messages`` queued messages of one recipient each; their ids."""
    upgrade(make_engine(settings.database_url))
    engine = make_async_engine(settings.database_url)
    sessions = async_session_factory(engine)
    ids = [new_id("msg") for _ in range(messages)]
    now = utcnow()
    async with sessions.begin() as session:
        account = await create_account(session, "bench")
        domain = await add_domain(session, settings, account.id, "bench.example", verified=True)
        await session.execute(
            insert(Message),
            [
                {
                    "id": i,
                    "account_id": account.id,
                    "domain_id": domain.id,
                    "from_email": "app@bench.example",
                    "message_id_header": f"<{i}@bench>",
                    "raw": BODY,
                    "created_at": now,
                }
                for i in ids
            ],
        )
        await session.execute(
            insert(Recipient),
            [
                {
                    "message_id": i,
                    "email": "user@sink.example",
                    "domain": "sink.example",
                    "kind": "to",
                    "status": "queued",
                    "next_attempt_at": now + timedelta(minutes=5),
                    "updated_at": now,
                }
                for i in ids
            ],
        )
    await engine.dispose()
    return ids


async def worker_run(
    port: int, messages: int, concurrency: int, database_url: str
) -> tuple[float, float]:
    """Messages per second and CPU milliseconds (this process) per message."""
    settings = Settings(
        database_url=database_url,
        secret_key=secrets.token_urlsafe(32),
        hostname="bench.herald.example",
        delivery_mode="relay",
        relay_host="127.0.0.1",
        relay_port=port,
        worker_concurrency=concurrency,
        smtp_destination_concurrency=concurrency,
    )
    ids = await _seed(settings, messages)
    runtime = WorkerRuntime(settings)
    limit = asyncio.Semaphore(concurrency)

    async def one(message_id: str) -> None:
        async with limit:
            await deliver_message(runtime, message_id)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(i) for i in ids))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await runtime.smtp.close()
    await runtime.engine.dispose()
    return messages / elapsed, cpu * 1000 / messages


def median_of(runs: int, measure: Callable[[], Coroutine[Any, Any, float]]) -> float:
    return statistics.median(asyncio.run(measure()) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", default="1,32,100", help="worker path: at once")
    parser.add_argument("--skip-smtp", action="store_true", help="worker path only")
    args = parser.parse_args()
    port = free_port()
    sink = start_sink(port)
    rows: list[tuple[str, float, float | None]] = []
    smtp_cases = () if args.skip_smtp else SMTP_CASES
    try:
        for label, connections, reuse in smtp_cases:
            rate = median_of(
                args.runs,
                lambda c=connections, r=reuse: smtp_run(port, args.messages, c, r),  # type: ignore[misc]
            )
            rows.append((label, rate, None))
            print(f"{label}: {rate:,.0f} msg/s", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                rates, cpus = [], []
                for run in range(args.runs):
                    url = os.environ.get("HERALD_BENCH_DATABASE_URL") or (
                        f"sqlite:///{tmp}/bench-{concurrency}-{run}.db"
                    )
                    rate, cpu = asyncio.run(worker_run(port, args.messages, concurrency, url))
                    rates.append(rate)
                    cpus.append(cpu)
                label = f"worker path (claim, SMTP, record), {concurrency} at once"
                rows.append((label, statistics.median(rates), statistics.median(cpus)))
                print(
                    f"{label}: {rows[-1][1]:,.0f} msg/s, {rows[-1][2]:.2f} ms CPU/msg", flush=True
                )
    finally:
        sink.terminate()
        sink.wait()
    print("\n| measurement | msg/s | worker CPU ms/msg |\n|---|---|---|")
    for label, rate, cpu_ms in rows:
        print(f"| {label} | {rate:,.0f} | {'' if cpu_ms is None else f'{cpu_ms:.2f}'} |")


if __name__ == "__main__":
    main()
