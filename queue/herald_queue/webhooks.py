"""Send one webhook delivery: build the body, sign it, POST it to the checked address, record.

Per the Standard Webhooks spec: ``webhook-id`` (the event id, the same on every retry),
``webhook-timestamp`` (this attempt) and ``webhook-signature`` (one ``v1,`` signature per
active secret). 2xx is success; anything else, a redirect included (never followed), is a
failure retried on ``HERALD_WEBHOOK_RETRY_SCHEDULE`` (``Retry-After`` honoured on 429/503);
410 disables the endpoint, and so does failing for ``HERALD_WEBHOOK_DISABLE_AFTER``.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import msgspec
from sqlalchemy import select

from herald_queue.runtime import WorkerRuntime
from herald_service import __version__
from herald_service.core.addresses import parse_networks
from herald_service.core.backoff import retry_delay
from herald_service.core.webhooks import is_success, signature_header
from herald_service.dns import make_resolver
from herald_service.events.service import event_view
from herald_service.security.ssrf import UnsafeTarget, resolve_target
from herald_service.storage.models import (
    Event,
    Message,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from herald_service.storage.types import utcnow
from herald_service.webhooks.service import signing_secrets

MAX_RETRY_AFTER = 24 * 3600.0
RESPONSE_BODY_LIMIT = 1024
USER_AGENT = f"Herald-Webhooks/{__version__}"
_TLS = ssl.create_default_context()


class Outcome(msgspec.Struct, frozen=True):
    """What one attempt got: a status code, or an error instead."""

    status_code: int | None = None
    error: str = ""
    response_body: str = ""
    address: str = ""
    retry_after: float | None = None
    duration_ms: int = 0


def _body(delivery: WebhookDelivery, event: Event | None, message: Message | None) -> bytes:
    if delivery.payload is not None:
        data: dict[str, Any] = dict(delivery.payload)
        timestamp = data.get("at", "")
    else:
        assert event is not None
        data = event_view(event, message)
        timestamp = event.at
    return msgspec.json.encode({"type": delivery.event_type, "timestamp": timestamp, "data": data})


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), capped at 24 h."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


async def _read_some(response: httpx.Response) -> str:
    chunks = b""
    async for chunk in response.aiter_bytes():
        chunks += chunk
        if len(chunks) >= RESPONSE_BODY_LIMIT:
            break
    return chunks[:RESPONSE_BODY_LIMIT].decode("utf-8", "replace")


async def post_signed(
    runtime: WorkerRuntime, url: str, event_id: str, body: bytes, secrets_: list[str]
) -> Outcome:
    """Resolve and check ``url`` once, then POST the signed body to the checked address."""
    settings = runtime.settings
    started = time.monotonic()
    try:
        target = await resolve_target(
            url,
            make_resolver(settings, cache=False),
            parse_networks(settings.webhook_allow_networks),
        )
    except UnsafeTarget as exc:
        return Outcome(error=f"refused: {exc}")
    original = httpx.URL(url)
    pinned = original.copy_with(host=target.address)
    timestamp = int(time.time())
    headers = {
        "host": original.netloc.decode("ascii"),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, event_id, timestamp, body),
    }
    extensions = {"sni_hostname": original.raw_host.decode("ascii")}
    client = httpx.AsyncClient(
        verify=_TLS,
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(settings.webhook_timeout),
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    try:
        async with asyncio.timeout(settings.webhook_timeout), client:
            request = client.build_request(
                "POST", pinned, content=body, headers=headers, extensions=extensions
            )
            response = await client.send(request, stream=True)
            try:
                text = await _read_some(response)
            finally:
                await response.aclose()
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        kind = "timed out" if isinstance(exc, TimeoutError | httpx.TimeoutException) else "failed"
        return Outcome(
            error=f"request {kind}: {type(exc).__name__} {exc}".strip(),
            address=target.address,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
    error = ""
    if 300 <= response.status_code < 400:
        location = response.headers.get("location", "")
        error = f"redirect to {location or '(no location)'} not followed"
    elif not is_success(response.status_code):
        error = f"HTTP {response.status_code}"
    retry_after = None
    if response.status_code in (429, 503):
        retry_after = retry_after_seconds(response.headers.get("retry-after"), utcnow())
    return Outcome(
        status_code=response.status_code,
        error=error,
        response_body=text,
        address=target.address,
        retry_after=retry_after,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


async def send_webhook(runtime: WorkerRuntime, delivery_id: str, token: str) -> None:
    """Make one attempt at a delivery this job holds the lease of (else do nothing)."""
    secret_key = runtime.settings.require_secret_key()
    async with runtime.sessions() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != "pending" or delivery.lease_token != token:
            return  # done already, or dispatched again: a newer job owns it
        endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
        assert endpoint is not None
        event = message = None
        if delivery.payload is None:
            row = (
                await session.execute(
                    select(Event, Message)
                    .join(Message, Message.id == Event.message_id)
                    .where(Event.id == delivery.event_id)
                )
            ).first()
            if row is not None:
                event, message = row
    if not endpoint.enabled:
        await _finish(runtime, delivery, "failed", f"endpoint disabled: {endpoint.disabled_reason}")
        return
    if event is None and delivery.payload is None:
        await _finish(runtime, delivery, "failed", "the event no longer exists")
        return
    body = _body(delivery, event, message)
    secrets_ = signing_secrets(secret_key, endpoint, utcnow())
    outcome = await post_signed(runtime, endpoint.url, delivery.event_id, body, secrets_)
    await record(runtime, delivery.id, token, outcome)


async def _finish(runtime: WorkerRuntime, delivery: WebhookDelivery, status: str, why: str) -> None:
    async with runtime.sessions.begin() as session:
        row = await session.get(WebhookDelivery, delivery.id)
        if row is not None:
            row.status, row.last_error, row.lease_token = status, why, None
            row.next_attempt_at, row.updated_at = None, utcnow()


def _next_delay(attempts: int, outcome: Outcome, schedule: tuple[float, ...]) -> float | None:
    """Seconds until the next try, or None when the schedule is used up."""
    if attempts > len(schedule):
        return None
    if outcome.retry_after is not None:
        return outcome.retry_after
    return retry_delay(attempts, schedule)


async def record(runtime: WorkerRuntime, delivery_id: str, token: str, outcome: Outcome) -> None:
    """Store the attempt, then settle the delivery and the endpoint's health."""
    settings = runtime.settings
    now = utcnow()
    async with runtime.sessions.begin() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.lease_token != token:
            return
        endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
        assert endpoint is not None
        session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                at=now,
                address=outcome.address,
                status_code=outcome.status_code,
                error=outcome.error[:2000],
                response_body=outcome.response_body,
                duration_ms=outcome.duration_ms,
            )
        )
        delivery.attempt_count += 1
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error[:2000]
        delivery.lease_token = None
        delivery.updated_at = now
        if not outcome.error:
            delivery.status, delivery.next_attempt_at = "succeeded", None
            endpoint.failing_since = None
            return
        if outcome.status_code == 410:
            delivery.status, delivery.next_attempt_at = "failed", None
            _disable(endpoint, now, "the endpoint answered 410 Gone")
            return
        delay = _next_delay(delivery.attempt_count, outcome, settings.webhook_retry_schedule)
        if delay is None:
            delivery.status, delivery.next_attempt_at = "failed", None
        else:
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        if endpoint.failing_since is None:
            endpoint.failing_since = now
        elif now - endpoint.failing_since >= timedelta(seconds=settings.webhook_disable_after):
            since = endpoint.failing_since.isoformat().replace("+00:00", "Z")
            _disable(endpoint, now, f"failing since {since}; last error: {outcome.error}")


def _disable(endpoint: WebhookEndpoint, now: datetime, reason: str) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = reason[:2000]
    endpoint.updated_at = now
