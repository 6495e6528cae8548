"""Scheduled send at scale: does a million future scheduled messages slow the sweep or
fresh sends?

    .venv/bin/python -m loadtests.scheduled_bench [--backend sqlite --backend postgresql]
        [--rows 1000000] [--rounds 3] [--seconds 5] [--clients 16]

For each backend two databases are made side by side: one empty (the peer) and one holding
``--rows`` messages scheduled over the next 72 hours, one recipient each (bulk-inserted:
``executemany`` on SQLite, ``COPY`` on PostgreSQL, then ``ANALYZE`` on PostgreSQL as its
autovacuum would). Each gets its own ``herald api`` (one process, no delivery workers; a
private Redis holds the jobs). Then, ``--rounds`` times, alternating empty / full:

* **idle sweep**: 200 rounds of the workers' sweep (:func:`herald_queue.sweeper.sweep_once`)
  with nothing due; median and p95 ms per round;
* **due sweep**: 500 scheduled messages made due, then one sweep round that queues them
  (and writes their 500 delivery jobs to Redis); ms, median of 3;
* **scheduled list**: the query of the console's Scheduled page and ``herald messages
  scheduled`` (:func:`~herald_service.messages.scheduled.scheduled_messages`, the first 50,
  recipients loaded) for the account that holds the rows; median ms of 20;
* **acceptance**: ``--clients`` closed-loop HTTP clients post single messages for
  ``--seconds`` after a 1 s warm-up; accepted messages/s. The recipients they leave
  ``queued`` are then marked delivered (as the workers would have), so the next round's
  sweep finds the same due set.

It also prints the query plans of the sweep's reads, which must use ``ix_recipients_due``.
Figures are the medians of the rounds, and the full database's ratio to the empty one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import redis
from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from herald_queue.sweeper import sweep_once
from herald_service.core.states import RecipientStatus
from herald_service.delivery_queue import DeliveryQueue
from herald_service.messages.scheduled import scheduled_messages
from herald_service.storage.database import (
    async_session_factory,
    make_async_engine,
    make_engine,
    session_factory,
)
from herald_service.storage.migrate import upgrade
from herald_service.storage.models import Message, Recipient
from herald_service.storage.types import utcnow
from loadtests.herald_stack import Postgres, Redis, Tenant, _create_tenant
from loadtests.loadgen import Sender, saturate
from loadtests.scheduled_seed import bulk_insert, scheduled_rows, tenant_ids
from loadtests.sink import free_port

HERALD = [sys.executable, "-m", "herald_service"]
IDLE_ROUNDS = 200
DUE = 500


@dataclass
class Peer:
    """One database with its API, tenant and sweep machinery."""

    label: str
    url: str
    env: dict[str, str]
    tenant: Tenant
    engine: Engine
    sessions: sessionmaker[Session]
    queue: DeliveryQueue
    api: subprocess.Popen[bytes] | None = None
    figures: dict[str, list[float]] = field(default_factory=dict)

    def note(self, name: str, value: float) -> None:
        self.figures.setdefault(name, []).append(value)


def environment(url: str, redis_url: str) -> dict[str, str]:
    return {
        "HERALD_DATABASE_URL": url,
        "HERALD_REDIS_URL": redis_url,
        "HERALD_SECRET_KEY": secrets.token_urlsafe(32),
        "HERALD_HOSTNAME": "mta.herald.bench.example",
        "HERALD_QUEUE_NAME": f"herald-bench-{secrets.token_hex(3)}",
        "HERALD_QUOTA_REQUESTS_PER_SECOND": "0",
        "HERALD_QUOTA_DAILY_RECIPIENTS_PER_KEY": "0",
        "HERALD_QUOTA_DAILY_RECIPIENTS_PER_ACCOUNT": "0",
        "HERALD_LOG_LEVEL": "WARNING",
    }


def make_peer(label: str, url: str, redis_url: str) -> Peer:
    env = environment(url, redis_url)
    tenant = asyncio.run(_create_tenant(env))
    engine = make_engine(url)
    connection = redis.Redis.from_url(redis_url)
    return Peer(
        label,
        url,
        env,
        tenant,
        engine,
        session_factory(engine),
        DeliveryQueue(connection, env["HERALD_QUEUE_NAME"]),
    )


def start_api(peer: Peer, work: Path) -> None:
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    child_env |= peer.env
    log = (work / f"{peer.label}.log").open("ab")
    peer.api = subprocess.Popen(
        [*HERALD, "api", "--port", str(port)], env=child_env, stdout=log, stderr=log
    )
    peer.env["base_url"] = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{peer.env['base_url']}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"herald api for {peer.label} did not start")


def sweep_plans(engine: Engine) -> list[str]:
    """The plans of the sweep's read for each swept status."""
    now = utcnow()
    plans = []
    with engine.connect() as db:
        for status in (RecipientStatus.QUEUED, RecipientStatus.SCHEDULED):
            query = (
                select(Recipient.id)
                .where(Recipient.status == status.value, Recipient.next_attempt_at <= now)
                .order_by(Recipient.next_attempt_at)
                .limit(500)
            )
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            rows = db.execute(text(prefix + str(compiled))).all()
            plans.append(" | ".join(str(row[-1]) for row in rows))
    return plans


