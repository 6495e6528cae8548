"""Admission control: beyond the limit a request gets 503 + Retry-After, not a slow answer."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Litestar, Request, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from herald_service.api.admission import READ_AHEAD_BYTES, AdmissionControl, leave_budget

Body = list[dict[str, Any]] | asyncio.Queue[dict[str, Any]]


async def _get(
    app: Litestar, path: str, body: Body | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """One request straight through the ASGI interface, concurrently with others on this
    loop; ``body`` gives the ``receive`` messages (a queue: as the test puts them)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
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
    messages = body if body is not None else [_chunk(b"", more=False)]

    async def receive() -> dict[str, Any]:
        if isinstance(messages, list):
            return messages.pop(0) if messages else {"type": "http.disconnect"}
        return await messages.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)  # type: ignore[arg-type]
    return answer.get("status", 0), answer.get("headers", {}), answer["body"]


def _chunk(data: bytes, *, more: bool) -> dict[str, Any]:
    return {"type": "http.request", "body": data, "more_body": more}


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


async def test_requests_still_receiving_their_body_do_not_count_in_flight() -> None:
    """Slow uploaders are counted apart: the budget is for work, and theirs has not begun."""
    bodies: list[bytes] = []

    @post("/upload", status_code=200)
    async def upload(request: Request[Any, Any, Any]) -> str:
        bodies.append(await request.body())
        return "ok"

    admission = AdmissionControl(max_in_flight=1)
    app = Litestar([upload], middleware=[admission])
    slow: list[asyncio.Queue[dict[str, Any]]] = [asyncio.Queue() for _ in range(5)]
    for queue in slow:
        queue.put_nowait(_chunk(b'{"a": ', more=True))
    stalled = [asyncio.create_task(_get(app, "/upload", queue, "POST")) for queue in slow]
    await asyncio.sleep(0.05)
    assert (admission.reading, admission.in_flight) == (5, 0)

    whole = [_chunk(b"whole", more=False)]
    assert (await _get(app, "/upload", whole, "POST"))[0] == 200  # not shed: 0 in flight

    for queue in slow:
        queue.put_nowait(_chunk(b"1}", more=False))
    answers = await asyncio.gather(*stalled)
    assert sorted(status for status, _, _ in answers) == [200] * 5
    assert bodies == [b"whole"] + [b'{"a": 1}'] * 5
    assert (admission.reading, admission.in_flight) == (0, 0)


async def test_a_large_body_counts_once_it_is_all_in_and_arrives_intact() -> None:
    entered: list[int] = []
    admission = AdmissionControl(max_in_flight=1)

    @post("/upload", status_code=200)
    async def upload(request: Request[Any, Any, Any]) -> int:
        body = await request.body()
        entered.append(admission.in_flight)
        return len(body)

    app = Litestar([upload], middleware=[admission])
    part = b"x" * (READ_AHEAD_BYTES // 2 + 1)
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for _ in range(3):
        queue.put_nowait(_chunk(part, more=True))
    request = asyncio.create_task(_get(app, "/upload", queue, "POST"))
    await asyncio.sleep(0.05)  # handed on after the read-ahead, the rest still to come
    assert (admission.reading, admission.in_flight) == (1, 0)
    queue.put_nowait(_chunk(part, more=False))
    status, _, body = await request
    assert (status, int(body)) == (200, 4 * len(part))
    assert entered == [1]
    assert (admission.reading, admission.in_flight) == (0, 0)


async def test_a_client_gone_before_its_body_is_not_served() -> None:
    called: list[str] = []

    @post("/upload", status_code=200)
    async def upload() -> str:
        called.append("upload")
        return "ok"

    admission = AdmissionControl(max_in_flight=1)
    app = Litestar([upload], middleware=[admission])
    gone = [_chunk(b"{", more=True), {"type": "http.disconnect"}]
    assert (await _get(app, "/upload", gone, "POST"))[0] == 0  # nothing sent
    assert called == []
    assert (admission.reading, admission.in_flight) == (0, 0)


async def test_a_request_that_only_waits_leaves_the_budget() -> None:
    """A refused API key waits out the uniform refusal delay outside the budget."""
    release = asyncio.Event()

    async def refuse_slowly(
        connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        leave_budget(connection.scope)
        await release.wait()

    @get("/refused", guards=[refuse_slowly])
    async def refused() -> str:
        return "never mind"

    @get("/work")
    async def work() -> str:
        return "done"

    admission = AdmissionControl(max_in_flight=2)
    app = Litestar([refused, work], middleware=[admission])
    waiting = [asyncio.create_task(_get(app, "/refused")) for _ in range(10)]
    await asyncio.sleep(0.05)
    assert admission.in_flight == 0
    assert (await _get(app, "/work"))[0] == 200
    release.set()
    await asyncio.gather(*waiting)
    assert admission.in_flight == 0
