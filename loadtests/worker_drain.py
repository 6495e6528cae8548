"""Delivery workers alone, through the whole stack: how fast they drain a backlog.

Starts Herald as ``loadtests/bench`` does (PostgreSQL, private Redis, test DNS, Postfix's
``smtp-sink``, ``herald worker`` processes), stores ``--messages`` messages (3 KB, one
recipient each) directly in the database, hands their ids to the delivery queue the way
the API does (``DeliveryQueue.enqueue``) and measures until the last one is at the sink:
delivered msg/s, the workers' CPU time per message, and Redis memory per queued message.
The API takes no part, so the figures are the workers' own.

    .venv/bin/python -m loadtests.worker_drain --messages 5000 --workers 2 --runs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

from herald_service.core.ids import new_id
from herald_service.delivery_queue import DeliveryQueue, redis_connection
from herald_service.storage.database import make_engine
from herald_service.storage.models import Domain, Message, Recipient
from herald_service.storage.types import utcnow
from loadtests.herald_stack import SENDER_DOMAIN, HeraldStack
from loadtests.loadgen import RECIPIENT_DOMAIN

BODY = (
    f"From: app@{SENDER_DOMAIN}\r\nTo: user@{RECIPIENT_DOMAIN}\r\nSubject: drain\r\n"
    "Message-ID: <drain@herald.example>\r\n\r\n"
).encode() + (b"x" * 76 + b"\r\n") * 38
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def postgres_cpu() -> float:
    """CPU time so far of every PostgreSQL process on the machine (backends come and go,
    so this is only a rough share)."""
    total = 0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"postgres" in (entry / "cmdline").read_bytes():
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / TICK


def store_backlog(database_url: str, messages: int) -> list[str]:
    """``messages`` stored messages with one queued recipient each (lease 5 min ahead)."""
    engine = make_engine(database_url)
    ids = [new_id("msg") for _ in range(messages)]
    now = utcnow()
    with engine.begin() as db:
        domain_id, account_id = db.execute(
            select(Domain.id, Domain.account_id).where(Domain.name == SENDER_DOMAIN)
        ).one()
        db.execute(
            insert(Message),
            [
                {
                    "id": i,
                    "account_id": account_id,
                    "domain_id": domain_id,
                    "from_email": f"app@{SENDER_DOMAIN}",
                    "message_id_header": f"<{i}@drain>",
                    "raw": BODY,
                    "created_at": now,
                }
                for i in ids
            ],
        )
        db.execute(
            insert(Recipient),
            [
                {
                    "message_id": i,
                    "email": f"{n}@{RECIPIENT_DOMAIN}",
                    "domain": RECIPIENT_DOMAIN,
                    "kind": "to",
                    "status": "queued",
                    "next_attempt_at": now + timedelta(minutes=5),
                    "updated_at": now,
                }
                for n, i in enumerate(ids)
            ],
        )
    engine.dispose()
    return ids


def run(messages: int, workers: int) -> tuple[float, float, float, float]:
    """One drain: msg/s, worker and PostgreSQL CPU ms per message, Redis bytes per queued
    message."""
    work = Path(tempfile.mkdtemp(prefix="herald-drain-"))
    work.chmod(0o755)
    stack = HeraldStack(work, 1, workers)
    try:
        ids = store_backlog(stack.env["HERALD_DATABASE_URL"], messages)
        connection = redis_connection(stack.env["HERALD_REDIS_URL"])
        queue = DeliveryQueue(connection, stack.env["HERALD_QUEUE_NAME"])
        pids = [w.pid for w in stack.workers]
        time.sleep(2)  # let the workers settle after start-up
        memory = int(connection.info("memory")["used_memory"])
        cpu, pg, started = cpu_seconds(pids), postgres_cpu(), time.perf_counter()
        queue.enqueue(ids)
        queued = int(connection.info("memory")["used_memory"]) - memory
        if not stack.sink.wait_for(messages, timeout=600):
            raise RuntimeError(f"only {stack.sink.count} of {messages} delivered")
        elapsed = time.perf_counter() - started
        used, pg = cpu_seconds(pids) - cpu, postgres_cpu() - pg
        return messages / elapsed, used * 1000 / messages, pg * 1000 / messages, queued / messages
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = []
    for _ in range(args.runs):
        results.append(run(args.messages, args.workers))
        rate, cpu, pg, memory = results[-1]
        print(
            f"{rate:,.0f} msg/s, CPU/msg: workers {cpu:.2f} ms, PostgreSQL {pg:.2f} ms; "
            f"{memory:,.0f} B Redis/msg"
        )
    rate, cpu, pg, memory = (statistics.median(r[i] for r in results) for i in range(4))
    print(
        f"median of {args.runs}: {rate:,.0f} msg/s delivered by {args.workers} workers; "
        f"CPU per message: workers {cpu:.2f} ms, PostgreSQL {pg:.2f} ms; "
        f"{memory:,.0f} B Redis per queued message"
    )


if __name__ == "__main__":
    main()
