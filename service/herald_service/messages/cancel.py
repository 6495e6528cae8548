"""Cancel a message before it is tried: ``POST /v1/messages/{id}/cancel``.

A recipient may be canceled while nothing has started for it: it is ``scheduled``,
``held`` (its domain paused), or
``queued`` with no lease and no attempt (handed to the queue, not yet taken by a delivery
worker). One conditional UPDATE decides, so it races safely with the sweeper (which only
moves ``scheduled`` rows whose ``next_attempt_at`` has come, and a canceled row has none)
and with the delivery worker (which leases only ``queued`` rows without a lease). The
recipients' ``message.canceled`` events and their webhook deliveries are written in the
same commit (the outbox in :mod:`herald_service.events.service`).
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.states import EventType, RecipientStatus, summarize
from herald_service.errors import Conflict, NotFound
from herald_service.events.service import EndpointSource, add_events, new_event
from herald_service.storage.models import Message, Recipient
from herald_service.storage.types import utcnow

_NOT_STARTED = or_(
    Recipient.status == RecipientStatus.SCHEDULED.value,
    Recipient.status == RecipientStatus.HELD.value,
    and_(
        Recipient.status == RecipientStatus.QUEUED.value,
        Recipient.lease_token.is_(None),
        Recipient.attempt_count == 0,
    ),
)


class AlreadyStarted(Conflict):
    """Nothing of the message is left to cancel: it was tried, sent or canceled."""

    title = "Message already started"


async def cancel_message(
    sessions: async_sessionmaker[AsyncSession],
    account_id: str,
    message_id: str,
    endpoints: EndpointSource | None = None,
) -> list[str]:
    """Cancel the recipients of the caller's message that have not started; their addresses.

    404 for a message of another account (or none), 409 when none of its recipients could
    be canceled (the message was already sent, tried, or canceled before).
    """
    async with sessions.begin() as session:
        return await cancel_in(session, account_id, message_id, endpoints)


async def cancel_in(
    session: AsyncSession,
    account_id: str | None,
    message_id: str,
    endpoints: EndpointSource | None = None,
) -> list[str]:
    """:func:`cancel_message` in the caller's transaction (``account_id`` ``None``: the
    operator's command line, whatever the account)."""
    owner = await session.scalar(select(Message.account_id).where(Message.id == message_id))
    if owner is None or (account_id is not None and owner != account_id):
        raise NotFound(f"no message {message_id}")
    now = utcnow()
    canceled = list(
        (
            await session.execute(
                update(Recipient)
                .where(Recipient.message_id == message_id, _NOT_STARTED)
                .values(
                    status=RecipientStatus.CANCELED.value,
                    next_attempt_at=None,
                    lease_token=None,
                    updated_at=now,
                )
                .returning(Recipient.email)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    if not canceled:
        raise AlreadyStarted(await _why_not(session, message_id))
    await add_events(
        session,
        [
            new_event(
                account_id=owner,
                message_id=message_id,
                type=EventType.CANCELED,
                recipient=email,
                at=now,
            )
            for email in canceled
        ],
        endpoints,
    )
    return canceled


async def _why_not(session: AsyncSession, message_id: str) -> str:
    statuses = (
        await session.scalars(select(Recipient.status).where(Recipient.message_id == message_id))
    ).all()
    status = summarize(statuses)
    if status == RecipientStatus.CANCELED:
        return f"message {message_id} is already canceled"
    return (
        f"message {message_id} has already started (it is {status}): only a message whose "
        "recipients are scheduled or queued and not yet tried can be canceled"
    )
