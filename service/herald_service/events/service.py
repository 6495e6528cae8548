"""The one way events are written, so every consumer (timeline, webhooks) sees all of them.

Callers build events with :func:`new_event` and store them with :func:`add_events` inside
the same transaction as the state change they describe. ``add_events`` also writes the
webhook outbox: one :class:`WebhookDelivery` row per event and matching enabled endpoint,
so an event and its webhook deliveries commit (or vanish) together and none is lost.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from msgspec import Struct
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from herald_service.core.ids import new_id
from herald_service.core.states import EventType, WebhookDeliveryStatus
from herald_service.storage.bulk_insert import TableRows, insert_rows
from herald_service.storage.models import Event, Message, WebhookDelivery, WebhookEndpoint
from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow

_EVENTS = Base.metadata.tables[Event.__tablename__]
_WEBHOOK_DELIVERIES = Base.metadata.tables[WebhookDelivery.__tablename__]

Executor = AsyncSession | AsyncConnection
"""Where a read runs: a session or a connection, in its transaction if it has one."""


class NewEvent(Struct, frozen=True):
    """An event to store with :func:`add_events` (a plain value: building ORM objects
    costs more than the insert itself on the send path)."""

    id: str
    account_id: str
    message_id: str
    recipient: str
    type: str
    at: datetime
    data: dict[str, Any]


def new_event(
    *,
    account_id: str,
    message_id: str,
    type: EventType,
    recipient: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> NewEvent:
    """An event, not yet stored."""
    return NewEvent(
        id=new_id("evt"),
        account_id=account_id,
        message_id=message_id,
        recipient=recipient,
        type=type.value,
        at=at or utcnow(),
        data=data or {},
    )


class EndpointMatch(Protocol):
    """An enabled webhook endpoint as :func:`add_events` matches it against events."""

    @property
    def id(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def event_types(self) -> list[str]: ...


class EndpointSource(Protocol):
    """Where :func:`add_events` finds the enabled endpoints of some accounts."""

    async def enabled_endpoints(
        self, session: Executor, account_ids: Collection[str]
    ) -> Sequence[EndpointMatch]:
        """The enabled endpoints of ``account_ids``."""
        ...


async def enabled_endpoints(
    session: Executor, account_ids: Collection[str]
) -> Sequence[EndpointMatch]:
    """The enabled endpoints of ``account_ids``, read now (one indexed query)."""
    rows = (
        await session.execute(
            select(
                WebhookEndpoint.id, WebhookEndpoint.account_id, WebhookEndpoint.event_types
            ).where(WebhookEndpoint.account_id.in_(account_ids), WebhookEndpoint.enabled.is_(True))
        )
    ).all()
    return cast("Sequence[EndpointMatch]", rows)


async def add_events(
    session: AsyncSession, events: Iterable[NewEvent], endpoints: EndpointSource | None = None
) -> None:
    """Store events and their webhook deliveries in the caller's transaction.

    The enabled endpoints come from ``endpoints`` (a cache, see
    :mod:`herald_service.webhooks.endpoints`) or, without one, from one indexed
    query per call. On PostgreSQL both tables are written by one statement.
    """
    rows = list(events)
    if not rows:
        return
    if session.new or session.dirty or session.deleted:
        await session.flush()  # the rows events refer to may still be pending in the session
    connection = await session.connection()
    await insert_rows(connection, *await event_rows(connection, rows, endpoints))


async def event_rows(
    executor: Executor, events: Sequence[NewEvent], endpoints: EndpointSource | None = None
) -> list[TableRows]:
    """The rows that store ``events``: the events, then their webhook deliveries (one per
    event and matching enabled endpoint), for :func:`~herald_service.storage.bulk_insert.
    insert_rows`. Reads the enabled endpoints through ``executor`` unless cached."""
    if not events:
        return []
    event_table_rows = TableRows(
        _EVENTS,
        [
            {
                "id": event.id,
                "account_id": event.account_id,
                "message_id": event.message_id,
                "recipient": event.recipient,
                "type": event.type,
                "at": event.at,
                "data": event.data,
            }
            for event in events
        ],
    )
    accounts = {event.account_id for event in events}
    if endpoints is None:
        found = await enabled_endpoints(executor, accounts)
    else:
        found = await endpoints.enabled_endpoints(executor, accounts)
    if not found:
        return [event_table_rows]
    now = utcnow()
    deliveries = [
        {
            "id": new_id("whd"),
            "endpoint_id": endpoint.id,
            "account_id": event.account_id,
            "event_id": event.id,
            "event_type": event.type,
            "status": WebhookDeliveryStatus.PENDING.value,
            "attempt_count": 0,
            "next_attempt_at": now,
            "lease_token": None,
            "last_status_code": None,
            "last_error": "",
            "created_at": now,
            "updated_at": now,
        }
        for event in events
        for endpoint in found
        if endpoint.account_id == event.account_id
        and (not endpoint.event_types or event.type in endpoint.event_types)
    ]
    return [event_table_rows, TableRows(_WEBHOOK_DELIVERIES, deliveries)]


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
