"""The shapes of ``/v1/messages``: the send request, the answers, and their presenters.

The request Structs are the input contract: the HTTP layer decodes JSON into them, the
SendGrid-compatible endpoint translates into them, and :mod:`.intake` validates them.
Unknown fields are refused everywhere. The response Structs are what callers read back;
:func:`message_out` and :func:`message_summary` turn stored rows into them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from herald_service.core.findings import CheckFinding, CheckSummary
from herald_service.core.sending_ips import POOL_NAME_PATTERN
from herald_service.core.states import RecipientStatus, summarize
from herald_service.request_fields import (
    MAX_ATTACHMENTS,
    MAX_RECIPIENTS,
    AddressText,
    Base64,
    ContentId,
    DisplayName,
    Disposition,
    Filename,
    Headers,
    HeaderText,
    MediaType,
    Metadata,
    Tags,
    UnsubscribeUrl,
)
from herald_service.storage.models import Event, Message
from herald_service.templates.schemas import AliasRef, TemplateData, TemplateRef

# The send request (POST /v1/messages)

SendAt = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description=(
            "Send at this time (RFC 3339 with an offset, e.g. 2026-01-31T09:00:00+01:00), at "
            "most HERALD_MAX_SCHEDULE_AHEAD (72 h by default) ahead and no more than 5 s in "
            "the past; until then the recipients are `scheduled`. Not with `sandbox`."
        ),
    ),
]


class EmailAddress(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A mailbox with an optional display name."""

    email: AddressText
    name: DisplayName = ""


AddressField = AddressText | EmailAddress
"""``"a@example.com"`` or ``{"email": "a@example.com", "name": "A"}``."""

AddressList = AddressField | Annotated[list[AddressField], msgspec.Meta(max_length=MAX_RECIPIENTS)]


class AttachmentIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A file to attach; ``content`` is base64. Inline parts need a ``content_id``."""

    filename: Filename
    content: Base64
    content_type: MediaType = ""
    disposition: Disposition = "attachment"
    content_id: ContentId = ""


class Unsubscribe(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Targets for List-Unsubscribe; a URL also enables one-click (RFC 8058)."""

    url: UnsubscribeUrl = ""
    mailto: AddressText = ""


class TrackingIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Open and click tracking of one message; a field left out takes the sending domain's
    setting (both off unless the domain turns them on)."""

    opens: bool | None = None
    clicks: bool | None = None


class SendMessageRequest(
    msgspec.Struct, forbid_unknown_fields=True, rename={"sender": "from"}, kw_only=True
):
    """``POST /v1/messages``: one message to up to 1000 recipients."""

    sender: AddressField
    to: AddressList | None = None
    cc: AddressList | None = None
    bcc: AddressList | None = None
    reply_to: AddressList | None = None
    subject: HeaderText = ""
    text: str | None = None
    html: str | None = None
    attachments: Annotated[list[AttachmentIn], msgspec.Meta(max_length=MAX_ATTACHMENTS)] = (
        msgspec.field(default_factory=list)
    )
    headers: Headers = msgspec.field(default_factory=dict)
    tags: Tags = msgspec.field(default_factory=list)
    metadata: Metadata = msgspec.field(default_factory=dict)
    unsubscribe: Unsubscribe | bool | None = None
    """``true``: Herald's hosted one-click unsubscribe (RFC 8058); ``false``: none, whatever
    the domain's default; ``{"url", "mailto"}``: the sender's own targets."""
    tracking: TrackingIn | None = None
    sandbox: bool = False
    template_id: TemplateRef | None = None
    """Render subject, html and text from this template (then leave those three out)."""
    template_alias: AliasRef | None = None
    """The template by its alias instead of its id."""
    template_data: TemplateData | None = None
    """The variables the template is rendered with."""
    send_at: SendAt | None = None
    ip_pool: Annotated[str, msgspec.Meta(pattern=POOL_NAME_PATTERN)] | None = None
    """The IP pool to send from (``GET /v1/ip-pools``); left out: the domain's pool."""


