"""Reading the event log: filters and cursor pagination, always within one account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec import Struct
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.events.service import event_view
from herald_service.messages.service import has_tag
from herald_service.pagination import decode_cursor, encode_cursor
from herald_service.storage.models import Event, Message


class EventFilter(Struct, frozen=True, kw_only=True):
    """What ``GET /v1/events`` narrows by; every field is optional."""

    types: tuple[str, ...] = ()
    message_id: str | None = None
    recipient: str | None = None
    tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_events(
    session: AsyncSession,
    account_id: str,
    filters: EventFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Events of the account matching ``filters``, newest first, and the next cursor."""
    query = (
        select(Event, Message)
        .join(Message, Message.id == Event.message_id)
        .where(Event.account_id == account_id)
    )
    if filters.types:
        query = query.where(Event.type.in_(filters.types))
    if filters.message_id:
        query = query.where(Event.message_id == filters.message_id)
    if filters.recipient:
        query = query.where(func.lower(Event.recipient) == filters.recipient.strip().lower())
    if filters.since is not None:
        query = query.where(Event.at >= filters.since)
    if filters.until is not None:
        query = query.where(Event.at < filters.until)
    if filters.tag:
        # Tags are a JSON list; match the JSON-encoded element in its text form.
        query = query.where(has_tag(filters.tag))
    if cursor:
        at, event_id = decode_cursor(cursor)
        query = query.where(or_(Event.at < at, and_(Event.at == at, Event.id < event_id)))
    rows = (
        await session.execute(query.order_by(Event.at.desc(), Event.id.desc()).limit(limit + 1))
    ).all()
    views = [event_view(event, message) for event, message in rows[:limit]]
    last = rows[limit - 1][0] if len(rows) > limit else None
    next_cursor = encode_cursor(last.at, last.id) if last is not None else None
    return views, next_cursor
