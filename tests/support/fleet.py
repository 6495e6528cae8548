"""Herald's API and workers as child processes, killed and restarted as a test requires,
and what each worker kill cost: the recipients it left under lease, how long until they
were all final, and how many of their messages reached the sink twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import Engine, select

from herald_service.storage.models import Recipient
from support.processes import free_port, start, wait_http_ok
from support.redis_server import RedisServer

FINAL = ("delivered", "bounced", "suppressed")


class KilledWorker:
    """The recipients a worker kill left under lease, and when they were all final."""

    def __init__(self, fault: str, leased: dict[int, str]) -> None:
        self.fault = fault
        self.killed_at = time.monotonic()
        self.leased = leased  # recipient id -> message id
        self.seconds_until_final: float | None = None

    async def watch(self, engine: Engine) -> None:
        """Poll until every recipient leased at the kill is final; note how long it took."""
        ids = list(self.leased)
        while ids:
            ids = await asyncio.to_thread(not_final, engine, ids)
            if ids:
                await asyncio.sleep(0.25)
        self.seconds_until_final = round(time.monotonic() - self.killed_at, 1)

    def report(self, received: Counter[str]) -> dict[str, Any]:
        """The figures of this kill (``received``: deliveries at the sink by message id)."""
        messages = set(self.leased.values())
        return {
            "fault": self.fault,
            "recipients_leased_at_kill": len(self.leased),
            "seconds_until_all_final": self.seconds_until_final,
            "duplicates_at_sink": sum(received[m] - 1 for m in messages if received[m] > 1),
        }


def leased(engine: Engine) -> dict[int, str]:
    """The recipients under a delivery lease right now (by any worker), by id."""
    with engine.connect() as db:
        rows = db.execute(
            select(Recipient.id, Recipient.message_id).where(
                Recipient.status == "queued", Recipient.lease_token.is_not(None)
            )
        ).all()
    return {int(rid): str(mid) for rid, mid in rows}


def not_final(engine: Engine, ids: list[int]) -> list[int]:
    """Those of ``ids`` whose recipient is not in a final state yet."""
    with engine.connect() as db:
        rows = db.execute(
            select(Recipient.id).where(Recipient.id.in_(ids), Recipient.status.not_in(FINAL))
        )
        return [int(rid) for rid in rows.scalars()]


class Fleet:
    """The API and ``workers`` workers as child processes, restartable after a kill."""

    def __init__(self, env: dict[str, str], engine: Engine, workers: int = 2) -> None:
        self.env = env
        self.engine = engine
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api = self._api()
        self.workers = [start(env, "worker") for _ in range(workers)]
        self.kills: list[str] = []
        self.killed_workers: list[KilledWorker] = []

    def _api(self) -> subprocess.Popen[str]:
        process = start(self.env, "api", "--host", "127.0.0.1", "--port", str(self.port))
        wait_http_ok(f"{self.base}/healthz", process)
        return process

    def add_workers(self, count: int) -> None:
        """Start ``count`` more workers."""
        self.workers.extend(start(self.env, "worker") for _ in range(count))

    def kill_worker(self, index: int) -> KilledWorker:
        """SIGKILL worker ``index``, note what it left under lease, start another."""
        self.workers[index].send_signal(signal.SIGKILL)
        self.workers[index].wait()
        fault = f"worker {index} SIGKILL"
        earlier = {rid for k in self.killed_workers for rid in k.leased}
        left = {r: m for r, m in leased(self.engine).items() if r not in earlier}
        killed = KilledWorker(fault, left)
        self.killed_workers.append(killed)
        self.workers[index] = start(self.env, "worker")
        self.kills.append(fault)
        return killed

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


def send_all(
    base: str,
    headers: dict[str, str],
    count: int,
    accepted: list[str],
    stop: threading.Event,
    senders: int = 8,
) -> int:
    """POST ``count`` messages from ``senders`` threads, retrying through outages; how
    many requests had to be retried."""
    counter = iter(range(count))
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

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(errors.values())
