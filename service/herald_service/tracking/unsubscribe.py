"""Hosted one-click unsubscribe (RFC 8058): the recipient joins the account's suppressions.

A ``POST`` with ``List-Unsubscribe=One-Click`` (what Gmail and Yahoo send), the button of
the confirmation page, or a mail to the ``mailto:`` target (through ``herald inbound``)
unsubscribes. A ``GET`` never does: mail scanners prefetch links. The suppression (reason
``unsubscribe``) and the ``message.unsubscribed`` event are written in one transaction;
doing it again changes nothing and records nothing more.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.states import EventType
from herald_service.events.service import EndpointSource, event_rows, new_event
from herald_service.storage.bulk_insert import insert_rows
from herald_service.suppressions.service import add_suppression
from herald_service.tracking.recording import TrackedMessage


def offers_unsubscribe(message: TrackedMessage | None) -> bool:
    """Whether ``message`` carries Herald's one-click unsubscribe for its one recipient."""
    return bool(message and message.recipient and message.tracking.get("unsubscribe"))


async def unsubscribe(
    sessions: async_sessionmaker[AsyncSession],
    message: TrackedMessage,
    method: str,
    endpoints: EndpointSource | None = None,
) -> bool:
    """Suppress the message's recipient for its account; True if it was not yet."""
    async with sessions.begin() as session:
        _, new = await add_suppression(
            session,
            message.account_id,
            message.recipient,
            "unsubscribe",
            detail=f"unsubscribed through List-Unsubscribe ({method})",
            message_id=message.id,
        )
        if new:
            event = new_event(
                account_id=message.account_id,
                message_id=message.id,
                type=EventType.UNSUBSCRIBED,
                recipient=message.recipient,
                data={"method": method},
                domain=message.domain,
                tags=message.tags,
            )
            connection = await session.connection()
            await insert_rows(connection, *await event_rows(connection, [event], endpoints))
    return new
