"""The database side of delivery, set-based: start many messages, record many outcomes.

Both functions take the items of many concurrent deliveries (gathered by a
:class:`~herald_service.storage.batched_writes.BatchedWriter`) and handle them with a few
statements in the caller's transaction, whatever their number:

* :func:`start_many`: one UPDATE … RETURNING leases every ready recipient of the messages,
  one SELECT loads the messages, one query per account finds suppressed addresses, one
  UPDATE and one event INSERT drop them.
* :func:`record_many`: one UPDATE per (status, retry time) group that only touches
  recipients whose lease token still matches (RETURNING says which), then one INSERT
  statement of the attempts, the events of those recipients and their webhook deliveries.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime, timedelta

from msgspec import Struct
from sqlalchemy import or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald_queue.smtp import Reply
from herald_service.core.backoff import retry_delay
from herald_service.core.smtp_replies import Outcome, classify
from herald_service.core.states import EventType, RecipientStatus
from herald_service.events.service import add_events, event_rows, new_event
from herald_service.settings import Settings
from herald_service.storage.bulk_insert import TableRows, insert_rows
from herald_service.storage.models import DeliveryAttempt, Domain, Message, Recipient, Suppression
from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow
from herald_service.suppressions.service import add_suppression, normalize

_RECIPIENTS = Base.metadata.tables[Recipient.__tablename__]
_MESSAGES = Base.metadata.tables[Message.__tablename__]
_DOMAINS = Base.metadata.tables[Domain.__tablename__]
_SUPPRESSIONS = Base.metadata.tables[Suppression.__tablename__]
_ATTEMPTS = Base.metadata.tables[DeliveryAttempt.__tablename__]
_QUEUED = RecipientStatus.QUEUED.value
_EVENT_TYPES = {
    Outcome.DELIVERED: EventType.DELIVERED,
    Outcome.DEFERRED: EventType.DEFERRED,
    Outcome.BOUNCED: EventType.BOUNCED,
}


class Tried(Struct, frozen=True):
    """The last answer one recipient got, and from where."""

    reply: Reply
    mx: str = ""
    ip: str = ""
    tls: str = ""
    tls_verified: bool = False
    enhanced_code: str = ""


class Job(Struct, frozen=True):
    """The message being delivered, as much of it as delivery needs."""

    id: str
    account_id: str
    created_at: datetime
    raw: bytes
    return_path_host: str


class Claimed(Struct, frozen=True):
    """A recipient this delivery holds the lease of."""

    id: int
    email: str
    domain: str
    attempt_count: int


class Started(Struct, frozen=True):
    """A message whose ready recipients this delivery leased (with ``token``)."""

    token: str
    message: Job
    recipients: list[Claimed]


class Outcomes(Struct, frozen=True):
    """What one SMTP transaction (or route decision) meant for its recipients."""

    message: Job
    recipients: list[Claimed]
    results: dict[str, Tried]
    token: str


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


async def load_jobs(session: AsyncSession, message_ids: list[str]) -> dict[str, Job]:
    """The delivery fields of ``message_ids`` and their domains' return-path hosts."""
    m, d = _MESSAGES.c, _DOMAINS.c
    rows = await session.execute(
        select(m.id, m.account_id, m.created_at, m.raw, d.return_path_host)
        .join_from(_MESSAGES, _DOMAINS, d.id == m.domain_id)
        .where(m.id.in_(message_ids))
    )
    return {row[0]: Job(*row) for row in rows.all()}


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
    jobs = await load_jobs(session, list(claimed))
    by_account: dict[str, list[str]] = defaultdict(list)
    for message_id, recipients in claimed.items():
        by_account[jobs[message_id].account_id].extend(c.email for c in recipients)
    dropped_ids: list[int] = []
    events = []
    for account_id, emails in by_account.items():
        reasons = await suppression_reasons(session, account_id, emails)
        if not reasons:
            continue
        for message_id, recipients in claimed.items():
            job = jobs[message_id]
            if job.account_id != account_id:
                continue
            keep = []
            for recipient in recipients:
                reason = reasons.get(normalize(recipient.email))
                if reason is None:
                    keep.append(recipient)
                    continue
                dropped_ids.append(recipient.id)
                events.append(
                    new_event(
                        account_id=account_id,
                        message_id=message_id,
                        recipient=recipient.email,
                        type=EventType.DROPPED,
                        data={"reason": "suppressed", "suppression_reason": reason},
                        at=now,
                    )
                )
            claimed[message_id] = keep
    if dropped_ids:
        r = _RECIPIENTS.c
        await session.execute(
            update(_RECIPIENTS)
            .where(r.id.in_(dropped_ids), r.lease_token == token)
            .values(
                status=RecipientStatus.SUPPRESSED.value,
                lease_token=None,
                next_attempt_at=None,
                updated_at=now,
            )
        )
        await add_events(session, events)
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


def should_suppress(tried: Tried) -> bool:
    """Hard bounces suppress the address, except policy rejections (5.7.x: about the
    sender or content, not the mailbox) and recipients that only ran out of retries."""
    code = tried.enhanced_code
    return not code.startswith(("5.7.", "4."))


