"""The messages of an account still waiting for their ``send_at``, soonest first.

Read through ``ix_recipients_due (status, next_attempt_at)``: the ``scheduled`` range in
due order (every recipient of a message is due at its ``send_at``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.states import RecipientStatus
from herald_service.storage.models import Message, Recipient

PAGE = 50


async def scheduled_messages(
    session: AsyncSession, account_id: str, limit: int = PAGE
) -> list[Message]:
    """Up to ``limit`` of the account's messages with a recipient still ``scheduled``,
    the soonest due first (recipients loaded)."""
    due = (
        select(Recipient.message_id, Recipient.next_attempt_at)
        .join(Message, Message.id == Recipient.message_id)
        .where(
            Recipient.status == RecipientStatus.SCHEDULED.value,
            Message.account_id == account_id,
        )
        .distinct()
        .order_by(Recipient.next_attempt_at, Recipient.message_id)
        .limit(limit)
    )
    ids = list(dict.fromkeys(row.message_id for row in await session.execute(due)))
    if not ids:
        return []
    messages = (await session.scalars(select(Message).where(Message.id.in_(ids)))).all()
    order = {message_id: i for i, message_id in enumerate(ids)}
    return sorted(messages, key=lambda m: order[m.id])
