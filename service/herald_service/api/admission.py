"""Admission control: past a number of requests in flight, answer 503 at once.

An API process that takes every request while saturated only makes all of them slow,
until clients time out and drop connections with nothing known about their requests.
:class:`AdmissionControl` counts the requests this process is working on; beyond
``HERALD_API_MAX_IN_FLIGHT`` it answers ``503`` with ``Retry-After``, so a client (the SDK
does) waits and retries a request that certainly was not accepted. Health and metrics
endpoints are always served.

Only work counts. A request enters the budget once its body has arrived, so clients that
send their headers and then trickle (or withhold) the body cannot fill it and starve
everyone else: they are counted apart, in :attr:`AdmissionControl.reading`, and the HTTP
protocol's body timeout (:mod:`herald_service.api.http_protocol`) ends them. Likewise a
request whose API key was refused leaves the budget (:func:`leave_budget`) while it waits
out the uniform refusal delay.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import (
    ASGIApp,
    HTTPReceiveMessage,
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from herald_service.api.problems import PROBLEM_JSON, Problem, problem_type
from herald_service.metrics import REQUESTS_SHED

ALWAYS_SERVED = ("/healthz", "/readyz", "/metrics")
RETRY_AFTER_SECONDS = 1
# Body bytes read before the request is handed on: as much as uvicorn buffers per
# connection anyway, and more than any API call without a large attachment.
READ_AHEAD_BYTES = 64 * 1024
_PLACE = "herald.admission"  # the scope key of a request's place in the budget

_OVERLOADED = msgspec.json.encode(
    Problem(
        type=problem_type("Service overloaded"),
        title="Service overloaded",
        status=503,
        detail=f"Too many requests in progress; nothing was accepted. "
        f"Retry in {RETRY_AFTER_SECONDS}s.",
    )
)
_HEADERS = [
    (b"content-type", PROBLEM_JSON.encode()),
    (b"content-length", str(len(_OVERLOADED)).encode()),
    (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
]


class _Place:
    """One request's standing: reading its body, in flight, or gone (at most once each)."""

    __slots__ = ("control", "in_flight", "left", "reading")

    def __init__(self, control: AdmissionControl) -> None:
        self.control = control
        self.reading = False
        self.in_flight = False
        self.left = False

    def start_reading(self) -> None:
        self.reading = True
        self.control.reading += 1

    def body_received(self) -> None:
        """The body is in: from now on the request is work in flight."""
        if self.reading:
            self.reading = False
            self.control.reading -= 1
        if not self.left and not self.in_flight:
            self.in_flight = True
            self.control.in_flight += 1

    def leave(self) -> None:
        """Stop counting the request anywhere, for good."""
        self.left = True
        if self.reading:
            self.reading = False
            self.control.reading -= 1
        if self.in_flight:
            self.in_flight = False
            self.control.in_flight -= 1


def leave_budget(scope: Scope) -> None:
    """Stop counting this request in flight: from now on it only waits (a refused key)."""
    place: _Place | None = cast("dict[str, Any]", scope).get(_PLACE)
    if place is not None:
        place.leave()


class AdmissionControl(ASGIMiddleware):
    """Sheds requests beyond ``max_in_flight`` at once in this process (0: no limit)."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self.in_flight = 0  # requests with their body in, being worked on
        self.reading = 0  # requests whose body is still on its way

    def full(self) -> bool:
        """Whether a request arriving now would be shed."""
        return bool(self.max_in_flight) and self.in_flight >= self.max_in_flight

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Serve the request once its body is in, or answer 503 if the process is full."""
        if scope["path"] in ALWAYS_SERVED:
            await next_app(scope, receive, send)
            return
        if self.full():  # before reading the body: a full process does not take it
            await _shed(send)
            return
        self.reading += 1
        try:
            first = await _read_ahead(receive)
        finally:
            self.reading -= 1
        if first is None:
            return  # the client went away (or timed out) before sending its body
        place = _Place(self)
        cast("dict[str, Any]", scope)[_PLACE] = place
        if first.get("more_body", False):
            # A large body: the application reads the rest; it is work once that is in.
            place.start_reading()
            app_receive = _replay(first, receive, place)
        elif self.full():
            await _shed(send)
            return
        else:
            place.body_received()
            app_receive = _replay(first, receive, None)
        try:
            await next_app(scope, app_receive, send)
        finally:
            place.leave()


async def _read_ahead(receive: Receive) -> HTTPRequestEvent | None:
    """The request's body up to :data:`READ_AHEAD_BYTES`, or None if the client left."""
    message = cast("HTTPReceiveMessage", await receive())
    if message["type"] != "http.request":
        return None
    if not message.get("more_body", False):
        return message  # the whole body came at once: nearly every API call
    chunks = [message["body"]]
    size = len(message["body"])
    more_body = True
    while more_body and size < READ_AHEAD_BYTES:
        message = cast("HTTPReceiveMessage", await receive())
        if message["type"] != "http.request":
            return None
        chunks.append(message["body"])
        size += len(message["body"])
        more_body = message.get("more_body", False)
    return {"type": "http.request", "body": b"".join(chunks), "more_body": more_body}


def _replay(first: HTTPRequestEvent, receive: Receive, place: _Place | None) -> Receive:
    """``receive`` that gives ``first`` again, then the rest; it tells ``place`` (if any)
    when the last of the body has been received."""
    pending = [first]

    async def replayed() -> Any:
        if pending:
            return pending.pop()
        message = await receive()
        if place is not None and not message.get("more_body", False):
            if message["type"] == "http.request":
                place.body_received()
            else:
                place.leave()
        return message

    return replayed


async def _shed(send: Send) -> None:
    REQUESTS_SHED.inc()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 503,
        "headers": _HEADERS,
    }
    await send(start)
    body: HTTPResponseBodyEvent = {
        "type": "http.response.body",
        "body": _OVERLOADED,
        "more_body": False,
    }
    await send(body)
