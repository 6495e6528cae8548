"""Request and response bodies of the public API (msgspec Structs, unknown fields refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class MessageAccepted(msgspec.Struct):
    """The answer to an accepted send: the message's status and each recipient's, in the
    order given (to, cc, bcc). A recipient on the account's suppression list is
    ``suppressed`` at once (dropped, with a ``message.dropped`` event); the others are
    ``queued`` (``captured`` in sandbox mode)."""

    id: str
    status: str
    recipients: list[RecipientSummary] = msgspec.field(default_factory=list)


class AttemptOut(msgspec.Struct):
    """One delivery attempt of one recipient."""

    at: datetime
    mx: str
    code: int | None
    enhanced_code: str
    response: str
    outcome: str
    tls: str
    tls_verified: bool


class RecipientOut(msgspec.Struct):
    """A recipient and its delivery history."""

    email: str
    kind: str
    status: str
    attempts: list[AttemptOut]
    next_attempt_at: datetime | None = None


class EventOut(msgspec.Struct):
    """One entry in a message's timeline."""

    id: str
    type: str
    at: datetime
    recipient: str
    data: dict[str, Any]


class MessageOut(msgspec.Struct):
    """A message with per-recipient status, attempts and events."""

    id: str
    status: str
    sender: str = msgspec.field(name="from")
    subject: str = ""
    message_id: str = ""
    tags: list[str] = msgspec.field(default_factory=list)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    sandbox: bool = False
    created_at: datetime | None = None
    recipients: list[RecipientOut] = msgspec.field(default_factory=list)
    events: list[EventOut] = msgspec.field(default_factory=list)


class RecipientSummary(msgspec.Struct):
    """A recipient's address and where it stands."""

    email: str
    status: str


class MessageSummary(msgspec.Struct):
    """A message in a search result (``GET /v1/messages/{id}`` has the details)."""

    id: str
    status: str
    sender: str = msgspec.field(name="from")
    subject: str = ""
    tags: list[str] = msgspec.field(default_factory=list)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    sandbox: bool = False
    created_at: datetime | None = None
    recipients: list[RecipientSummary] = msgspec.field(default_factory=list)


class MessageList(msgspec.Struct):
    """One page of messages; pass ``next_cursor`` as ``cursor`` for the next."""

    data: list[MessageSummary]
    next_cursor: str | None = None