def _event_data(tried: Tried, attempt: int) -> dict[str, object]:
    return {
        "mx": tried.mx,
        "ip": tried.ip,
        "code": tried.reply.code,
        "enhanced_code": tried.enhanced_code,
        "response": tried.reply.text,
        "tls": tried.tls,
        "tls_verified": tried.tls_verified,
        "attempt": attempt,
    }


class _Verdict(Struct, frozen=True):
    unit: Outcomes
    recipient: Claimed
    tried: Tried
    outcome: Outcome
    expired: bool
    next_at: datetime | None


def _judge(settings: Settings, unit: Outcomes, recipient: Claimed, now: datetime) -> _Verdict:
    """The outcome of one recipient's attempt, and when to try again if deferred."""
    expired_at = unit.message.created_at + timedelta(seconds=settings.retry_max_age)
    tried = unit.results[recipient.email]
    outcome = classify(tried.reply.code, tried.reply.text)
    expired = outcome is Outcome.DEFERRED and now >= expired_at
    if expired:
        outcome = Outcome.BOUNCED
        text = f"expired after retrying: {tried.reply.text}"
        tried = Tried(
            Reply(tried.reply.code, text),
            tried.mx,
            tried.ip,
            tried.tls,
            tried.tls_verified,
            "4.4.7",
        )
    next_at = None
    if outcome is Outcome.DEFERRED:
        delay = retry_delay(recipient.attempt_count + 1, settings.retry_schedule)
        next_at = min(now + timedelta(seconds=delay), max(expired_at, now))
    return _Verdict(unit, recipient, tried, outcome, expired, next_at)


async def record_many(
    session: AsyncSession, settings: Settings, units: list[Outcomes], *, replay: bool = False
) -> list[int]:
    """Store the attempts of ``units``, and the new status, event, retry time and any
    suppression of each recipient whose lease (``unit.token``) still holds; per unit, how
    many of its recipients that was.

    ``replay`` (outcomes read back from a dead worker's journal, some perhaps recorded
    already): store the attempts of those recipients only.
    """
    now = utcnow()
    verdicts = [_judge(settings, u, r, now) for u in units for r in u.recipients]
    if not verdicts:
        return [0] * len(units)
    # One UPDATE per (status, retry time); a recipient listed twice (leased again after
    # its lease ran out) goes to separate statements, so RETURNING names the holder.
    groups: dict[tuple[str, datetime | None, int], list[tuple[int, str]]] = defaultdict(list)
    seen: dict[int, int] = defaultdict(int)
    for v in verdicts:
        nth = seen[v.recipient.id]
        seen[v.recipient.id] += 1
        groups[(v.outcome.value, v.next_at, nth)].append((v.recipient.id, v.unit.token))
    r = _RECIPIENTS.c
    held: set[tuple[int, str]] = set()
    for (status, next_at, _), pairs in groups.items():
        pairs.sort()
        changed = await session.execute(
            update(_RECIPIENTS)
            .where(
                r.id.in_([rid for rid, _ in pairs]),
                tuple_(r.id, r.lease_token).in_(pairs),
                r.status == _QUEUED,
            )
            .values(
                attempt_count=r.attempt_count + 1,
                lease_token=None,
                updated_at=now,
                status=status,
                next_attempt_at=next_at,
            )
            .returning(r.id)
        )
        updated = set(changed.scalars())
        held.update(pair for pair in pairs if pair[0] in updated)
    events = []
    for v in verdicts:
        if (v.recipient.id, v.unit.token) not in held:
            continue  # the lease ran out and another delivery owns this recipient now
        message = v.unit.message
        data = _event_data(v.tried, v.recipient.attempt_count + 1)
        if v.outcome is Outcome.BOUNCED:
            data["bounce_type"] = "expired" if v.expired else "hard"
            if not v.expired and should_suppress(v.tried):
                await add_suppression(
                    session,
                    message.account_id,
                    v.recipient.email,
                    "bounce",
                    detail=v.tried.reply.text,
                    message_id=message.id,
                    at=now,
                )
                data["suppressed"] = True
        elif v.outcome is Outcome.DEFERRED and v.next_at is not None:
            data["next_attempt_at"] = v.next_at.isoformat()
        events.append(
            new_event(
                account_id=message.account_id,
                message_id=message.id,
                recipient=v.recipient.email,
                type=_EVENT_TYPES[v.outcome],
                data=data,
                at=now,
            )
        )
    # The attempts, events and webhook deliveries in one statement (on PostgreSQL).
    attempts = [
        {
            "recipient_id": v.recipient.id,
            "at": now,
            "mx": v.tried.mx,
            "ip": v.tried.ip,
            "code": v.tried.reply.code,
            "enhanced_code": v.tried.enhanced_code,
            "response": v.tried.reply.text[:2000],
            "outcome": v.outcome.value,
            "tls": v.tried.tls,
            "tls_verified": v.tried.tls_verified,
        }
        for v in verdicts
        if not replay or (v.recipient.id, v.unit.token) in held
    ]
    if session.new or session.dirty:
        await session.flush()  # suppressions added above
    connection = await session.connection()
    await insert_rows(
        connection, TableRows(_ATTEMPTS, attempts), *await event_rows(connection, events)
    )
    return [sum((r.id, u.token) in held for r in u.recipients) for u in units]
