"""The one way events are written, so every consumer (timeline, webhooks) sees all of them.

Callers build events with :func:`new_event` and store them with :func:`add_events` inside
the same transaction as the state change they describe. ``add_events`` also writes the
webhook outbox: one :class:`WebhookDelivery` row per event and matching enabled endpoint,
so an event and its webhook deliveries commit (or vanish) together and none is lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.ids import new_id
from herald_service.core.states import EventType
from herald_service.storage.models import Event, Message, WebhookDelivery, WebhookEndpoint
from herald_service.storage.types import utcnow


def new_event(
    *,
    account_id: str,
    message_id: str,
    type: EventType,
    recipient: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    """An event row, not yet added to a session."""
    return Event(
        id=new_id("evt"),
        account_id=account_id,
        message_id=message_id,
        recipient=recipient,
        type=type.value,
        at=at or utcnow(),
        data=data or {},
    )


async def add_events(session: AsyncSession, events: Iterable[Event]) -> None:
    """Store events and their webhook deliveries in the caller's transaction.

    Costs one indexed query (enabled endpoints of the events' accounts) per call.
    """
    rows = list(events)
    session.add_all(rows)
    if not rows:
        return
    accounts = {event.account_id for event in rows}
    endpoints = (
        await session.execute(
            select(
                WebhookEndpoint.id, WebhookEndpoint.account_id, WebhookEndpoint.event_types
            ).where(WebhookEndpoint.account_id.in_(accounts), WebhookEndpoint.enabled.is_(True))
        )
    ).all()
    if not endpoints:
        return
    now = utcnow()
    session.add_all(
        WebhookDelivery(
            id=new_id("whd"),
            endpoint_id=endpoint.id,
            account_id=event.account_id,
            event_id=event.id,
            event_type=event.type,
            status="pending",
            attempt_count=0,
            next_attempt_at=now,
            last_error="",
            created_at=now,
            updated_at=now,
        )
        for event in rows
        for endpoint in endpoints
        if endpoint.account_id == event.account_id
        and (not endpoint.event_types or event.type in endpoint.event_types)
    )


def event_view(event: Event, message: Message | None) -> dict[str, Any]:
    """An event as ``GET /v1/events`` lists it and webhooks carry it in ``data``."""
    return {
        "id": event.id,
        "type": event.type,
        "at": event.at,
        "message_id": event.message_id,
        "recipient": event.recipient,
        "tags": list(message.tags) if message is not None else [],
        "metadata": dict(message.metadata_) if message is not None else {},
        "details": dict(event.data),
    }
