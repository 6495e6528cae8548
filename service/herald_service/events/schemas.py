"""The shapes of ``GET /v1/events`` (an event is also what a webhook carries in ``data``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec


class EventLogItem(msgspec.Struct, kw_only=True):
    """One event of the log, as webhooks carry it in ``data``."""

    id: str
    type: str
    at: datetime
    message_id: str
    recipient: str
    tags: list[str]
    metadata: dict[str, Any]
    details: dict[str, Any]


class EventList(msgspec.Struct):
    """A page of events, newest first; pass ``next_cursor`` as ``cursor`` for more."""

    data: list[EventLogItem]
    next_cursor: str | None


def event_list(views: Iterable[dict[str, Any]], next_cursor: str | None) -> EventList:
    """A page of the log from :func:`herald_service.events.service.event_view` dicts."""
    return EventList(data=[EventLogItem(**v) for v in views], next_cursor=next_cursor)
