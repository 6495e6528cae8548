"""Quota enforcement at the HTTP edge and the IETF ``RateLimit`` headers.

Each authenticated request is charged exactly once (one Redis round trip):

* by the auth guard, before the handler runs, for most routes;
* by the handler itself for routes marked ``opt={"quota": "deferred"}`` (sending), once
  validation and the sending domains have told how many recipients to count (see
  :func:`quota_charge`; if the messages then cannot be stored, the recipients are given
  back);
* by :class:`RateLimitHeaders` when a deferred route failed before charging (a malformed
  body, for instance), so that every authenticated answer still carries ``RateLimit``.

The decision is kept in the request's scope state; the middleware writes its headers on
every response, errors included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from herald_service.core.message import OutgoingMessage
from herald_service.errors import FieldError, InvalidRequest, QuotaExceeded
from herald_service.keys.quotas import QuotaDecision, QuotaGate
from herald_service.keys.service import AuthContext
from herald_service.messages.service import Charge, Undo

DECISION = "herald_quota"
AUTH = "auth"


def _gate(app: Litestar) -> QuotaGate:
    gate: QuotaGate = app.state.herald.quotas
    return gate


async def enforce_quota(
    connection: ASGIConnection[Any, Any, Any, Any],
    auth: AuthContext,
    recipients: int = 0,
    field: str = "to",
) -> None:
    """Charge this request (and ``recipients``); :class:`QuotaExceeded` when over quota.

    A request with more recipients than a whole day's cap can never be sent: 422 naming
    ``field``.
    """
    gate = _gate(connection.app)
    limits = gate.limits(auth)
    caps = [c for c in (limits.daily_recipients_per_key, limits.daily_recipients_per_account) if c]
    if caps and recipients > min(caps):
        message = f"{recipients} recipients exceed the daily cap of {min(caps)}"
        raise InvalidRequest(message, [FieldError(field, message)])
    decision = await gate.charge(auth, recipients)
    connection.state[DECISION] = decision
    if decision is not None and not decision.allowed:
        raise QuotaExceeded(
            f"quota exceeded for API key {auth.key_id}; retry in {decision.retry_after}s"
        )


def quota_charge(
    connection: ASGIConnection[Any, Any, Any, Any], auth: AuthContext, field: str = "to"
) -> Charge:
    """A send's :data:`Charge`: this request and its messages' recipients (sandbox
    messages are never delivered: they count none); its undo gives the recipients back."""

    async def charge(messages: Sequence[OutgoingMessage]) -> Undo:
        recipients = sum(len(m.to) + len(m.cc) + len(m.bcc) for m in messages if not m.sandbox)
        await enforce_quota(connection, auth, recipients, field)
        decision: QuotaDecision | None = connection.state.get(DECISION)

        async def refund() -> None:
            await _gate(connection.app).refund(auth, decision, recipients)

        return refund

    return charge


class RateLimitHeaders(ASGIMiddleware):
    """Adds ``RateLimit-Policy``, ``RateLimit`` (and ``Retry-After``) to authenticated answers."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Pass the request on; decorate the response start with the quota headers."""

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._decorate(scope, message)
            await send(message)

        await next_app(scope, receive, send_with_headers)

    @staticmethod
    async def _decorate(scope: Scope, message: Message) -> None:
        state: dict[str, Any] = scope.get("state", {})
        auth: AuthContext | None = state.get(AUTH)
        if auth is None:
            return
        if DECISION not in state:
            state[DECISION] = await _gate(Litestar.from_scope(scope)).charge(auth)
        decision: QuotaDecision | None = state[DECISION]
        if decision is None:
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in decision.headers().items():
            headers[name] = value
