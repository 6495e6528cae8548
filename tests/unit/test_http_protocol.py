"""Header and body read timeouts of the API's HTTP protocol, on a real uvicorn server.

Raw sockets play the slow clients; a small Litestar app behind :class:`AdmissionControl`
shows what the application saw. Timeouts are a fraction of a second here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import uvicorn
from litestar import Litestar, Request, get, post

from herald_service.api.admission import READ_AHEAD_BYTES, AdmissionControl
from herald_service.api.http_protocol import MAX_HEADER_BYTES, HeraldHttpProtocol

HEADER_TIMEOUT = 0.4
BODY_TIMEOUT = 0.4
MIN_RATE = 100  # bytes per second


class ShortTimeouts(HeraldHttpProtocol):
    """The production protocol with this test's timeouts instead of the settings'."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = HEADER_TIMEOUT
        self.body_timeout = BODY_TIMEOUT
        self.body_min_rate = MIN_RATE


class Server(msgspec.Struct):
    port: int
    admission: AdmissionControl
    handled: list[int]  # body sizes the echo handler received


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    handled: list[int] = []

    @post("/echo", status_code=200)
    async def echo(request: Request[Any, Any, Any]) -> dict[str, int]:
        body = await request.body()
        handled.append(len(body))
        return {"received": len(body)}

    @post("/refuse", status_code=401)
    async def refuse() -> dict[str, str]:
        return {"error": "no"}  # answers without reading the body

    @get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    admission = AdmissionControl(max_in_flight=4)
    app = Litestar([echo, refuse, healthz], middleware=[admission])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        http=ShortTimeouts,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    uvicorn_server = uvicorn.Server(config)
    task = asyncio.create_task(uvicorn_server.serve())
    while not uvicorn_server.started:
        await asyncio.sleep(0.01)
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    yield Server(port, admission, handled)
    uvicorn_server.should_exit = True
    await task


def _post(path: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


async def _until_closed(reader: asyncio.StreamReader, limit: float = 5.0) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    began = time.monotonic()
    data = await asyncio.wait_for(reader.read(), limit)
    return data, time.monotonic() - began


async def test_a_connection_that_sends_nothing_is_closed_without_an_answer(
    server: Server,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    data, waited = await _until_closed(reader)
    writer.close()
    assert data == b""
    assert HEADER_TIMEOUT - 0.05 <= waited < HEADER_TIMEOUT + 1


async def test_unfinished_headers_get_408_also_on_a_kept_alive_connection(
    server: Server,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    await reader.readexactly(int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
    data, waited = await _until_closed(reader)
    writer.close()
    assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"connection: close" in data
    problem = msgspec.json.decode(data.partition(b"\r\n\r\n")[2])
    assert problem["status"] == 408 and "headers" in problem["detail"]
    assert waited < HEADER_TIMEOUT + 1


async def test_a_stalled_body_gets_408_and_never_counted_in_flight(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(_post("/echo", 1000) + b"x" * 10)
    await asyncio.sleep(BODY_TIMEOUT / 2)
    assert (server.admission.reading, server.admission.in_flight) == (1, 0)
    data, _ = await _until_closed(reader)
    writer.close()
    assert data.startswith(b"HTTP/1.1 408 ")
    assert "body" in msgspec.json.decode(data.partition(b"\r\n\r\n")[2])["detail"]
    assert server.handled == []
    assert (server.admission.reading, server.admission.in_flight) == (0, 0)


async def test_a_large_body_that_stalls_gets_408_and_leaves_the_counts(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(_post("/echo", 4 * READ_AHEAD_BYTES) + b"x" * (2 * READ_AHEAD_BYTES))
    await asyncio.sleep(BODY_TIMEOUT / 2)
    assert (server.admission.reading, server.admission.in_flight) == (1, 0)
    data, _ = await _until_closed(reader)
    writer.close()
    assert data.startswith(b"HTTP/1.1 408 ")
    await asyncio.sleep(0.05)  # the application sees the disconnect and returns
    assert (server.admission.reading, server.admission.in_flight) == (0, 0)
    assert server.handled == []


async def test_a_body_arriving_faster_than_the_minimum_rate_may_take_longer(
    server: Server,
) -> None:
    """0.3 s grace plus 1 s per 100 bytes: 100 bytes over 0.6 s at 170 bytes/s pass."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(_post("/echo", 100))
    for _ in range(10):
        await asyncio.sleep(0.06)
        writer.write(b"y" * 10)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    writer.close()
    assert head.startswith(b"HTTP/1.1 200 ")
    assert server.handled == [100]


async def test_a_trickle_slower_than_the_minimum_rate_is_cut(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(_post("/echo", 100))
    answer = asyncio.create_task(_until_closed(reader))
    for _ in range(30):
        writer.write(b"z")  # 10 bytes per second, a tenth of the minimum
        await asyncio.sleep(0.1)
        if answer.done():
            break
    data, waited = await answer
    writer.close()
    assert data.startswith(b"HTTP/1.1 408 ")
    assert waited < BODY_TIMEOUT + 1
    assert server.handled == []


async def test_a_body_left_unsent_after_the_answer_still_ends_the_connection(
    server: Server,
) -> None:
    """A large body is handed on before it is all in; this handler answers without it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(_post("/refuse", 4 * READ_AHEAD_BYTES) + b"x" * (2 * READ_AHEAD_BYTES))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 401 ")
    writer.write(b"x")  # keeps the connection busy past uvicorn's keep-alive timer
    data, waited = await _until_closed(reader)
    writer.close()
    assert b"HTTP/1.1 408" not in data  # the request was already answered
    assert waited < BODY_TIMEOUT + 1


async def test_requests_arriving_whole_are_served_on_one_connection(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for size in (0, 10, 3 * READ_AHEAD_BYTES):
        writer.write(_post("/echo", size) + b"a" * size)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200 "), head
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        assert msgspec.json.decode(await reader.readexactly(length)) == {"received": size}
        await asyncio.sleep(HEADER_TIMEOUT)  # idle between requests is keep-alive's to end
    writer.close()
    assert server.handled == [0, 10, 3 * READ_AHEAD_BYTES]
    assert (server.admission.reading, server.admission.in_flight) == (0, 0)


async def test_headers_beyond_the_limit_get_431_before_they_are_all_in(server: Server) -> None:
    """httptools would buffer headers of any size; the protocol stops at the limit."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    answer = asyncio.create_task(reader.readuntil(b"\r\n\r\n"))
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
    line = b"X-Padding: " + b"p" * 1000 + b"\r\n"
    for _ in range(4 * MAX_HEADER_BYTES // len(line)):
        if answer.done():
            break
        writer.write(line)
        await asyncio.sleep(0.001)
    else:
        writer.write(b"\r\n")  # all of it sent: without a limit it would be served
    head = await asyncio.wait_for(answer, 5)
    writer.close()
    assert head.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), head
    assert b"connection: close" in head
