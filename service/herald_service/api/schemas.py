"""Request and response bodies of the public API (msgspec Structs, unknown fields refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from herald_service.services.intake import AddressInput


class EmailAddress(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A mailbox with an optional display name."""

    email: str
    name: str = ""


AddressField = str | EmailAddress


def to_address_input(value: AddressField) -> AddressInput:
    """The validator's view of one address field."""
    if isinstance(value, str):
        return AddressInput(value)
    return AddressInput(value.email, value.name)


def to_address_inputs(values: AddressField | list[AddressField] | None) -> list[AddressInput]:
    """A single address or a list of them, as validator inputs."""
    if values is None:
        return []
    if isinstance(values, list):
        return [to_address_input(v) for v in values]
    return [to_address_input(values)]


class SendMessageRequest(
    msgspec.Struct, forbid_unknown_fields=True, rename={"sender": "from"}, kw_only=True
):
    """``POST /v1/messages``: one message to up to 1000 recipients."""

    sender: AddressField
    to: AddressField | list[AddressField] | None = None
    cc: AddressField | list[AddressField] | None = None
    bcc: AddressField | list[AddressField] | None = None
    reply_to: AddressField | list[AddressField] | None = None
    subject: str = ""
    text: str | None = None
    html: str | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    sandbox: bool = False


class MessageAccepted(msgspec.Struct):
    """The answer to an accepted send."""

    id: str
    status: str


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