def address_list(value: AddressField | list[AddressField] | None) -> list[EmailAddress]:
    """One address or a list of them, always as :class:`EmailAddress` values."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [EmailAddress(v) if isinstance(v, str) else v for v in items]


def request_size(request: SendMessageRequest) -> int:
    """About how many bytes of content (text, HTML, base64 attachments) ``request`` holds."""
    text = len(request.text or "") + len(request.html or "")
    return text + sum(len(a.content) for a in request.attachments)


# The answers


class MessageCheck(msgspec.Struct, kw_only=True):
    """What ``POST /v1/messages/check`` found in a message it did not send.

    ``size`` is the built MIME message in bytes before its DKIM signatures (which add under
    1 KB); ``size_limit`` the most that mailbox providers commonly accept. ``spam_score``
    is spamd's score when ``HERALD_SPAMD_URL`` is set and spamd answered (findings say
    otherwise). Findings come errors first, then warnings, then advice.
    """

    summary: CheckSummary
    size: int
    size_limit: int
    findings: list[CheckFinding]
    spam_score: float | None = None


class MessageAccepted(msgspec.Struct):
    """The answer to an accepted send: the message's status and each recipient's, in the
    order given (to, cc, bcc). A recipient on the account's suppression list is
    ``suppressed`` at once (dropped, with a ``message.dropped`` event); the others are
    ``queued`` (``captured`` in sandbox mode, ``scheduled`` with a future ``send_at``)."""

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
    source_ip: str | None = None
    """The local address it left from (``HERALD_SENDING_IPS``); null: the system's."""


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
    send_at: datetime | None = None
    """The time it was scheduled for, if it was."""
    source: Literal["api", "smtp"] = "api"
    """The door it came in by: the HTTP API or SMTP submission."""


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
    send_at: datetime | None = None
    """The time it was scheduled for, if it was."""


class MessageList(msgspec.Struct):
    """One page of messages; pass ``next_cursor`` as ``cursor`` for the next."""

    data: list[MessageSummary]
    next_cursor: str | None = None


def message_summary(message: Message) -> MessageSummary:
    """A stored message as a search result lists it."""
    return MessageSummary(
        id=message.id,
        status=summarize(r.status for r in message.recipients),
        sender=message.from_email,
        subject=message.subject,
        tags=list(message.tags),
        metadata=dict(message.metadata_),
        sandbox=message.sandbox,
        created_at=message.created_at,
        recipients=[RecipientSummary(r.email, r.status) for r in message.recipients],
        send_at=message.send_at,
    )


def message_out(message: Message, events: Iterable[Event]) -> MessageOut:
    """The public view of a stored message with its timeline."""
    return MessageOut(
        id=message.id,
        status=summarize(r.status for r in message.recipients),
        sender=message.from_email,
        subject=message.subject,
        message_id=message.message_id_header,
        tags=list(message.tags),
        metadata=dict(message.metadata_),
        sandbox=message.sandbox,
        created_at=message.created_at,
        recipients=[
            RecipientOut(
                email=r.email,
                kind=r.kind,
                status=r.status,
                next_attempt_at=r.next_attempt_at if r.status == RecipientStatus.DEFERRED else None,
                attempts=[
                    AttemptOut(
                        at=a.at,
                        mx=a.mx,
                        code=a.code,
                        enhanced_code=a.enhanced_code,
                        response=a.response,
                        outcome=a.outcome,
                        tls=a.tls,
                        tls_verified=a.tls_verified,
                        source_ip=a.source_ip,
                    )
                    for a in r.attempts
                ],
            )
            for r in message.recipients
        ],
        events=[
            EventOut(id=e.id, type=e.type, at=e.at, recipient=e.recipient, data=e.data)
            for e in events
        ],
        send_at=message.send_at,
        source="smtp" if message.source == "smtp" else "api",
    )
