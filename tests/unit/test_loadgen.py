"""The load generator's HTTP/1.1 client against real servers on loopback.

uvicorn (h11) answers as the API does; a raw asyncio server misbehaves on purpose: it
closes connections without an answer, mid-answer, or never answers.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from loadtests.loadgen import PhaseResult, Sender, offered, recipient, saturate, status_summary

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
API_KEY = "hk_test_secret"


class Api:
    """An ASGI stand-in for ``POST /v1/messages`` that remembers what it saw."""

    def __init__(self) -> None:
        self.client_ports: set[int] = set()
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.client_ports.add(scope["client"][1])
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        payload = json.loads(body)
        self.requests.append((f"{scope['method']} {scope['path']}", headers, payload))
        to = payload["to"][0]
        if to.startswith("bad"):  # a 422 with a chunked body (no Content-Length)
            await send({"type": "http.response.start", "status": 422, "headers": []})
            await send({"type": "http.response.body", "body": b"invalid ", "more_body": True})
            await send({"type": "http.response.body", "body": b"recipient"})
            return
        extra = [(b"connection", b"close")] if to.startswith("close") else []
        answer = b'{"id": "msg_1"}'
        await send(
            {
                "type": "http.response.start",
                "status": 202,
                "headers": [(b"content-type", b"application/json"), *extra],
            }
        )
        await send({"type": "http.response.body", "body": answer})


@pytest.fixture
async def api() -> AsyncIterator[tuple[Api, str]]:
    app = Api()
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def _rude_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Per request, by recipient index: 0 answer, 1 hang up, 2 half an answer; 'slow': none."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", head)[1])  # type: ignore[index]
            to = json.loads(await reader.readexactly(length))["to"][0]
            if to.startswith("slow"):
                await reader.read()  # until the client gives up
                break
            index = int(re.search(r"(\d+)@", to)[1])  # type: ignore[index]
            if index % 3 == 0:
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}")
            elif index % 3 == 1:
                break
            else:
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 50\r\n\r\n{")
                await writer.drain()
                break
    except asyncio.IncompleteReadError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def rude() -> AsyncIterator[str]:
    server = await asyncio.start_server(_rude_handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()


def _sender(url: str, connections: int, timeout: float = 10.0) -> Sender:
    return Sender(url, API_KEY, "bench@sender.example", connections, timeout=timeout)


async def test_keep_alive_connections_are_reused(api: tuple[Api, str]) -> None:
    app, url = api
    sender = _sender(url, 4)
    result = await saturate(sender, "ok", 60, 4, 30)
    await sender.close()
    assert (result.sent, result.accepted, result.statuses) == (60, 60, {"202": 60})
    assert sorted(result.recipients) == sorted(recipient("ok", i) for i in range(60))
    assert len(app.client_ports) == 4 and sender.pool.opened == 4
    line, headers, payload = app.requests[0]
    assert line == "POST /v1/messages"
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert headers["content-type"] == "application/json"
    assert headers["host"] == url.removeprefix("http://")
    assert payload["from"]["email"] == "bench@sender.example"


async def test_non_2xx_answer_is_a_status_not_an_error(
    api: tuple[Api, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = api
    sender = _sender(url, 2)
    result = await saturate(sender, "bad", 10, 2, 30)
    await sender.close()
    assert result.statuses == {"422": 10} and result.errors == {}
    assert result.accepted == 0 and result.failures == 10
    assert result.recipients == [] and result.uncertain == []
    assert "422: invalid recipient" in capsys.readouterr().out  # chunked body reassembled
    assert len(app.client_ports) == 2  # the chunked answer left the connection usable
    assert status_summary(result) == "422: 10"


async def test_connection_close_answer_opens_a_new_connection(api: tuple[Api, str]) -> None:
    app, url = api
    sender = _sender(url, 1)
    result = await saturate(sender, "close", 5, 1, 30)
    await sender.close()
    assert result.accepted == 5 and result.errors == {}
    assert len(app.client_ports) == 5 and sender.pool.opened == 5


async def test_open_model_opens_connections_as_needed(api: tuple[Api, str]) -> None:
    _, url = api
    sender = _sender(url, 8)
    result = await offered(sender, "open", rate=200, duration=0.5, max_in_flight=8)
    await sender.close()
    assert result.accepted + result.skipped == 100 and result.errors == {}
    assert len(result.latencies) == result.accepted
    assert 1 <= sender.pool.opened <= 8


async def test_hang_ups_count_as_uncertain_not_lost(rude: str) -> None:
    sender = _sender(rude, 3)
    result = await saturate(sender, "mix", 30, 3, 30)
    await sender.close()
    everyone = {recipient("mix", i) for i in range(30)}
    assert result.sent == 30 and result.accepted == 10 and result.statuses == {"202": 10}
    assert set(result.recipients) == {recipient("mix", i) for i in range(0, 30, 3)}
    assert set(result.uncertain) == everyone - set(result.recipients)
    assert result.errors == {"ServerDisconnected": 20}
    assert result.failures == 20 and len(result.latencies) == 30


async def test_no_answer_in_time_is_uncertain(rude: str) -> None:
    sender = _sender(rude, 2, timeout=0.2)
    result = await saturate(sender, "slow", 4, 2, 30)
    await sender.close()
    assert result.errors == {"TimeoutError": 4} and result.accepted == 0
    assert sorted(result.uncertain) == sorted(recipient("slow", i) for i in range(4))
    assert min(result.latencies) >= 0.2


async def test_refused_connection_is_an_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    sender = _sender(f"http://127.0.0.1:{port}", 1)
    result: PhaseResult = await saturate(sender, "gone", 2, 1, 30)
    assert result.errors == {"ConnectionRefusedError": 2} and len(result.uncertain) == 2
