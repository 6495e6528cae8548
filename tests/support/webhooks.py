"""A real HTTP webhook receiver on loopback, and running the webhook pipeline in-process."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from herald_queue.webhook_dispatch import WebhookQueue, dispatch_once
from herald_queue.webhooks import send_webhook
from herald_service.delivery_queue import redis_connection
from herald_service.storage.database import session_factory
from herald_service.storage.types import utcnow
from simnet.ports import ensure_loopback

from .harness import Herald


@dataclass
class ReceivedRequest:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    """How the receiver answers one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


class WebhookReceiver:
    """An HTTP server on ``host`` that records requests and answers from a script.

    ``answers`` are used in order, one per request; once used up, ``default`` answers.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        ensure_loopback(host)
        self.requests: list[ReceivedRequest] = []
        self.answers: list[Answer] = []
        self.default = Answer()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        ReceivedRequest(
                            "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                        )
                    )
                    answer = receiver.answers.pop(0) if receiver.answers else receiver.default
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.host, self.port = host, self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hooks", host: str | None = None) -> str:
        """The URL of ``path`` on this receiver (optionally naming it by ``host``)."""
        return f"http://{host or self.host}:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[ReceivedRequest]:
        """Wait until at least ``count`` requests arrived; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.requests) >= count, f"got {len(self.requests)} of {count} requests"
        return list(self.requests)

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


async def drain_webhooks(herald: Herald, *, rounds: int = 1) -> int:
    """Dispatch due deliveries and run their jobs here, ``rounds`` times; returns jobs run."""
    settings = herald.settings
    queue = WebhookQueue(redis_connection(settings.redis_url), settings.webhook_queue_name)
    sessions = session_factory(herald.engine)
    ran = 0
    for _ in range(rounds):
        dispatch_once(sessions, queue, utcnow(), timedelta(seconds=settings.webhook_lease))
        while raw_id := queue.queue.connection.lpop(queue.queue.key):
            job = queue.queue.fetch_job(raw_id.decode() if isinstance(raw_id, bytes) else raw_id)
            if job is None:
                continue
            await send_webhook(herald.runtime, str(job.args[0]), str(job.args[1]))
            ran += 1
    return ran
