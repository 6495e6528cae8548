"""Messages: addresses, attachments, the send result and a message's delivery state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = [
    "Address",
    "Attempt",
    "EmailAddress",
    "Event",
    "Message",
    "Recipient",
    "SendResult",
    "Tracking",
    "Unsubscribe",
]


class EmailAddress(msgspec.Struct, frozen=True, omit_defaults=True):
    """A mailbox with an optional display name, e.g. ``EmailAddress("a@b.example", "Ann")``."""

    email: str
    name: str = ""


class Unsubscribe(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """``List-Unsubscribe`` targets; a ``url`` also enables one-click unsubscribe (RFC 8058)."""

    url: str = ""
    mailto: str = ""


class Tracking(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Open and click tracking: of one message (``messages.send``), or a domain's default
    (``domains.update``). ``None`` leaves it to the domain (or, in an update, unchanged)."""

    opens: bool | None = None
    """A 1x1 pixel at the end of the HTML part: ``message.opened``."""
    clicks: bool | None = None
    """The HTML part's links rewritten through Herald: ``message.clicked``."""


Address = str | EmailAddress
"""An address field: ``"ann@example.com"``, ``"Ann Example <ann@example.com>"`` (RFC 5322
name-addr), or an :class:`EmailAddress` with a name."""


class SendResult(msgspec.Struct, frozen=True):
    """The answer to an accepted send (``202``): the message's id, its summary status and
    each recipient's status. A suppressed recipient is ``suppressed`` here already: it was
    dropped when the message was accepted, and the others go."""

    id: str
    status: str
    recipients: list[RecipientSummary] = msgspec.field(default_factory=list)


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """One delivery attempt for one recipient: the MX tried and what it answered."""

    at: datetime
    mx: str = ""
    code: int | None = None
    enhanced_code: str = ""
    response: str = ""
    outcome: str = ""
    tls: str = ""
    tls_verified: bool = False
    source_ip: str | None = None
    """The local address it left from (``HERALD_SENDING_IPS``); ``None``: the system's."""


class Recipient(msgspec.Struct, frozen=True, kw_only=True):
    """A recipient's delivery state: ``queued``, ``deferred``, ``delivered``, ``bounced``,
    ``suppressed``, ``failed``, ``captured``, ``scheduled`` (waiting for ``send_at``),
    ``held`` (its domain paused by the reputation guard) or ``canceled``, with every
    attempt made so far."""

    email: str
    status: str
    kind: str = "to"
    attempts: list[Attempt] = msgspec.field(default_factory=list)
    next_attempt_at: datetime | None = None


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of a message's timeline, e.g. ``message.accepted`` or ``message.delivered``."""

    id: str
    type: str
    at: datetime
    recipient: str = ""
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class Message(msgspec.Struct, frozen=True, kw_only=True, rename={"from_": "from"}):
    """A message with its per-recipient status, delivery attempts and event timeline."""

    id: str
    status: str
    from_: str = ""
    subject: str = ""
    message_id: str = ""
    tags: list[str] = msgspec.field(default_factory=list)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    sandbox: bool = False
    created_at: datetime | None = None
    recipients: list[Recipient] = msgspec.field(default_factory=list)
    events: list[Event] = msgspec.field(default_factory=list)
    send_at: datetime | None = None
    """The time it was scheduled for, if it was."""
    source: str = "api"
    """The door it came in by: ``api`` (HTTP) or ``smtp`` (SMTP submission)."""


class RecipientSummary(msgspec.Struct, frozen=True):
    """A recipient's address and where it stands."""

    email: str
    status: str


class MessageSummary(msgspec.Struct, frozen=True, kw_only=True, rename={"from_": "from"}):
    """A message in search results; ``messages.get`` has its attempts and events."""

    id: str
    status: str
    from_: str = ""
    subject: str = ""
    tags: list[str] = msgspec.field(default_factory=list)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    sandbox: bool = False
    created_at: datetime | None = None
    recipients: list[RecipientSummary] = msgspec.field(default_factory=list)
    send_at: datetime | None = None
    """The time it was scheduled for, if it was."""


class MessagePage(msgspec.Struct, frozen=True):
    """A page of messages, newest first; ``next_cursor`` fetches the next (``None``: last)."""

    data: list[MessageSummary]
    next_cursor: str | None = None
