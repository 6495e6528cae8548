"""A Sentinel failover under load: ``herald api`` and two ``herald worker`` processes reach
Redis through ``redis+sentinel://``; the master is killed (-9) while messages keep coming,
the Sentinel promotes the replica, and the API and the workers carry on.

The API may answer ``503`` while no master is known, never ``500``, and every message it
accepted with ``202`` must reach the SMTP sink: those accepted while no master answered
could not be queued, and the workers' sweeper hands them out once their enqueue grace
(30 s) has passed, which is most of this test's run time.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from herald_service.messages.store import ENQUEUE_GRACE
from herald_service.settings import load_settings
from herald_service.storage.models import Message, Recipient
from simnet.dns import DNSServer
from simnet.fixtures import SMTPServerFactory
from support.databases import migrated_sqlite
from support.harness import Herald
from support.processes import HERALD, child_env, free_port, wait_http_ok
from support.sentinel import SentinelGroup

SENDERS = 4


@pytest.fixture
def sentinels() -> Iterator[SentinelGroup]:
    group = SentinelGroup()
    yield group
    group.stop()


class Processes:
    """``herald api`` and two ``herald worker`` children, their output in files (a pipe
    nobody reads would block them once the failover's warnings have filled it)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self._logs = [(logs / f"{name}.log").open("w") for name in ("api", "w1", "w2")]
        api_args = ("api", "--host", "127.0.0.1", "--port", str(port))
        self.api, *self.workers = (
            subprocess.Popen(
                [*HERALD, *args], env=child_env(env), stdout=log, stderr=subprocess.STDOUT
            )
            for log, args in zip(self._logs, [api_args, ("worker",), ("worker",)], strict=True)
        )

    def stop(self) -> None:
        for process in (self.api, *self.workers):
            process.terminate()
        for process in (self.api, *self.workers):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self._logs:
            log.close()


class Traffic:
    """Threads POSTing one message at a time, noting every answer."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base = base
        self.headers = headers
        self.answers: Counter[str] = Counter()
        self.accepted: list[tuple[float, str]] = []  # (monotonic time, message id)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._send, args=(n,)) for n in range(SENDERS)]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _send(self, sender: int) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=10) as client:
            for index in range(1_000_000):
                if self._stop.is_set():
                    return
                body = {
                    "from": "app@sender.example",
                    "to": f"user{sender}-{index}@receiver.example",
                    "subject": "failover",
                    "text": "Hello",
                }
                try:
                    response = client.post("/v1/messages", json=body)
                    answer = str(response.status_code)
                except httpx.HTTPError as exc:
                    response, answer = None, type(exc).__name__
                with self._lock:
                    self.answers[answer] += 1
                    if response is not None and response.status_code == 202:
                        self.accepted.append((time.monotonic(), response.json()["id"]))
                time.sleep(0.05)

    def accepted_since(self, moment: float) -> int:
        with self._lock:
            return sum(1 for at, _ in self.accepted if at > moment)


async def _until(
    condition: Callable[[], bool], seconds: float, what: str, traffic: Traffic
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not {what} in {seconds}s: {dict(traffic.answers)}"
        await asyncio.sleep(0.1)


@pytest.mark.timeout(180)
async def test_api_and_workers_carry_on_through_a_sentinel_failover(
    sentinels: SentinelGroup,
    dns_server: DNSServer,
    smtp_port: int,
    smtp_server_factory: SMTPServerFactory,
    tmp_path: Path,
) -> None:
    env = {
        "HERALD_DATABASE_URL": migrated_sqlite(str(tmp_path / "herald.db")),
        "HERALD_REDIS_URL": sentinels.url,
        "HERALD_SECRET_KEY": secrets.token_urlsafe(32),
        "HERALD_HOSTNAME": "mta.herald.example",
        "HERALD_DNS_NAMESERVERS": dns_server.address,
        "HERALD_SMTP_PORT": str(smtp_port),
        "HERALD_SMTP_TIMEOUT": "5s",
        "HERALD_QUEUE_NAME": "herald-failover",
        "HERALD_SWEEP_INTERVAL": "0.5s",
        "HERALD_OUTCOME_JOURNAL_DIR": str(tmp_path / "outcome-journal"),
    }
    herald = Herald(load_settings(env, env_file=Path("/nonexistent")), dns_server)
    tenant = await herald.create_tenant("sender.example")
    herald.add_mx("receiver.example", (10, "mx.receiver.example", "127.0.0.2"))
    sink = smtp_server_factory("127.0.0.2")
    fleet = Processes(env, tmp_path)
    try:
        wait_http_ok(f"{fleet.base}/healthz", fleet.api)
        with Traffic(fleet.base, tenant.headers) as traffic:
            # Mail flows through the first master, ...
            await _until(lambda: len(sink.messages) >= 10, 20, "delivered", traffic)
            killed_at = sentinels.kill_master()
            promoted_at = await asyncio.to_thread(sentinels.wait_promoted)
            # ... and the API takes messages again once the replica is master.
            await _until(lambda: traffic.accepted_since(promoted_at + 1) >= 20, 20, "", traffic)
        ready = httpx.get(f"{fleet.base}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        workers_alive = [worker.poll() is None for worker in fleet.workers]

        accepted = {message_id for _, message_id in traffic.accepted}
        deadline = delivered_at = time.monotonic() + ENQUEUE_GRACE.total_seconds() + 30
        while time.monotonic() < deadline:
            with herald.engine.connect() as db:
                waiting = db.execute(
                    select(func.count()).where(Recipient.status != "delivered")
                ).scalar_one()
            if waiting == 0:
                delivered_at = time.monotonic()
                break
            await asyncio.sleep(0.5)
    finally:
        fleet.stop()
        await herald.close()

    with herald.engine.connect() as db:
        headers = dict(db.execute(select(Message.message_id_header, Message.id)).all())
    received = {headers.get(m.parse()["Message-ID"]) for m in sink.messages}
    print(
        f"failover in {promoted_at - killed_at:.1f}s, all delivered "
        f"{delivered_at - killed_at:.1f}s after the kill; answers {dict(traffic.answers)}; "
        f"{len(accepted)} accepted, {len(received & accepted)} at the sink"
    )
    assert set(traffic.answers) <= {"202", "503"}, traffic.answers
    assert traffic.answers["202"] == len(accepted) > 20
    assert workers_alive == [True, True]
    assert sorted(accepted - received) == []