def idle_sweeps(peer: Peer) -> None:
    times = []
    for _ in range(IDLE_ROUNDS):
        began = time.perf_counter()
        assert sweep_once(peer.sessions, peer.queue, utcnow()) == 0
        times.append(1000 * (time.perf_counter() - began))
    peer.note("idle sweep ms (median)", statistics.median(times))
    peer.note("idle sweep ms (p95)", statistics.quantiles(times, n=20)[-1])


def due_sweeps(peer: Peer) -> None:
    times = []
    for _ in range(3):
        now = utcnow()
        account_id, domain_id = tenant_ids(peer.engine)
        with peer.engine.begin() as db:
            messages, recipients = next(scheduled_rows(peer.engine, DUE))
            for m, r in zip(messages, recipients, strict=True):
                m["account_id"], m["domain_id"] = account_id, domain_id
                m["send_at"] = r["next_attempt_at"] = now - timedelta(seconds=1)
            db.execute(insert(Message), messages)
            db.execute(insert(Recipient), recipients)
        began = time.perf_counter()
        assert sweep_once(peer.sessions, peer.queue, utcnow()) == DUE
        times.append(1000 * (time.perf_counter() - began))
        settle(peer)
    peer.note(f"due sweep ms ({DUE} due)", statistics.median(times))


async def scheduled_list(peer: Peer) -> None:
    account_id, _ = tenant_ids(peer.engine)
    engine = make_async_engine(peer.url)
    times = []
    try:
        for _ in range(20):
            began = time.perf_counter()
            async with async_session_factory(engine)() as session:
                await scheduled_messages(session, account_id)
            times.append(1000 * (time.perf_counter() - began))
    finally:
        await engine.dispose()
    peer.note("scheduled list ms (first 50)", statistics.median(times))


def settle(peer: Peer) -> None:
    """Mark what is queued as delivered (the workers' part) and empty the Redis queue."""
    with peer.engine.begin() as db:
        db.execute(
            update(Recipient)
            .where(Recipient.status == RecipientStatus.QUEUED.value)
            .values(status=RecipientStatus.DELIVERED.value, next_attempt_at=None)
        )
    peer.queue.queue.empty()  # type: ignore[no-untyped-call]


async def acceptance(peer: Peer, seconds: float, clients: int) -> None:
    sender = Sender(
        peer.env["base_url"], peer.tenant.api_key, f"bench@{peer.tenant.domain}", clients
    )
    try:
        await saturate(sender, f"warm-{secrets.token_hex(2)}-", 10**9, clients, 1.0)
        result = await saturate(sender, f"run-{secrets.token_hex(2)}-", 10**9, clients, seconds)
    finally:
        await sender.close()
    peer.note("accepted msg/s", result.accepted_per_s)
    peer.note("non-202", result.sent - result.statuses.get("202", 0))
    settle(peer)


def run_backend(backend: str, args: argparse.Namespace, work: Path) -> None:
    print(f"\n== {backend}, {args.rows:,} scheduled rows ==", flush=True)
    redis_server = Redis(work)
    made: list[Postgres] = []

    def database(label: str) -> str:
        if backend == "sqlite":
            url = f"sqlite:///{work / f'{label}.db'}"
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            return url
        made.append(Postgres())
        return made[-1].url

    peers: list[Peer] = []
    try:
        peers = [make_peer(label, database(label), redis_server.url) for label in ("empty", "full")]
        empty, full = peers
        seconds = bulk_insert(full.engine, args.rows)
        print(f"bulk insert: {args.rows:,} messages + recipients in {seconds:.1f} s", flush=True)
        for peer in peers:
            for plan in sweep_plans(peer.engine):
                print(f"sweep plan ({peer.label}): {plan}")
        for peer in peers:
            start_api(peer, work)
        for round_ in range(args.rounds):
            for peer in (empty, full) if round_ % 2 == 0 else (full, empty):
                idle_sweeps(peer)
                due_sweeps(peer)
                asyncio.run(scheduled_list(peer))
                asyncio.run(acceptance(peer, args.seconds, args.clients))
            print(f"round {round_ + 1}: " + "; ".join(
                f"{p.label} " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in p.figures.items())
                for p in peers
            ), flush=True)  # fmt: skip
        print(f"\n{backend}: medians of {args.rounds} rounds")
        full_label = f"{args.rows:,} rows"
        print(f"{'figure':32} {'empty':>10} {full_label:>14} {'ratio':>7}")
        for name in empty.figures:
            a = statistics.median(empty.figures[name])
            b = statistics.median(full.figures[name])
            ratio = b / a if a else float("nan")
            print(f"{name:32} {a:10.2f} {b:14.2f} {ratio:7.2f}")
    finally:
        for peer in peers:
            if peer.api is not None:
                peer.api.terminate()
                peer.api.wait(15)
            peer.engine.dispose()
        for postgres in made:
            postgres.drop()
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="herald-scheduled-bench-") as directory:
        for backend in args.backend or ["sqlite", "postgresql"]:
            run_backend(backend, args, Path(directory))


if __name__ == "__main__":
    main()
