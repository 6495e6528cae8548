"""The queue as its tools see it: recipients waiting to go (``herald queue list`` and the
console's Queue page), counted per recipient domain and status, and listed a page at a
time, the soonest due first, with the reply of their last attempt.

Both reads start from ``ix_recipients_due`` (status, due time) and keep to the caller's
account through the message, so an operator's command line (``account_id`` ``None``)
and a console member (one account) read alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.states import RecipientStatus
from herald_service.storage.models import DeliveryAttempt, Message, Recipient

WAITING = (
    RecipientStatus.QUEUED,
    RecipientStatus.DEFERRED,
    RecipientStatus.HELD,
    RecipientStatus.SCHEDULED,
)


def _waiting(
    status: str | None, domain: str | None, account_id: str | None
) -> list[ColumnElement[bool]]:
    """The conditions of waiting recipients (of one status, domain, account if given)."""
    statuses = [status] if status else [s.value for s in WAITING]
    where: list[ColumnElement[bool]] = [Recipient.status.in_(statuses)]
    if domain:
        where.append(Recipient.domain == domain.lower())
    if account_id:
        where.append(Message.account_id == account_id)
    return where


async def waiting(
    session: AsyncSession,
    status: str | None,
    domain: str | None,
    account_id: str | None,
    limit: int,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The waiting recipients, by due time (each status on its own ``ix_recipients_due``
    range), with the reply of their last attempt; ``offset`` skips that many."""
    query = (
        select(Recipient, Message.account_id)
        .join(Message, Message.id == Recipient.message_id)
        .where(*_waiting(status, domain, account_id))
        .order_by(Recipient.next_attempt_at, Recipient.id)
        .limit(limit)
        .offset(offset)
    )
    found = (await session.execute(query)).all()
    last = await _last_replies(session, [recipient.id for recipient, _ in found])
    return [
        {
            "message_id": recipient.message_id,
            "account_id": account,
            "email": recipient.email,
            "domain": recipient.domain,
            "status": recipient.status,
            "attempts": recipient.attempt_count,
            "next_attempt_at": _iso(recipient.next_attempt_at),
            "last_response": last.get(recipient.id, ""),
        }
        for recipient, account in found
    ]


async def waiting_by_domain(
    session: AsyncSession, account_id: str | None
) -> dict[str, dict[str, int]]:
    """Waiting recipients per recipient domain and status, the busiest domain first."""
    query = (
        select(Recipient.domain, Recipient.status, func.count())
        .join(Message, Message.id == Recipient.message_id)
        .where(*_waiting(None, None, account_id))
        .group_by(Recipient.domain, Recipient.status)
    )
    counts: dict[str, dict[str, int]] = {}
    for domain, status, count in await session.execute(query):
        counts.setdefault(str(domain), {})[str(status)] = int(count)
    return dict(sorted(counts.items(), key=lambda item: (-sum(item[1].values()), item[0])))


async def _last_replies(session: AsyncSession, recipient_ids: list[int]) -> dict[int, str]:
    if not recipient_ids:
        return {}
    rows = await session.execute(
        select(DeliveryAttempt.recipient_id, DeliveryAttempt.code, DeliveryAttempt.response)
        .where(DeliveryAttempt.recipient_id.in_(recipient_ids))
        .order_by(DeliveryAttempt.recipient_id, DeliveryAttempt.at)
    )
    return {rid: f"{code or ''} {response}".strip() for rid, code, response in rows.all()}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None
