"""Accept a message (build, sign, persist) and read messages back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from herald_service.core.ids import new_id
from herald_service.core.message import Address, OutgoingMessage
from herald_service.core.mime import build_mime, new_message_id
from herald_service.core.retention import pruned_note
from herald_service.core.scheduling import is_scheduled
from herald_service.core.states import EventType, RecipientStatus
from herald_service.domains.service import SendingDomain
from herald_service.errors import HeraldError, NotFound
from herald_service.events.service import (
    EndpointSource,
    NewEvent,
    event_rows,
    new_event,
    sender_domain,
)
from herald_service.mail.dkim_signing import sign
from herald_service.storage.bulk_insert import TableRows, insert_rows
from herald_service.storage.models import Event, Message, Recipient
from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow
from herald_service.tracking.service import TrackingUrls, apply_tracking

# The API enqueues a committed message in the background after the 202; if that job never
# reaches a worker (crash, Redis refused it, lost with Redis), the sweeper enqueues the
# message once this grace period has passed.
ENQUEUE_GRACE = timedelta(seconds=30)

_MESSAGES = Base.metadata.tables[Message.__tablename__]
_RECIPIENTS = Base.metadata.tables[Recipient.__tablename__]


class StoredMessage(Struct, frozen=True):
    """What the send path learns of a message it stored: each recipient's address (as
    stored) and status, in envelope order."""

    id: str
    sandbox: bool
    recipient_statuses: tuple[str, ...]
    recipient_emails: tuple[str, ...] = ()


class PreparedMessage(Struct, frozen=True):
    """A built and signed message with the rows that store it, not yet written."""

    stored: StoredMessage
    message_row: dict[str, Any]
    recipient_rows: list[dict[str, Any]]
    events: list[NewEvent]


class MessageFacts(Struct, frozen=True, kw_only=True):
    """What the rows record of a message, whichever door (API or SMTP) it came in by."""

    sender: Address
    subject: str
    envelope: Sequence[tuple[str, Address]]
    """``(kind, address)`` of every recipient, in envelope order."""
    tags: tuple[str, ...] = ()
    metadata: dict[str, str] = {}
    sandbox: bool = False
    send_at: datetime | None = None
    source: str = "api"
    tracking: dict[str, Any] | None = None
    """What was tracked and the rewritten links (None: nothing)."""
    ip_pool: str | None = None


def prepare_message(
    account_id: str,
    outgoing: OutgoingMessage,
    domain: SendingDomain,
    hostname: str,
    source: str = "api",
    tracking: TrackingUrls | None = None,
) -> PreparedMessage:
    """Build and DKIM-sign ``outgoing`` and lay out its message, recipient and event rows.

    Pure CPU work, no database: many of these can then be stored together by
    :func:`store_messages`. A message scheduled for later is signed now, dated ``send_at``,
    and its recipients wait as ``scheduled`` until the sweeper queues them at that time.
    """
    now = utcnow()
    send_at = outgoing.send_at
    message_id = new_id("msg")
    tracked = apply_tracking(outgoing, domain, message_id, tracking)
    outgoing = tracked.message
    message_id_header = new_message_id(hostname)
    date = send_at if is_scheduled(send_at, now) else None
    built = build_mime(outgoing, message_id=message_id_header, date=date)
    facts = MessageFacts(
        sender=outgoing.sender,
        subject=outgoing.subject,
        envelope=outgoing.envelope_recipients(),
        tags=outgoing.tags,
        metadata=outgoing.metadata,
        sandbox=outgoing.sandbox,
        send_at=send_at,
        source=source,
        tracking=tracked.record,
        ip_pool=outgoing.ip_pool,
    )
    raw = sign(built, domain.keys)
    return lay_out(account_id, facts, domain, raw, message_id_header, now, message_id)


def prepare_submitted(
    account_id: str, facts: MessageFacts, domain: SendingDomain, message: bytes, message_id: str
) -> PreparedMessage:
    """DKIM-sign a message as its client wrote it (SMTP submission: Herald does not
    rebuild the MIME) and lay out its rows; ``message_id`` is its Message-ID header."""
    return lay_out(account_id, facts, domain, sign(message, domain.keys), message_id, utcnow())


def lay_out(
    account_id: str,
    facts: MessageFacts,
    domain: SendingDomain,
    raw: bytes,
    message_id_header: str,
    now: datetime,
    message_id: str | None = None,
) -> PreparedMessage:
    """The message, recipient and event rows of the signed message ``raw`` (whose id is
    ``message_id`` when its content already names it: tracked links do)."""
    send_at = facts.send_at
    scheduled = is_scheduled(send_at, now)
    status = RecipientStatus.CAPTURED if facts.sandbox else RecipientStatus.QUEUED
    if scheduled:
        status = RecipientStatus.SCHEDULED
    accepted_data: dict[str, Any] = {"sandbox": facts.sandbox}
    if send_at is not None:
        accepted_data["send_at"] = send_at.isoformat()
    message_id = message_id or new_id("msg")
    envelope = facts.envelope
    domain_name = sender_domain(facts.sender.email)
    return PreparedMessage(
        stored=StoredMessage(
            id=message_id,
            sandbox=facts.sandbox,
            recipient_statuses=tuple(status.value for _ in envelope),
            recipient_emails=tuple(address.email for _, address in envelope),
        ),
        message_row={
            "id": message_id,
            "account_id": account_id,
            "domain_id": domain.id,
            "from_email": facts.sender.email,
            "subject": facts.subject,
            "message_id_header": message_id_header,
            "raw": raw,
            "tags": list(facts.tags),
            "metadata": dict(facts.metadata),
            "sandbox": facts.sandbox,
            "created_at": now,
            "send_at": send_at,
            "source": facts.source,
            "tracking": facts.tracking,
            "ip_pool": facts.ip_pool,
        },
        recipient_rows=_recipient_rows(
            message_id, envelope, status, facts.sandbox, now, send_at if scheduled else None
        ),
        events=[
            new_event(
                account_id=account_id,
                message_id=message_id,
                type=EventType.ACCEPTED,
                recipient=address.email,
                data=accepted_data,
                at=now,
                domain=domain_name,
                tags=facts.tags,
            )
            for _, address in envelope
        ],
    )


def _recipient_rows(
    message_id: str,
    envelope: Sequence[tuple[str, Address]],
    status: RecipientStatus,
    sandbox: bool,
    now: datetime,
    send_at: datetime | None,
) -> list[dict[str, Any]]:
    """One row per envelope recipient; outside the sandbox each is due for the sweeper's
    check once :data:`ENQUEUE_GRACE` has passed (in case its job never reaches a worker),
    or at ``send_at`` when scheduled."""
    next_attempt_at = None if sandbox else now + ENQUEUE_GRACE
    if send_at is not None:
        next_attempt_at = send_at
    return [
        {
            "message_id": message_id,
            "email": address.email,
            "domain": address.domain,
            "kind": kind,
            "status": status.value,
            "attempt_count": 0,
            "next_attempt_at": next_attempt_at,
            "lease_token": None,
            "updated_at": now,
        }
        for kind, address in envelope
    ]


async def store_messages(
    connection: AsyncConnection,
    prepared: Sequence[PreparedMessage],
    endpoints: EndpointSource | None = None,
) -> None:
    """Write prepared messages with their recipients, events and webhook deliveries.

    On PostgreSQL that is one statement (see :mod:`herald_service.storage.bulk_insert`),
    atomic by itself, so ``connection`` may be in autocommit mode; elsewhere it must be in
    a transaction.
    """
    if not prepared:
        return
    events = [event for p in prepared for event in p.events]
    await insert_rows(
        connection,
        TableRows(_MESSAGES, [p.message_row for p in prepared]),
        TableRows(_RECIPIENTS, [row for p in prepared for row in p.recipient_rows]),
        *await event_rows(connection, events, endpoints),
    )


async def get_message(session: AsyncSession, account_id: str, message_id: str) -> Message:
    """The caller's message with recipients and attempts, or :class:`NotFound`."""
    message = await session.get(Message, message_id)
    if message is None or message.account_id != account_id:
        raise NotFound(f"no message {message_id}")
    return message


class SourcePruned(HeraldError):
    """The message is known but retention deleted its source."""

    status = 410
    title = "Source pruned"


def message_source(message: Message) -> bytes:
    """The exact signed bytes of ``message``, or :class:`SourcePruned` once retention
    blanked them (``HERALD_RETENTION_BODIES``)."""
    if message.body_pruned_at is not None:
        note = pruned_note(message.created_at, message.body_pruned_at)
        raise SourcePruned(f"message {message.id}: {note}")
    return message.raw


async def message_events(session: AsyncSession, message_id: str) -> list[Event]:
    """The timeline of a message, oldest first."""
    result = await session.execute(
        select(Event).where(Event.message_id == message_id).order_by(Event.at, Event.id)
    )
    return list(result.scalars())
