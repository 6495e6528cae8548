"""Reputation use cases: a domain's standing (windows, thresholds, history) and resume."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.reputation import judge
from herald_service.core.states import DomainEventType, DomainStatus, RecipientStatus
from herald_service.core.stats import day_start
from herald_service.errors import Conflict
from herald_service.reputation.guard import judged_windows, thresholds_of, thresholds_record
from herald_service.reputation.notices import announce
from herald_service.reputation.queries import counts_since, judgement_record
from herald_service.settings import Settings
from herald_service.storage.models import Domain, DomainEvent, Message, Recipient
from herald_service.storage.types import utcnow

HISTORY = 20
"""How many of a domain's latest events its reputation shows."""


class NotPaused(Conflict):
    """Resuming a domain that is not paused."""

    title = "Domain not paused"


def shown_status(domain: Domain) -> str:
    """The status the API shows: ``paused`` for a paused domain, else the stored one."""
    return DomainStatus.PAUSED.value if domain.paused_at is not None else domain.status


async def resume_domain(
    session: AsyncSession, domain: Domain, actor: str, now: datetime | None = None
) -> int:
    """Resume a paused domain: sends are accepted again and its held mail is queued (the
    next sweep hands it to the workers); how many recipients were released. From now on
    the guard judges the domain on what happens after the resume. 409 when not paused."""
    if domain.paused_at is None:
        raise NotPaused(f"{domain.name} is not paused; there is nothing to resume")
    now = now or utcnow()
    paused_at, reason = domain.paused_at, domain.pause_reason
    baseline = await counts_since(session, domain.account_id, domain.name, day_start(now))
    record: dict[str, Any] = dict(domain.reputation)
    record["resumed"] = {"at": now.isoformat(), "baseline": baseline, "by": actor}
    domain.paused_at = None
    domain.pause_reason = ""
    domain.reputation = record
    held = select(Message.id).where(Message.domain_id == domain.id)
    released = await session.execute(
        update(Recipient)
        .where(Recipient.status == RecipientStatus.HELD.value, Recipient.message_id.in_(held))
        .values(status=RecipientStatus.QUEUED.value, next_attempt_at=now, updated_at=now)
        .returning(Recipient.id)
        .execution_options(synchronize_session=False)
    )
    count = len(released.all())
    await announce(
        session,
        account_id=domain.account_id,
        domain_id=domain.id,
        domain=domain.name,
        type=DomainEventType.RESUMED,
        actor=actor,
        at=now,
        data={"paused_at": paused_at.isoformat(), "reason": reason, "released": count},
    )
    return count


async def held_count(session: AsyncSession, domain_id: str) -> tuple[int, int]:
    """How many recipients (of how many messages) a paused domain holds: what a resume
    would release, so the console can say so before anyone clicks."""
    row = (
        await session.execute(
            select(func.count(), func.count(func.distinct(Recipient.message_id)))
            .select_from(Recipient)
            .join(Message, Message.id == Recipient.message_id)
            .where(Message.domain_id == domain_id, Recipient.status == RecipientStatus.HELD.value)
        )
    ).one()
    return int(row[0]), int(row[1])


async def reputation_of(
    session: AsyncSession, settings: Settings, domain: Domain, now: datetime | None = None
) -> dict[str, Any]:
    """A domain's standing now: its windows judged against the thresholds, its pause, and
    its latest domain events (newest first)."""
    now = now or utcnow()
    windows, _ = await judged_windows(session, domain, now)
    thresholds = thresholds_of(settings)
    judgement = judgement_record(judge(windows, thresholds), now)
    events = (
        await session.execute(
            select(DomainEvent)
            .where(DomainEvent.domain_id == domain.id)
            .order_by(DomainEvent.at.desc(), DomainEvent.id.desc())
            .limit(HISTORY)
        )
    ).scalars()
    return {
        "domain_id": domain.id,
        "domain": domain.name,
        "status": shown_status(domain),
        "paused_at": domain.paused_at,
        "pause_reason": domain.pause_reason or None,
        "level": judgement["level"],
        "reasons": judgement["reasons"],
        "windows": judgement["windows"],
        "thresholds": thresholds_record(thresholds),
        "events": [
            {"id": e.id, "type": e.type, "at": e.at, "actor": e.actor, "details": dict(e.data)}
            for e in events
        ],
    }
