"""Admission control: beyond the limit a request gets 503 + Retry-After, not a slow answer."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Litestar, get

from herald_service.api.admission import AdmissionControl


async def _get(app: Litestar, path: str) -> tuple[int, dict[str, str], bytes]:
    """One GET straight through the ASGI interface, concurrently with others on this loop."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)  # type: ignore[arg-type]
    return answer["status"], answer["headers"], answer["body"]


async def test_requests_beyond_the_limit_are_shed_until_some_finish() -> None:
    release = asyncio.Event()
    entered = 0

    @get("/slow")
    async def slow() -> str:
        nonlocal entered
        entered += 1
        await release.wait()
        return "done"

    @get("/healthz")
    async def healthz() -> str:
        return "ok"

    admission = AdmissionControl(max_in_flight=2)
    app = Litestar([slow, healthz], middleware=[admission])
    held = [asyncio.create_task(_get(app, "/slow")) for _ in range(2)]
    while entered < 2:
        await asyncio.sleep(0.01)
    status, headers, body = await _get(app, "/slow")
    assert status == 503
    assert headers["retry-after"] == "1"
    assert headers["content-type"] == "application/problem+json"
    assert msgspec.json.decode(body)["title"] == "Service overloaded"
    assert (await _get(app, "/healthz"))[0] == 200  # always served
    assert entered == 2  # the shed request never reached its handler

    release.set()
    assert [answer[0] for answer in await asyncio.gather(*held)] == [200, 200]
    assert admission.in_flight == 0
    assert (await _get(app, "/slow"))[0] == 200


async def test_zero_means_no_limit() -> None:
    @get("/")
    async def index() -> str:
        await asyncio.sleep(0.05)
        return "ok"

    app = Litestar([index], middleware=[AdmissionControl(max_in_flight=0)])
    answers = await asyncio.gather(*(_get(app, "/") for _ in range(20)))
    assert {answer[0] for answer in answers} == {200}
