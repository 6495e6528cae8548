"""Slow clients (slowloris) against the real ``herald api`` process.

A few hundred connections that send part of their headers, or their headers and a few
body bytes, and then wait, must neither use up the requests-in-flight budget nor hold
their sockets for ever: health checks and real sends keep their normal latency while
they are open, and the server closes them once the header or body timeout has passed.
Requests with a refused key, waiting out the refusal delay, do not use the budget either.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable

import httpx
import msgspec
import pytest

from support.harness import Herald
from support.processes import free_port, start, stop, wait_http_ok

SLOW_HEADERS = 150  # connections that never finish their request headers
SLOW_BODIES = 150  # connections that send headers and 10 of 1,000 announced body bytes
REFUSED_KEYS = 100  # whole requests with a wrong key, each answered after REFUSAL_DELAY
TIMEOUT = 4.0  # the header and body timeouts the API runs with here
REFUSAL_DELAY = 3.0  # HERALD_AUTH_FAILURE_FLOOR here
MAX_IN_FLIGHT = 64  # below SLOW_BODIES and REFUSED_KEYS: neither may count against it

# Behaviour of the HTTP server, not of the database: SQLite alone is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class SlowClient:
    """One connection that stalls in the middle of its request."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.answer = b""
        self.closed_at: float | None = None

    @classmethod
    async def open(cls, port: int, first_bytes: bytes) -> SlowClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(first_bytes)
        await writer.drain()
        return cls(reader, writer)

    async def wait_closed_by_server(self, timeout: float) -> None:
        """Read until the server closes the connection (or ``timeout`` passes)."""
        try:
            self.answer = await asyncio.wait_for(self.reader.read(), timeout)
            self.closed_at = time.monotonic()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            self.writer.close()


def _partial_headers() -> bytes:
    return b"POST /v1/messages HTTP/1.1\r\nHost: herald\r\nContent-Type: application/json\r\n"


def _headers_and_some_body(token: str) -> bytes:
    return (
        f"POST /v1/messages HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    ).encode() + b'{"from": "'


def _refused_key() -> bytes:
    return (
        b"POST /v1/messages HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer hrld_wrong\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    )


async def _open_slow_clients(port: int, token: str) -> list[SlowClient]:
    """SLOW_HEADERS, then SLOW_BODIES, then REFUSED_KEYS connections, all waiting.

    The refused keys come in small bursts: a burst larger than the budget is shed in
    part (rightly: each request is work until its key has been checked).
    """
    slow = await asyncio.gather(
        *(SlowClient.open(port, _partial_headers()) for _ in range(SLOW_HEADERS)),
        *(SlowClient.open(port, _headers_and_some_body(token)) for _ in range(SLOW_BODIES)),
    )
    for _ in range(REFUSED_KEYS // 10):
        slow += await asyncio.gather(*(SlowClient.open(port, _refused_key()) for _ in range(10)))
        await asyncio.sleep(0.02)
    return slow


def _assert_answered_and_closed(slow: list[SlowClient], opened: float, checked: float) -> None:
    """Every slow connection got its answer and was closed, none before the checks ran."""
    still_open = [c for c in slow if c.closed_at is None]
    assert not still_open, f"{len(still_open)} slow connections were never closed"
    assert min(c.closed_at or 0 for c in slow) >= checked  # not cut before their time
    assert max(c.closed_at or 0 for c in slow) - opened < TIMEOUT + 2.0
    statuses = [c.answer[:13] for c in slow]
    assert (
        statuses
        == [b"HTTP/1.1 408 "] * (SLOW_HEADERS + SLOW_BODIES) + [b"HTTP/1.1 401 "] * REFUSED_KEYS
    )
    for client in slow[: SLOW_HEADERS + SLOW_BODIES]:
        head, _, body = client.answer.partition(b"\r\n\r\n")
        assert b"content-type: application/problem+json" in head.lower()
        assert msgspec.json.decode(body)["status"] == 408


async def _timed(call: Awaitable[httpx.Response]) -> tuple[float, int]:
    """Seconds until the answer, and its status."""
    began = time.monotonic()
    response = await call
    return time.monotonic() - began, response.status_code


async def test_slow_clients_neither_starve_the_api_nor_keep_their_connections(
    herald: Herald, settings_env: dict[str, str]
) -> None:
    tenant = await herald.create_tenant("sender.example")
    port = free_port()
    env = {
        **settings_env,
        "HERALD_API_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT),
        "HERALD_API_HEADER_TIMEOUT": f"{TIMEOUT}s",
        "HERALD_API_BODY_TIMEOUT": f"{TIMEOUT}s",
        "HERALD_AUTH_FAILURE_FLOOR": f"{REFUSAL_DELAY}s",
    }
    api = start(env, "api", "--host", "127.0.0.1", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    message = {"from": "app@sender.example", "to": "bob@receiver.example", "text": "Hi."}
    try:
        wait_http_ok(f"{base}/healthz", api)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:

            async def send() -> tuple[float, int]:
                return await _timed(
                    client.post("/v1/messages", json=message, headers=tenant.headers)
                )

            baseline = [await send() for _ in range(5)]
            assert {status for _, status in baseline} == {202}
            normal = statistics.median(seconds for seconds, _ in baseline)

            opened = time.monotonic()
            slow = await _open_slow_clients(port, tenant.api_key)
            closing = [asyncio.create_task(c.wait_closed_by_server(3 * TIMEOUT)) for c in slow]
            await asyncio.sleep(0.5)  # the server has read every slow request's first bytes

            during = [await send() for _ in range(10)]
            during += [await _timed(client.get("/healthz")) for _ in range(10)]
            checked = time.monotonic()
            assert checked - opened < REFUSAL_DELAY, "the checks ran after the slow clients left"
            assert [status for _, status in during] == [202] * 10 + [200] * 10
            slowest = max(seconds for seconds, _ in during)
            assert slowest < max(0.5, 20 * normal), (slowest, normal)

            await asyncio.gather(*closing)
            _assert_answered_and_closed(slow, opened, checked)
            assert {(await send())[1] for _ in range(3)} == {202}
    finally:
        errors = stop(api)
    assert "Traceback" not in errors, errors
