"""Admission control: past a number of requests in flight, answer 503 at once.

An API process that takes every request while saturated only makes all of them slow,
until clients time out and drop connections with nothing known about their requests.
:class:`AdmissionControl` counts the requests this process is working on; beyond
``HERALD_API_MAX_IN_FLIGHT`` it answers ``503`` with ``Retry-After`` before reading the
body, so a client (the SDK does) waits and retries a request that certainly was not
accepted. Health and metrics endpoints are always served.
"""

from __future__ import annotations

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from herald_service.api.problems import PROBLEM_JSON, PROBLEM_TYPE_BASE, Problem
from herald_service.metrics import REQUESTS_SHED

ALWAYS_SERVED = ("/healthz", "/readyz", "/metrics")
RETRY_AFTER_SECONDS = 1

_OVERLOADED = msgspec.json.encode(
    Problem(
        type=PROBLEM_TYPE_BASE + "service-overloaded",
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


class AdmissionControl(ASGIMiddleware):
    """Sheds requests beyond ``max_in_flight`` at once in this process (0: no limit)."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Serve the request, or answer 503 if this process already has enough of them."""
        if (
            self.max_in_flight
            and self.in_flight >= self.max_in_flight
            and scope["path"] not in ALWAYS_SERVED
        ):
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
            return
        self.in_flight += 1
        try:
            await next_app(scope, receive, send)
        finally:
            self.in_flight -= 1
