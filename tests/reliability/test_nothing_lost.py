"""Nothing lost: messages keep flowing while workers, the API and Redis are killed (-9).

Every message that got a 202 must end ``delivered`` (the sink accepts everything) with its
``message.delivered`` event; duplicates at the SMTP sink are counted and reported (only
deliveries in flight at a kill may repeat). For each worker kill the test also measures
what the crash cost: the recipients under lease at that instant, how long until every one
of them is final, and how many of their messages reached the sink twice. The workers run
with the default lease, as a deployment would. ``HERALD_RELIABILITY_MESSAGES`` sets the
size (default 2,000); ``HERALD_RELIABILITY_REPORT`` names a file to write the figures to.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from herald_service.settings import load_settings
from herald_service.storage.models import Event, Message, Recipient
from simnet.dns import DNSServer
from simnet.fixtures import SMTPServerFactory
from support.databases import PostgresDatabase
from support.fleet import FINAL, Fleet, send_all
from support.harness import Herald
from support.redis_server import RedisServer

MESSAGES = int(os.environ.get("HERALD_RELIABILITY_MESSAGES", "2000"))
SINK_ACCEPT_SECONDS = 0.1
# A killed worker's recipients are final within this many seconds: the worker started in
# its place takes over its journal and hands them back at once. (Were that to fail, they
# would wait for their lease, 30 s; before issue 17, 5 minutes.)
KILL_RECOVERY_LIMIT = 20.0


@pytest.fixture
def aof_redis() -> Iterator[RedisServer]:
    server = RedisServer(appendonly=True)
    yield server
    server.stop()


@pytest.mark.timeout(1800)
async def test_nothing_lost_through_kills_and_redis_restart(
    postgres_database: PostgresDatabase,
    aof_redis: RedisServer,
    dns_server: DNSServer,
    smtp_port: int,
    smtp_server_factory: SMTPServerFactory,
    tmp_path: Path,
) -> None:
    postgres_database.truncate()
    env = {
        "HERALD_DATABASE_URL": postgres_database.url,
        "HERALD_REDIS_URL": aof_redis.url,
        "HERALD_SECRET_KEY": secrets.token_urlsafe(32),
        "HERALD_HOSTNAME": "mta.herald.example",
        "HERALD_DNS_NAMESERVERS": dns_server.address,
        "HERALD_SMTP_PORT": str(smtp_port),
        "HERALD_SMTP_TIMEOUT": "5s",
        "HERALD_QUEUE_NAME": "herald-reliability",
        "HERALD_RETRY_SCHEDULE": "1s,2s",
        "HERALD_SWEEP_INTERVAL": "0.5s",
        "HERALD_OUTCOME_JOURNAL_DIR": str(tmp_path / "outcome-journal"),
    }
    herald = Herald(load_settings(env, env_file=Path("/nonexistent")), dns_server)
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    # Like a real MX, the sink takes a moment to accept each message (so a worker holds
    # deliveries in flight when it is killed); a message counts as received only once the
    # sink has decided to answer 250.
    sink = smtp_server_factory("127.0.0.2", stalls={"data_end": SINK_ACCEPT_SECONDS})
    fleet = Fleet(env, herald.engine)
    watchers: list[asyncio.Task[None]] = []
    accepted: list[str] = []
    stop = threading.Event()
    started = time.monotonic()
    try:
        sending = asyncio.ensure_future(
            asyncio.to_thread(send_all, fleet.base, tenant.headers, MESSAGES, accepted, stop)
        )
        chaos = [
            (0.15, lambda: fleet.kill_worker(0)),
            (0.30, lambda: fleet.restart_redis(aof_redis)),
            (0.45, fleet.kill_api),
            (0.60, lambda: fleet.kill_worker(1)),
            (0.80, lambda: fleet.kill_worker(0)),
        ]
        for share, action in chaos:
            while len(accepted) < share * MESSAGES and not sending.done():
                await asyncio.sleep(0.05)
            await asyncio.to_thread(action)
            watchers.extend(
                asyncio.ensure_future(k.watch(herald.engine))
                for k in fleet.killed_workers[len(watchers) :]
            )
        send_errors = await sending
        sent_at = time.monotonic()

        deadline = time.monotonic() + 600
        while True:
            with herald.engine.connect() as db:
                pending = db.execute(
                    select(func.count()).where(Recipient.status.not_in(FINAL))
                ).scalar_one()
            if pending == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        finished = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*watchers), timeout=30)
    finally:
        for watcher in watchers:
            watcher.cancel()
        stop.set()
        fleet.stop()
        await herald.close()

    engine = herald.engine
    with engine.connect() as db:
        statuses = dict(
            db.execute(select(Recipient.status, func.count()).group_by(Recipient.status)).all()
        )
        stored = db.execute(select(func.count()).select_from(Message)).scalar_one()
        headers = dict(db.execute(select(Message.message_id_header, Message.id)).all())
        delivered_events = Counter(
            db.execute(select(Event.message_id).where(Event.type == "message.delivered"))
            .scalars()
            .all()
        )
    received = Counter(headers.get(m.parse()["Message-ID"], "?") for m in sink.messages)
    report: dict[str, Any] = {
        "messages": MESSAGES,
        "accepted_202": len(accepted),
        "stored": stored,
        "recipient_statuses": statuses,
        "received_at_sink": len(sink.messages),
        "unique_at_sink": len(received),
        "duplicates_at_sink": sum(n - 1 for n in received.values()),
        "send_retries_during_outages": send_errors,
        "faults": fleet.kills,
        "seconds_sending": round(sent_at - started, 1),
        "seconds_until_all_final": round(finished - started, 1),
        "worker_kills": [k.report(received) for k in fleet.killed_workers],
    }
    print(json.dumps(report, indent=2))
    if path := os.environ.get("HERALD_RELIABILITY_REPORT"):
        Path(path).write_text(json.dumps(report, indent=2))

    assert len(accepted) == MESSAGES
    assert set(statuses) == {"delivered"}, statuses
    assert statuses["delivered"] == stored >= MESSAGES
    assert [m for m in accepted if m not in received] == []
    assert all(delivered_events[m] == 1 for m in accepted)
    assert "?" not in received
    for kill in report["worker_kills"]:
        assert kill["seconds_until_all_final"] <= KILL_RECOVERY_LIMIT, kill
