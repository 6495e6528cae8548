"""The one way events are written, so every consumer (timeline, webhooks) sees all of them.

Callers build events with :func:`new_event` and store them with :func:`add_events` inside
the same transaction as the state change they describe.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.ids import new_id
from herald_service.core.states import EventType
from herald_service.storage.models import Event
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
    """Store events in the caller's transaction."""
    session.add_all(list(events))
