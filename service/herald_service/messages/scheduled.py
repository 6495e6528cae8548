"""The messages of an account still waiting for their ``send_at``, soonest first.

Read through ``ix_messages_account_send_at`` (the account's scheduled messages by due time,
migration 0014) from a little before now, each checked for a recipient still
``scheduled`` through ``ix_recipients_message_status``: the page costs the same whether
this or another account has a million messages waiting. A message more than
:data:`OVERDUE` past its time is not listed: the workers queue it as soon as one runs.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.states import RecipientStatus
from herald_service.storage.models import Message, Recipient
from herald_service.storage.types import utcnow

PAGE = 50
OVERDUE = timedelta(minutes=10)


async def scheduled_messages(
    session: AsyncSession, account_id: str, limit: int = PAGE
) -> list[Message]:
    """Up to ``limit`` of the account's messages with a recipient still ``scheduled``,
    the soonest due first (recipients loaded)."""
    waiting = (
        select(Recipient.id)
        .where(
            Recipient.message_id == Message.id,
            Recipient.status == RecipientStatus.SCHEDULED.value,
        )
        .exists()
    )
    query = (
        select(Message)
        .where(
            Message.account_id == account_id,
            Message.send_at.is_not(None),
            Message.send_at >= utcnow() - OVERDUE,
            waiting,
        )
        .order_by(Message.send_at, Message.id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
