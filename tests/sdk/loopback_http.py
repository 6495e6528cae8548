"""A scripted HTTP/1.1 server on 127.0.0.1 for the SDK's fault tests.

It is a real server on a real loopback socket: the SDK talks to it through its ordinary
httpx transport. The n-th request gets the n-th action of the script (the last one
repeats): a :class:`Reply`, ``DROP`` (close the connection without answering) or ``STALL``
(never answer). Every request is recorded with its headers, body and arrival time.
"""

from __future__ import annotations

import itertools
import json
import socketserver
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from herald import RetryPolicy

DROP: Literal["drop"] = "drop"
STALL: Literal["stall"] = "stall"


@dataclass(frozen=True)
class Reply:
    """An HTTP answer; a dict body is sent as JSON (problem+json for 4xx/5xx)."""

    status: int
    body: dict[str, Any] | bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        body = self.body
        content_type = "application/octet-stream"
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            content_type = "application/problem+json" if self.status >= 400 else "application/json"
        headers = {
            "Content-Type": content_type,
            **self.headers,
            "Content-Length": str(len(body)),
            "Connection": "close",
        }
        head = f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return head.encode("latin-1") + b"\r\n" + body


Action = Reply | Literal["drop", "stall"]

FAST_RETRIES = RetryPolicy(initial_delay=0.01, max_delay=0.05)
"""Backoff short enough that a wait of a second or more can only be the server's Retry-After."""


@dataclass(frozen=True)
class Received:
    """One request as the server read it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


def problem(status: int, title: str, detail: str = "") -> dict[str, Any]:
    """An RFC 9457 body like Herald's."""
    slug = title.lower().replace(" ", "-")
    return {
        "type": f"/problems#{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        request_line = self.rfile.readline().decode("latin-1").strip()
        if not request_line:
            return
        method, path, _ = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        while (line := self.rfile.readline().decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.rfile.read(int(headers.get("content-length", "0")))
        action = self.server.owner.record(Received(method, path, headers, body, time.monotonic()))
        if action == DROP:
            return
        if action == STALL:
            self.server.owner.stopping.wait(30)
            return
        self.wfile.write(action.encode())
        self.wfile.flush()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ScriptedHTTPServer


class ScriptedHTTPServer:
    """Answers requests from a script; use as a context manager."""

    def __init__(self, *script: Action) -> None:
        if not script:
            raise ValueError("the script needs at least one action")
        self.script = list(script)
        self.received: list[Received] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def record(self, received: Received) -> Action:
        """Store a request; return the action for it."""
        with self._lock:
            self.received.append(received)
            index = min(len(self.received), len(self.script)) - 1
            return self.script[index]

    def idempotency_keys(self) -> list[str | None]:
        """The ``Idempotency-Key`` header of each request received, in order."""
        return [r.headers.get("idempotency-key") for r in self.received]

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests."""
        times = [r.at for r in self.received]
        return [b - a for a, b in itertools.pairwise(times)]

    def __enter__(self) -> ScriptedHTTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
