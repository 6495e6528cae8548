"""The end of many deliveries, set-based: record what each attempt meant.

:func:`record_many` takes the outcomes of many concurrent SMTP transactions (gathered by a
:class:`~herald_service.storage.batched_writes.BatchedWriter`, or read back from a dead
worker's journal) and stores them with a few statements in the caller's transaction: one
UPDATE per (status, retry time) group that only touches recipients whose lease token
still matches (RETURNING says which), then one INSERT statement of the attempts, the
events of those recipients and their webhook deliveries. What each attempt means is the
pure delivery judgement (:mod:`herald_service.core.delivery_judgement`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from msgspec import Struct
from sqlalchemy import tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald_queue.delivery_values import Claimed, Outcomes, Tried
from herald_service.core.delivery_judgement import Attempt, RetryPolicy, Verdict, judge
from herald_service.core.reputation import is_policy_block
from herald_service.core.states import RecipientStatus
from herald_service.events.service import NewEvent, event_rows, new_event
from herald_service.reputation.cooldowns import Block, CooldownBook, count_blocks
from herald_service.reputation.guard import guard_after
from herald_service.settings import Settings
from herald_service.storage.bulk_insert import TableRows, insert_rows
from herald_service.storage.models import DeliveryAttempt, Recipient
from herald_service.storage.models.base import Base
from herald_service.storage.types import utcnow
from herald_service.suppressions.service import add_suppression

_RECIPIENTS = Base.metadata.tables[Recipient.__tablename__]
_ATTEMPTS = Base.metadata.tables[DeliveryAttempt.__tablename__]
_QUEUED = RecipientStatus.QUEUED.value
_MAX_RESPONSE_CHARS = 2000
"""How much of a server's reply text an attempt row keeps."""

Holder = tuple[int, str]
"""A recipient id and the lease token a delivery held it with."""


class _Judged(Struct, frozen=True):
    """One recipient's attempt, and the verdict on it."""

    unit: Outcomes
    recipient: Claimed
    tried: Tried
    verdict: Verdict

    @property
    def holder(self) -> Holder:
        return (self.recipient.id, self.unit.token)


async def record_many(
    session: AsyncSession,
    settings: Settings,
    units: list[Outcomes],
    *,
    replay: bool = False,
    cooldowns: CooldownBook | None = None,
) -> list[int]:
    """Store the attempts of ``units``, and the new status, event, retry time and any
    suppression of each recipient whose lease (``unit.token``) still holds; per unit, how
    many of its recipients that was.

    ``replay`` (outcomes read back from a dead worker's journal, some perhaps recorded
    already): store the attempts of those recipients only. Policy blocks are counted per
    destination; a burst starts a cool-down (told to ``cooldowns`` at once).
    """
    now = utcnow()
    judged = _judge_all(settings, units, now)
    if not judged:
        return [0] * len(units)
    held = await _store_statuses(session, judged, now)
    events = []
    for item in judged:
        if item.holder in held:  # else the lease ran out and another delivery owns it now
            events.append(await _outcome_event(session, item, now))
    attempts = [_attempt_row(item, now) for item in judged if not replay or item.holder in held]
    if session.new or session.dirty:
        await session.flush()  # suppressions added above
    # The attempts, events and webhook deliveries in one statement (on PostgreSQL).
    connection = await session.connection()
    await insert_rows(
        connection, TableRows(_ATTEMPTS, attempts), *await event_rows(connection, events)
    )
    await guard_after(session, settings, events)  # nothing to do unless a hard bounce
    blocks = [_block(item) for item in judged if item.holder in held and _is_block(item)]
    if blocks:
        started = await count_blocks(session, settings, blocks, now)
        if cooldowns is not None:
            cooldowns.note(started)
    return [sum((r.id, u.token) in held for r in u.recipients) for u in units]


def _is_block(item: _Judged) -> bool:
    """A refusal about the sender (an old journal's job, without a domain id, is not
    counted)."""
    reply = item.tried.reply
    blocked = is_policy_block(reply.code, item.verdict.enhanced_code, reply.text)
    return blocked and bool(item.unit.message.domain_id)


def _block(item: _Judged) -> Block:
    message = item.unit.message
    return Block(
        account_id=message.account_id,
        domain_id=message.domain_id,
        domain=message.domain,
        destination=item.recipient.domain,
        reply=item.verdict.text,
    )


def _judge_all(settings: Settings, units: list[Outcomes], now: datetime) -> list[_Judged]:
    """The verdict on the attempt of every recipient of ``units``, in order."""
    policy = RetryPolicy(settings.retry_schedule, settings.retry_max_age)
    judged = []
    for unit in units:
        for recipient in unit.recipients:
            tried = unit.results[recipient.email]
            attempt = Attempt(
                tried.reply.code,
                tried.reply.text,
                tried.enhanced_code,
                recipient.attempt_count,
                unit.message.created_at,
                tried.retry_after,
            )
            judged.append(_Judged(unit, recipient, tried, judge(attempt, policy, now)))
    return judged


async def _store_statuses(
    session: AsyncSession, judged: list[_Judged], now: datetime
) -> set[Holder]:
    """Give every recipient still leased by its delivery its new status and retry time;
    the (recipient, token) pairs that were."""
    # One UPDATE per (status, retry time); a recipient listed twice (leased again after
    # its lease ran out) goes to separate statements, so RETURNING names the holder.
    groups: dict[tuple[str, datetime | None, int], list[Holder]] = defaultdict(list)
    seen: dict[int, int] = defaultdict(int)
    for item in judged:
        nth = seen[item.recipient.id]
        seen[item.recipient.id] += 1
        verdict = item.verdict
        groups[(verdict.status.value, verdict.next_attempt_at, nth)].append(item.holder)
    r = _RECIPIENTS.c
    held: set[Holder] = set()
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
    return held


async def _outcome_event(session: AsyncSession, item: _Judged, now: datetime) -> NewEvent:
    """The event of one recorded attempt; a bounce that suppresses the address adds the
    suppression (to the session) first."""
    message, tried, verdict = item.unit.message, item.tried, item.verdict
    if verdict.suppress:
        await add_suppression(
            session,
            message.account_id,
            item.recipient.email,
            "bounce",
            detail=verdict.text,
            message_id=message.id,
            at=now,
        )
    data: dict[str, object] = {
        "mx": tried.mx,
        "ip": tried.ip,
        "code": tried.reply.code,
        "enhanced_code": verdict.enhanced_code,
        "response": verdict.text,
        "tls": tried.tls,
        "tls_verified": tried.tls_verified,
        **({"source_ip": tried.source_ip} if tried.source_ip else {}),
        "attempt": verdict.attempt,
        **verdict.event_fields(),
    }
    return new_event(
        account_id=message.account_id,
        message_id=message.id,
        recipient=item.recipient.email,
        type=verdict.event_type,
        data=data,
        at=now,
        domain=message.domain,
        tags=message.tags,
        accepted_at=message.created_at,
    )


def _attempt_row(item: _Judged, now: datetime) -> dict[str, object]:
    """The ``delivery_attempts`` row of one attempt."""
    tried, verdict = item.tried, item.verdict
    return {
        "recipient_id": item.recipient.id,
        "at": now,
        "mx": tried.mx,
        "ip": tried.ip,
        "code": tried.reply.code,
        "enhanced_code": verdict.enhanced_code,
        "response": verdict.text[:_MAX_RESPONSE_CHARS],
        "outcome": verdict.outcome.value,
        "tls": tried.tls,
        "tls_verified": tried.tls_verified,
        "source_ip": tried.source_ip or None,
    }
