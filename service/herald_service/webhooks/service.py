"""Webhook endpoints of an account: create, change, rotate secrets, test, replay, inspect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import dns.asyncresolver
import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.addresses import parse_networks
from herald_service.core.ids import new_id
from herald_service.core.states import WEBHOOK_EVENT_TYPES, WebhookDeliveryStatus
from herald_service.core.webhooks import TEST_EVENT_TYPE, new_secret
from herald_service.errors import Conflict, FieldError, InvalidRequest, NotFound
from herald_service.events.service import event_view
from herald_service.security.secretbox import decrypt, encrypt
from herald_service.security.ssrf import UnsafeTarget, resolve_target
from herald_service.settings import Settings
from herald_service.storage.models import (
    Event,
    Message,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from herald_service.storage.types import utcnow

MAX_DESCRIPTION = 500


def normalize_event_types(types: Sequence[str]) -> list[str]:
    """Known event type names, deduplicated in canonical order (empty: every type)."""
    unknown = [t for t in types if t not in WEBHOOK_EVENT_TYPES]
    if unknown:
        raise InvalidRequest(
            f"unknown event types: {', '.join(unknown)}",
            [FieldError("event_types", f"must be among {', '.join(WEBHOOK_EVENT_TYPES)}")],
        )
    return [t for t in WEBHOOK_EVENT_TYPES if t in types]


async def check_url(url: str, settings: Settings, resolver: dns.asyncresolver.Resolver) -> None:
    """Refuse (422 naming ``url``) a URL that is malformed or reaches a forbidden address."""
    try:
        await resolve_target(url, resolver, parse_networks(settings.webhook_allow_networks))
    except UnsafeTarget as exc:
        raise InvalidRequest(str(exc), [FieldError("url", str(exc))]) from exc


def _check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION:
        message = f"at most {MAX_DESCRIPTION} characters"
        raise InvalidRequest(f"description: {message}", [FieldError("description", message)])


async def create_endpoint(
    session: AsyncSession,
    settings: Settings,
    resolver: dns.asyncresolver.Resolver,
    account_id: str,
    *,
    url: str,
    event_types: Sequence[str] = (),
    description: str = "",
    enabled: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (returned once, stored encrypted)."""
    types = normalize_event_types(event_types)
    _check_description(description)
    await check_url(url, settings, resolver)
    secret = new_secret()
    now = utcnow()
    endpoint = WebhookEndpoint(
        id=new_id("wh"),
        account_id=account_id,
        url=url,
        description=description,
        event_types=types,
        enabled=enabled,
        disabled_reason="",
        secret_encrypted=encrypt(settings.require_secret_key(), secret.encode()),
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint, secret


async def get_endpoint(session: AsyncSession, account_id: str, endpoint_id: str) -> WebhookEndpoint:
    """The caller's endpoint, or :class:`NotFound`."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.account_id != account_id:
        raise NotFound(f"no webhook {endpoint_id}")
    return endpoint


async def list_endpoints(session: AsyncSession, account_id: str) -> list[WebhookEndpoint]:
    """Every endpoint of the account, oldest first."""
    result = await session.execute(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.account_id == account_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return list(result.scalars())


async def update_endpoint(
    session: AsyncSession,
    settings: Settings,
    resolver: dns.asyncresolver.Resolver,
    endpoint: WebhookEndpoint,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change the given fields; enabling again clears the reason it was disabled."""
    if url is not None:
        await check_url(url, settings, resolver)
        endpoint.url = url
    if event_types is not None:
        endpoint.event_types = normalize_event_types(event_types)
    if description is not None:
        _check_description(description)
        endpoint.description = description
    if enabled is not None:
        if enabled and not endpoint.enabled:
            endpoint.disabled_reason = ""
            endpoint.failing_since = None
        endpoint.enabled = enabled
    endpoint.updated_at = utcnow()
    await session.flush()
    return endpoint


async def delete_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint with its deliveries and their attempts."""
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: AsyncSession, settings: Settings, endpoint: WebhookEndpoint, overlap_seconds: float
) -> str:
    """A new secret; the current one keeps signing too for ``overlap_seconds``."""
    key = settings.require_secret_key()
    secret = new_secret()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted if overlap_seconds > 0 else None
    endpoint.previous_secret_expires_at = (
        utcnow() + timedelta(seconds=overlap_seconds) if overlap_seconds > 0 else None
    )
    endpoint.secret_encrypted = encrypt(key, secret.encode())
    endpoint.updated_at = utcnow()
    await session.flush()
    return secret


def signing_secrets(secret_key: str, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during an overlap."""
    secrets_ = [decrypt(secret_key, endpoint.secret_encrypted).decode()]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted is not None and expires is not None and now < expires:
        secrets_.append(decrypt(secret_key, endpoint.previous_secret_encrypted).decode())
    return secrets_


async def send_test(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to the endpoint (regardless of its type filter)."""
    if not endpoint.enabled:
        raise Conflict(f"webhook {endpoint.id} is disabled; enable it first")
    now = utcnow()
    event_id = new_id("evt")
    delivery = WebhookDelivery(
        id=new_id("whd"),
        endpoint_id=endpoint.id,
        account_id=endpoint.account_id,
        event_id=event_id,
        event_type=TEST_EVENT_TYPE,
        payload={
            "id": event_id,
            "type": TEST_EVENT_TYPE,
            "at": now.isoformat().replace("+00:00", "Z"),
            "webhook_id": endpoint.id,
        },
        status=WebhookDeliveryStatus.PENDING,
        attempt_count=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
        updated_at=now,
        attempts=[],
    )
    session.add(delivery)
    await session.flush()
    return delivery


async def list_deliveries(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[WebhookDelivery], str | None]:
    """Deliveries of the endpoint, newest first, with their attempts; and the next cursor."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if cursor:
        query = query.where(WebhookDelivery.id < cursor)
    rows = list(
        (
            await session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1))
        ).scalars()
    )
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor


