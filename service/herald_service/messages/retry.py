"""Deliver deferred mail now: ``POST /v1/messages/{id}/retry``, ``POST /v1/messages/retry``
and ``herald queue retry`` (Postfix's ``postqueue -f`` / ``-i``).

A deferred recipient waits for its ``next_attempt_at``; the sweeper in every worker
(``herald_queue/sweeper.py``, every ``HERALD_SWEEP_INTERVAL``) queues the ones whose time
has come. Retrying now moves that time to now, so the next sweep queues them, with the
same conditional UPDATE that makes each due row go to exactly one sweep: nothing here can
hand a recipient to two deliveries. A retried attempt counts like any other towards the
retry schedule and ``HERALD_RETRY_MAX_AGE``.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate

from herald_service.core.states import RecipientStatus
from herald_service.errors import Conflict, NotFound
from herald_service.request_fields import DomainName
from herald_service.storage.models import Message, Recipient
from herald_service.storage.types import utcnow

_DEFERRED = Recipient.status == RecipientStatus.DEFERRED.value


class RetryDeferredRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/messages/retry``: which deferred recipients to try now."""

    recipient_domain: DomainName | None = None
    """Only recipients at this domain (``gmail.com``); every deferred one without it."""


class RetryDeferredResult(msgspec.Struct):
    """How many deferred recipients are due now."""

    retried: int


class NothingToRetry(Conflict):
    """None of the message's recipients is waiting for a retry."""

    title = "Nothing to retry"


async def retry_message(
    session: AsyncSession, account_id: str | None, message_id: str
) -> list[str]:
    """Make the message's deferred recipients due now; their addresses. ``account_id``
    ``None``: the operator's command line, whatever the account. 404 for another account's
    message (or none), 409 when none of its recipients is deferred."""
    owner = await session.scalar(select(Message.account_id).where(Message.id == message_id))
    if owner is None or (account_id is not None and owner != account_id):
        raise NotFound(f"no message {message_id}")
    retried = _make_due(and_(Recipient.message_id == message_id, _DEFERRED))
    emails = list((await session.execute(retried)).scalars())
    if not emails:
        raise NothingToRetry(f"no recipient of {message_id} is deferred; nothing to retry")
    return emails


async def retry_deferred(
    session: AsyncSession, account_id: str | None, recipient_domain: str | None = None
) -> int:
    """Make every deferred recipient due now (of one account, or all with ``None``;
    of one recipient domain if given); how many."""
    where: ColumnElement[bool] = _DEFERRED
    if recipient_domain:
        where = and_(where, Recipient.domain == recipient_domain.lower())
    if account_id is not None:
        owned = select(Message.id).where(Message.account_id == account_id)
        where = and_(where, Recipient.message_id.in_(owned))
    return len(list((await session.execute(_make_due(where))).scalars()))


def _make_due(where: ColumnElement[bool]) -> ReturningUpdate[str]:
    """The UPDATE that makes the recipients ``where`` says due now, returning addresses."""
    now = utcnow()
    return (
        update(Recipient)
        .where(where)
        .values(next_attempt_at=now, updated_at=now)
        .returning(Recipient.email)
        .execution_options(synchronize_session=False)
    )
