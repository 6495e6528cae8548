"""The message a caller asked for, after validation, independent of the HTTP shape."""

from __future__ import annotations

from datetime import datetime

import msgspec


class Address(msgspec.Struct, frozen=True):
    """A mailbox: address (domain already in A-label form) and optional display name."""

    email: str
    name: str = ""

    @property
    def domain(self) -> str:
        """The part after the last ``@``, lower case."""
        return self.email.rpartition("@")[2].lower()


class Attachment(msgspec.Struct, frozen=True):
    """A file to attach, already base64-decoded."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    disposition: str = "attachment"
    content_id: str = ""


class OutgoingMessage(msgspec.Struct, frozen=True, kw_only=True):
    """Everything needed to build the MIME message and its envelope."""

    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    subject: str = ""
    text: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    sandbox: bool = False
    send_at: datetime | None = None
    """When to send (UTC), or ``None`` for at once."""
    track_opens: bool | None = None
    track_clicks: bool | None = None
    hosted_unsubscribe: bool | None = None
    """Herald's one-click unsubscribe; for these three ``None`` means the domain's default."""
    ip_pool: str | None = None
    """The IP pool it leaves from; ``None``: its domain's."""

    def envelope_recipients(self) -> list[tuple[str, Address]]:
        """``(kind, address)`` for every recipient, To then Cc then Bcc."""
        return (
            [("to", a) for a in self.to]
            + [("cc", a) for a in self.cc]
            + [("bcc", a) for a in self.bcc]
        )
