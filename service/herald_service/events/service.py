"""The one way events are written, so every consumer (timeline, webhooks) sees all of them.

Callers build events with :func:`new_event` and store them with :func:`add_events` inside
the same transaction as the state change they describe. ``add_events`` also writes the
webhook outbox: one :class:`WebhookDelivery` row per event and matching enabled endpoint,
so an event and its webhook deliveries commit (or vanish) together and none is lost; and
it adds the events to the stats counters (:mod:`herald_service.core.stats`) in the same
statement, so the counters cannot drift from the log.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, cast

from msgspec import Struct
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from herald_service.core.ids import new_id
from herald_service.core.states import EventType, WebhookDeliveryStatus
from herald_service.core.stats import counter_deltas, latency_deltas
from herald_service.storage.bulk_insert import TableRows, insert_rows
from herald_service.storage.models import (
    Event,
    Message,
    StatsCounter,
    StatsLatency,
    WebhookDelivery,
    WebhookEndpoint,
)
from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow

_EVENTS = Base.metadata.tables[Event.__tablename__]
_WEBHOOK_DELIVERIES = Base.metadata.tables[WebhookDelivery.__tablename__]
_STATS_COUNTERS = Base.metadata.tables[StatsCounter.__tablename__]
_STATS_LATENCY = Base.metadata.tables[StatsLatency.__tablename__]
STRIPES = 16
"""Rows per stats bucket at most: a writer process adds to stripe ``pid % STRIPES``, so
the API's statements and the workers' transactions seldom wait on the same hot row."""

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
    domain: str = ""
    """The message's sending domain (its From address's), which its stats count under."""
    tags: tuple[str, ...] = ()
    """The message's tags: each tag's stats count the event too."""
    accepted_at: datetime | None = None
    """When the message was accepted: a delivery's latency is counted from it."""


def new_event(
    *,
    account_id: str,
    message_id: str,
    type: EventType,
    recipient: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
    domain: str = "",
    tags: Sequence[str] = (),
    accepted_at: datetime | None = None,
) -> NewEvent:
    """An event, not yet stored; ``domain`` and ``tags`` are the message's, for stats."""
    return NewEvent(
        id=new_id("evt"),
        account_id=account_id,
        message_id=message_id,
        recipient=recipient,
        type=type.value,
        at=at or utcnow(),
        data=data or {},
        domain=domain.lower(),
        tags=tuple(tags),
        accepted_at=accepted_at,
    )


def sender_domain(from_email: str) -> str:
    """The sending domain stats count a message under: its From address's domain."""
    return from_email.rpartition("@")[2].lower()


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
    """The rows that store ``events``: the events, their webhook deliveries (one per event
    and matching enabled endpoint), then what they add to the stats counters (upserts
    that ``insert_rows`` runs last), for :func:`~herald_service.storage.bulk_insert.
    insert_rows`. Reads the enabled endpoints through ``executor`` unless cached."""
    if not events:
        return []
    return [*await _log_rows(executor, events, endpoints), *stats_rows(events)]


def stats_rows(events: Sequence[NewEvent]) -> list[TableRows]:
    """The counter and latency upserts of ``events``, keys sorted (see
    :mod:`herald_service.core.stats`); each sets only the counters this batch changes."""
    rows: list[TableRows] = []
    stripe = os.getpid() % STRIPES
    counters = counter_deltas(events)
    if counters:
        changed = tuple(sorted({name for _, delta in counters for name in delta}))
        rows.append(
            TableRows(
                _STATS_COUNTERS,
                [
                    {
                        "account_id": account_id,
                        "granularity": granularity,
                        "tag": tag,
                        "bucket": bucket,
                        "domain": domain,
                        "stripe": stripe,
                        **{name: delta.get(name, 0) for name in changed},
                    }
                    for (account_id, granularity, tag, bucket, domain), delta in counters
                ],
                changed,
            )
        )
    latency = latency_deltas(events)
    if latency:
        buckets = tuple(sorted({name for _, delta in latency for name in delta}))
        rows.append(
            TableRows(
                _STATS_LATENCY,
                [
                    {
                        "account_id": account_id,
                        "day": day,
                        "domain": domain,
                        "stripe": stripe,
                        **{name: delta.get(name, 0) for name in buckets},
                    }
                    for (account_id, day, domain), delta in latency
                ],
                buckets,
            )
        )
    return rows


async def _log_rows(
    executor: Executor, events: Sequence[NewEvent], endpoints: EndpointSource | None
) -> list[TableRows]:
    """The event rows and their webhook deliveries."""
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
