"""The account's event log (``/v1/events``), as the API lists it and webhooks carry it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ["EventLogEntry", "EventPage"]


class EventLogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One state change of one recipient, e.g. ``message.delivered`` or ``message.bounced``.

    ``details`` holds the type's specifics (the MX and SMTP reply of a delivery, the bounce
    code...); ``tags`` and ``metadata`` are the message's.
    """

    id: str
    type: str
    at: datetime
    message_id: str = ""
    recipient: str = ""
    tags: list[str] = msgspec.field(default_factory=list)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class EventPage(msgspec.Struct, frozen=True):
    """A page of events, newest first; ``next_cursor`` fetches the next (``None``: last)."""

    data: list[EventLogEntry]
    next_cursor: str | None = None
