"""Send one webhook delivery: build the body, sign it, POST it to the checked address, record.

Per the Standard Webhooks spec: ``webhook-id`` (the event id, the same on every retry),
``webhook-timestamp`` (this attempt) and ``webhook-signature`` (one ``v1,`` signature per
active secret). What an attempt means (retry on ``HERALD_WEBHOOK_RETRY_SCHEDULE``, give up,
disable the endpoint on 410 or after ``HERALD_WEBHOOK_DISABLE_AFTER`` of failing) is decided
by :func:`herald_service.core.webhook_policy.judge_attempt`; this module does the I/O.
"""

from __future__ import annotations

import asyncio
import ssl
import time

import httpx
import msgspec
from sqlalchemy import select

from herald_queue.runtime import WorkerRuntime
from herald_service import __version__
from herald_service.core.addresses import parse_networks
from herald_service.core.states import WebhookDeliveryStatus
from herald_service.core.webhook_policy import (
    honoured_retry_after,
    judge_attempt,
    response_error,
)
from herald_service.core.webhooks import signature_header
from herald_service.dns import make_resolver
from herald_service.security.ssrf import UnsafeTarget, resolve_target
from herald_service.storage.models import (
    Event,
    Message,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from herald_service.storage.types import utcnow
from herald_service.webhooks.service import delivery_body, signing_secrets

RESPONSE_BODY_LIMIT = 1024
USER_AGENT = f"Herald-Webhooks/{__version__}"
_TLS = ssl.create_default_context()


class WebhookAttemptResult(msgspec.Struct, frozen=True):
    """What one webhook attempt got: a status code, or an error instead."""

    status_code: int | None = None
    error: str = ""
    response_body: str = ""
    address: str = ""
    retry_after: float | None = None
    duration_ms: int = 0


async def _read_some(response: httpx.Response) -> str:
    chunks = b""
    async for chunk in response.aiter_bytes():
        chunks += chunk
        if len(chunks) >= RESPONSE_BODY_LIMIT:
            break
    return chunks[:RESPONSE_BODY_LIMIT].decode("utf-8", "replace")


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _signed_headers(
    url: httpx.URL, event_id: str, body: bytes, secrets_: list[str]
) -> dict[str, str]:
    """Standard Webhooks headers for this attempt; ``host`` is the URL's, not the address."""
    timestamp = int(time.time())
    return {
        "host": url.netloc.decode("ascii"),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, event_id, timestamp, body),
    }


async def _post(
    time_limit: float, url: str, address: str, headers: dict[str, str], body: bytes
) -> tuple[httpx.Response, str]:
    """POST to ``address`` (TLS checked against the URL's host); the answer and its body's
    start. No redirects, no proxies from the environment, no connection kept."""
    original = httpx.URL(url)
    extensions = {"sni_hostname": original.raw_host.decode("ascii")}
    client = httpx.AsyncClient(
        verify=_TLS,
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(time_limit),
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    async with asyncio.timeout(time_limit), client:
        request = client.build_request(
            "POST",
            original.copy_with(host=address),
            content=body,
            headers=headers,
            extensions=extensions,
        )
        response = await client.send(request, stream=True)
        try:
            text = await _read_some(response)
        finally:
            await response.aclose()
    return response, text


async def post_signed(
    runtime: WorkerRuntime, url: str, event_id: str, body: bytes, secrets_: list[str]
) -> WebhookAttemptResult:
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
        return WebhookAttemptResult(error=f"refused: {exc}")
    headers = _signed_headers(httpx.URL(url), event_id, body, secrets_)
    try:
        response, text = await _post(settings.webhook_timeout, url, target.address, headers, body)
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        kind = "timed out" if isinstance(exc, TimeoutError | httpx.TimeoutException) else "failed"
        return WebhookAttemptResult(
            error=f"request {kind}: {type(exc).__name__} {exc}".strip(),
            address=target.address,
            duration_ms=_ms_since(started),
        )
    code = response.status_code
    return WebhookAttemptResult(
        status_code=code,
        error=response_error(code, response.headers.get("location", "")),
        response_body=text,
        address=target.address,
        retry_after=honoured_retry_after(code, response.headers.get("retry-after"), utcnow()),
        duration_ms=_ms_since(started),
    )


async def send_webhook(runtime: WorkerRuntime, delivery_id: str, token: str) -> None:
    """Make one attempt at a delivery this job holds the lease of (else do nothing)."""
    secret_key = runtime.settings.require_secret_key()
    async with runtime.sessions() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.lease_token != token:
            return  # dispatched again: a newer job owns it
        if delivery.status != WebhookDeliveryStatus.PENDING:
            return  # done already
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
    failed = WebhookDeliveryStatus.FAILED
    if not endpoint.enabled:
        await _finish(runtime, delivery, failed, f"endpoint disabled: {endpoint.disabled_reason}")
        return
    if event is None and delivery.payload is None:
        await _finish(runtime, delivery, failed, "the event no longer exists")
        return
    body = delivery_body(delivery, event, message)
    secrets_ = signing_secrets(secret_key, endpoint, utcnow())
    result = await post_signed(runtime, endpoint.url, delivery.event_id, body, secrets_)
    await record(runtime, delivery.id, token, result)


async def _finish(
    runtime: WorkerRuntime, delivery: WebhookDelivery, status: WebhookDeliveryStatus, why: str
) -> None:
    async with runtime.sessions.begin() as session:
        row = await session.get(WebhookDelivery, delivery.id)
        if row is not None:
            row.status, row.last_error, row.lease_token = status, why, None
            row.next_attempt_at, row.updated_at = None, utcnow()


async def record(
    runtime: WorkerRuntime, delivery_id: str, token: str, result: WebhookAttemptResult
) -> None:
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
                address=result.address,
                status_code=result.status_code,
                error=result.error[:2000],
                response_body=result.response_body,
                duration_ms=result.duration_ms,
            )
        )
        delivery.attempt_count += 1
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error[:2000]
        delivery.lease_token = None
        delivery.updated_at = now
        verdict = judge_attempt(
            attempts=delivery.attempt_count,
            status_code=result.status_code,
            error=result.error,
            retry_after=result.retry_after,
            failing_since=endpoint.failing_since,
            now=now,
            schedule=settings.webhook_retry_schedule,
            disable_after=settings.webhook_disable_after,
        )
        delivery.status, delivery.next_attempt_at = verdict.delivery_status, verdict.retry_at
        endpoint.failing_since = verdict.failing_since
        if verdict.disable_reason:
            endpoint.enabled = False
            endpoint.disabled_reason = verdict.disable_reason[:2000]
            endpoint.updated_at = now
