"""The start of many deliveries, set-based: lease, load, drop what is suppressed.

:func:`start_many` takes the message ids of many concurrent deliveries (gathered by a
:class:`~herald_service.storage.batched_writes.BatchedWriter`) and handles them with a few
statements in the caller's transaction, whatever their number: one UPDATE … RETURNING
leases every ready recipient of the messages, one SELECT loads the messages, one query per
account finds suppressed addresses, one UPDATE and one event INSERT drop them.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald_queue.delivery_values import Claimed, Job, Started
from herald_service.core.delivery_judgement import Drop, drop_suppressed
from herald_service.core.states import RecipientStatus
from herald_service.events.service import NewEvent, add_events, new_event, sender_domain
from herald_service.storage.models import Domain, Message, Recipient, Suppression
from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow
from herald_service.suppressions.service import normalize

_RECIPIENTS = Base.metadata.tables[Recipient.__tablename__]
_MESSAGES = Base.metadata.tables[Message.__tablename__]
_DOMAINS = Base.metadata.tables[Domain.__tablename__]
_SUPPRESSIONS = Base.metadata.tables[Suppression.__tablename__]
_QUEUED = RecipientStatus.QUEUED.value
_HELD = RecipientStatus.HELD.value


async def claim_many(
    session: AsyncSession, message_ids: list[str], now: datetime, lease: timedelta
) -> tuple[str, dict[str, list[Claimed]]]:
    """Lease the queued recipients of ``message_ids`` under one new token; by message.

    Rows another transaction is claiming right now are skipped (PostgreSQL
    ``SKIP LOCKED``), so overlapping claims neither wait nor deadlock: each recipient
    goes to exactly one of them.
    """
    token = secrets.token_hex(8)
    r = _RECIPIENTS.c
    ready = (
        r.message_id.in_(message_ids),
        r.status == _QUEUED,
        or_(r.lease_token.is_(None), r.next_attempt_at <= now),
    )
    free = select(r.id).where(*ready).with_for_update(skip_locked=True).scalar_subquery()
    rows = await session.execute(
        update(_RECIPIENTS)
        .where(r.id.in_(free), *ready)
        .values(lease_token=token, next_attempt_at=now + lease)
        .returning(r.id, r.message_id, r.email, r.domain, r.attempt_count)
    )
    claimed: dict[str, list[Claimed]] = defaultdict(list)
    for rid, message_id, email, domain, attempts in sorted(rows.all()):
        claimed[message_id].append(Claimed(rid, email, domain, attempts))
    return token, claimed


async def load_jobs(
    session: AsyncSession, message_ids: list[str]
) -> tuple[dict[str, Job], set[str]]:
    """The delivery fields of ``message_ids`` (with their domains' return-path hosts), and
    which of them belong to a paused domain."""
    m, d = _MESSAGES.c, _DOMAINS.c
    rows = await session.execute(
        select(
            m.id,
            m.account_id,
            m.created_at,
            m.raw,
            d.return_path_host,
            m.from_email,
            m.tags,
            d.id,
            d.paused_at,
            m.ip_pool,
            d.ip_pool,
        )
        .join_from(_MESSAGES, _DOMAINS, d.id == m.domain_id)
        .where(m.id.in_(message_ids))
    )
    jobs: dict[str, Job] = {}
    paused: set[str] = set()
    for row in rows.all():
        jobs[row[0]] = Job(
            *row[:5],
            domain=sender_domain(row[5]),
            tags=tuple(row[6] or ()),
            domain_id=row[7],
            ip_pool=row[9] or row[10] or "",
        )
        if row[8] is not None:
            paused.add(row[0])
    return jobs, paused


async def suppression_reasons(
    session: AsyncSession, account_id: str, emails: list[str]
) -> dict[str, str]:
    """The suppression reason of each of ``emails`` the account suppresses, by address."""
    keys = sorted({normalize(e) for e in emails})
    s = _SUPPRESSIONS.c
    rows = await session.execute(
        select(s.email, s.reason).where(s.account_id == account_id, s.email.in_(keys))
    )
    return {str(email): str(reason) for email, reason in rows.all()}


async def start_many(
    session: AsyncSession, message_ids: list[str], lease: timedelta
) -> list[Started | None]:
    """Lease, load and filter the ready recipients of ``message_ids``, in their order.

    ``None`` for an id with nothing left to deliver (no ready recipient, all suppressed,
    or a repeat of an earlier id in the list). Suppressed recipients become
    ``suppressed`` with a ``message.dropped`` event.
    """
    now = utcnow()
    unique = list(dict.fromkeys(message_ids))
    token, claimed = await claim_many(session, unique, now, lease)
    if not claimed:
        return [None] * len(message_ids)
    jobs, paused = await load_jobs(session, list(claimed))
    if paused:
        await _hold(session, token, [c.id for mid in paused for c in claimed.pop(mid)], now)
    await _drop_suppressed(session, token, claimed, jobs, now)
    started: list[Started | None] = []
    seen: set[str] = set()
    for message_id in message_ids:
        kept = claimed.get(message_id)
        if message_id in seen or not kept:
            started.append(None)
        else:
            started.append(Started(token, jobs[message_id], kept))
        seen.add(message_id)
    return started


async def _hold(session: AsyncSession, token: str, recipient_ids: list[int], now: datetime) -> None:
    """Keep the recipients of a paused domain's messages, untried, until it is resumed
    (``held``: not swept, not sent, not lost; resuming queues them again)."""
    r = _RECIPIENTS.c
    await session.execute(
        update(_RECIPIENTS)
        .where(r.id.in_(recipient_ids), r.lease_token == token)
        .values(status=_HELD, lease_token=None, next_attempt_at=None, updated_at=now)
    )


async def _drop_suppressed(
    session: AsyncSession,
    token: str,
    claimed: dict[str, list[Claimed]],
    jobs: dict[str, Job],
    now: datetime,
) -> None:
    """Take the recipients their account suppresses out of ``claimed`` and store them
    dropped (while this delivery still holds their lease), with their events."""
    by_account: dict[str, list[str]] = defaultdict(list)
    for message_id, recipients in claimed.items():
        by_account[jobs[message_id].account_id].extend(c.email for c in recipients)
    dropped_ids: list[int] = []
    events: list[NewEvent] = []
    for account_id, emails in by_account.items():
        reasons = await suppression_reasons(session, account_id, emails)
        if not reasons:
            continue
        for message_id, recipients in claimed.items():
            if jobs[message_id].account_id != account_id:
                continue
            kept, dropped = _split_suppressed(recipients, reasons)
            claimed[message_id] = kept
            for recipient, drop in dropped:
                dropped_ids.append(recipient.id)
                events.append(
                    new_event(
                        account_id=account_id,
                        message_id=message_id,
                        recipient=recipient.email,
                        type=drop.event_type,
                        data=drop.data,
                        at=now,
                        domain=jobs[message_id].domain,
                        tags=jobs[message_id].tags,
                    )
                )
    if dropped_ids:
        r = _RECIPIENTS.c
        await session.execute(
            update(_RECIPIENTS)
            .where(r.id.in_(dropped_ids), r.lease_token == token)
            .values(
                status=Drop.status.value, lease_token=None, next_attempt_at=None, updated_at=now
            )
        )
        await add_events(session, events)


def _split_suppressed(
    recipients: list[Claimed], reasons: dict[str, str]
) -> tuple[list[Claimed], list[tuple[Claimed, Drop]]]:
    """``recipients`` to keep, and those to drop (``reasons`` suppresses), in order."""
    kept: list[Claimed] = []
    dropped: list[tuple[Claimed, Drop]] = []
    for recipient in recipients:
        reason = reasons.get(normalize(recipient.email))
        if reason is None:
            kept.append(recipient)
        else:
            dropped.append((recipient, drop_suppressed(reason)))
    return kept, dropped
