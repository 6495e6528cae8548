"""Nothing lost: messages keep flowing while workers, the API and Redis are killed (-9).

Every message that got a 202 must end ``delivered`` (the sink accepts everything) with its
``message.delivered`` event; duplicates at the SMTP sink are counted and reported (only
deliveries in flight at a kill may repeat). ``HERALD_RELIABILITY_MESSAGES`` sets the size
(default 2,000); ``HERALD_RELIABILITY_REPORT`` names a file to write the figures to.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from herald_service.settings import load_settings
from herald_service.storage.models import Event, Message, Recipient
from simnet.dns import DNSServer
from simnet.fixtures import SMTPServerFactory
from support.databases import PostgresDatabase
from support.harness import Herald
from support.processes import free_port, start, wait_http_ok
from support.redis_server import RedisServer

MESSAGES = int(os.environ.get("HERALD_RELIABILITY_MESSAGES", "2000"))
SENDERS = 8
FINAL = ("delivered", "bounced", "suppressed")


@pytest.fixture
def aof_redis() -> Iterator[RedisServer]:
    server = RedisServer(appendonly=True)
    yield server
    server.stop()


class Fleet:
    """The API and two workers as child processes, restartable after a kill."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api = self._api()
        self.workers = [start(env, "worker"), start(env, "worker")]
        self.kills: list[str] = []

    def _api(self) -> subprocess.Popen[str]:
        process = start(self.env, "api", "--host", "127.0.0.1", "--port", str(self.port))
        wait_http_ok(f"{self.base}/healthz", process)
        return process

    def kill_worker(self, index: int) -> None:
        self.workers[index].send_signal(signal.SIGKILL)
        self.workers[index].wait()
        self.workers[index] = start(self.env, "worker")
        self.kills.append(f"worker {index} SIGKILL")

    def kill_api(self) -> None:
        self.api.send_signal(signal.SIGKILL)
        self.api.wait()
        self.api = self._api()
        self.kills.append("api SIGKILL")

    def restart_redis(self, redis_server: RedisServer) -> None:
        redis_server.restart()
        self.kills.append("redis SIGKILL + restart (AOF everysec)")

    def stop(self) -> None:
        for process in [self.api, *self.workers]:
            process.terminate()
        for process in [self.api, *self.workers]:
            try:
                process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def _send_all(
    base: str, headers: dict[str, str], accepted: list[str], stop: threading.Event
) -> int:
    """POST ``MESSAGES`` messages from ``SENDERS`` threads, retrying through outages."""
    counter = iter(range(MESSAGES))
    lock = threading.Lock()
    errors = Counter[str]()

    def sender() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            while not stop.is_set():
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                while not stop.is_set():
                    try:
                        response = client.post(
                            "/v1/messages",
                            json={
                                "from": "app@sender.example",
                                "to": f"user{index}@receiver.example",
                                "subject": f"Message {index}",
                                "text": "Hello",
                            },
                        )
                    except httpx.HTTPError as exc:
                        errors[type(exc).__name__] += 1
                        time.sleep(0.2)
                        continue
                    if response.status_code == 202:
                        with lock:
                            accepted.append(str(response.json()["id"]))
                        break
                    errors[str(response.status_code)] += 1
                    time.sleep(0.2)

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(errors.values())


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
        "HERALD_DELIVERY_LEASE": "10s",
    }
    herald = Herald(load_settings(env, env_file=Path("/nonexistent")), dns_server)
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    sink = smtp_server_factory("127.0.0.2")
    fleet = Fleet(env)
    accepted: list[str] = []
    stop = threading.Event()
    started = time.monotonic()
    try:
        sending = asyncio.ensure_future(
            asyncio.to_thread(_send_all, fleet.base, tenant.headers, accepted, stop)
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
        send_errors = await sending
        sent_at = time.monotonic()

        deadline = time.monotonic() + 300
        while True:
            with herald.engine.connect() as db:
                pending = db.execute(
                    select(func.count()).where(Recipient.status.not_in(FINAL))
                ).scalar_one()
            if pending == 0 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        finished = time.monotonic()
    finally:
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
