"""What a caller learns about an accepted message (the 202 of a send, an item of a batch)."""

from __future__ import annotations

import msgspec

from herald_service.core.states import summarize
from herald_service.messages.store import StoredMessage


class AcceptedRecipient(msgspec.Struct, frozen=True):
    """A recipient of an accepted message and where it stands (``suppressed``: dropped)."""

    email: str
    status: str


class Accepted(msgspec.Struct, frozen=True):
    """What a caller learns about an accepted message."""

    id: str
    status: str
    recipients: list[AcceptedRecipient]


def accepted(message: StoredMessage) -> Accepted:
    """``{"id", "status", "recipients"}`` of an accepted message."""
    status = summarize(message.recipient_statuses)
    recipients = [
        AcceptedRecipient(email, recipient_status)
        for email, recipient_status in zip(
            message.recipient_emails, message.recipient_statuses, strict=True
        )
    ]
    return Accepted(id=message.id, status=status, recipients=recipients)


def accepted_body(message: StoredMessage) -> bytes:
    """:func:`accepted` as JSON."""
    return msgspec.json.encode(accepted(message))