async def deliveries_of_events(
    session: AsyncSession, account_id: str, event_ids: Sequence[str]
) -> list[tuple[WebhookDelivery, str]]:
    """The account's deliveries of ``event_ids`` (oldest first, with their attempts), each
    with its endpoint's URL: what one message caused, for the console's message page."""
    if not event_ids:
        return []
    query = (
        select(WebhookDelivery, WebhookEndpoint.url)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.account_id == account_id,
            WebhookDelivery.event_id.in_(list(event_ids)),
        )
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
    )
    return [(delivery, url) for delivery, url in (await session.execute(query)).all()]


async def replay_delivery(
    session: AsyncSession, endpoint: WebhookEndpoint, delivery_id: str
) -> WebhookDelivery:
    """Send a failed delivery again (a fresh retry schedule; same ``webhook-id``)."""
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound(f"no delivery {delivery_id} of webhook {endpoint.id}")
    if delivery.status != WebhookDeliveryStatus.FAILED:
        raise Conflict(f"delivery {delivery_id} is {delivery.status}; only failed ones replay")
    if not endpoint.enabled:
        raise Conflict(f"webhook {endpoint.id} is disabled; enable it first")
    now = utcnow()
    delivery.status = WebhookDeliveryStatus.PENDING
    delivery.attempt_count = 0
    delivery.next_attempt_at = now
    delivery.lease_token = None
    delivery.updated_at = now
    await session.flush()
    return delivery


def delivery_body(delivery: WebhookDelivery, event: Event | None, message: Message | None) -> bytes:
    """The JSON body a delivery POSTs: its own payload (test events) or the event's view."""
    if delivery.payload is not None:
        data: dict[str, Any] = dict(delivery.payload)
        timestamp = data.get("at", "")
    else:
        assert event is not None
        data = event_view(event, message)
        timestamp = event.at
    return msgspec.json.encode({"type": delivery.event_type, "timestamp": timestamp, "data": data})


async def sent_bodies(
    session: AsyncSession, deliveries: Sequence[WebhookDelivery]
) -> dict[str, bytes]:
    """The body each delivery sends, by delivery id (absent when its event is gone)."""
    event_ids = [d.event_id for d in deliveries if d.payload is None]
    found: dict[str, tuple[Event, Message | None]] = {}
    if event_ids:
        rows = await session.execute(
            select(Event, Message)
            .outerjoin(Message, Message.id == Event.message_id)
            .where(Event.id.in_(event_ids))
        )
        found = {event.id: (event, message) for event, message in rows.tuples()}
    bodies: dict[str, bytes] = {}
    for delivery in deliveries:
        if delivery.payload is not None:
            bodies[delivery.id] = delivery_body(delivery, None, None)
        elif delivery.event_id in found:
            bodies[delivery.id] = delivery_body(delivery, *found[delivery.event_id])
    return bodies
