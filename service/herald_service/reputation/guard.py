"""Judge the domains a batch of events concerns, right after the events are stored.

Only hard bounces and complaints can raise a rate, so a batch without them costs nothing
(the send and delivery paths' common case). With them, each concerned domain costs one
range read of its stats counters in the same transaction, which has just added the batch
to those counters: the judgement sees exactly what was stored, and a pause commits
together with the bounce that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.reputation import (
    Level,
    Thresholds,
    WindowFigures,
    calls_for_judgement,
    judge,
    window_figures,
)
from herald_service.core.states import DomainEventType
from herald_service.core.stats import day_start
from herald_service.events.service import NewEvent
from herald_service.reputation.notices import announce
from herald_service.reputation.queries import (
    counts_since,
    judgement_record,
    mark_warned,
    owning_domains,
    pause,
    remember,
    window_counts,
)
from herald_service.settings import Settings
from herald_service.storage.models import Domain
from herald_service.storage.types import utcnow

GUARD = "reputation guard"
"""The actor of what the guard does by itself."""
RESUMED_FOR = timedelta(days=7)
"""How long after a resume a domain is judged on what happened since (then: the windows)."""
WARNING_QUIET = timedelta(hours=24)
"""A domain warns at most once a day (a pause is announced once, until resumed)."""


def thresholds_of(settings: Settings) -> Thresholds:
    """The configured thresholds (``HERALD_REPUTATION_*``)."""
    return Thresholds(
        min_volume=settings.reputation_min_volume,
        bounce_warn=settings.reputation_bounce_warn,
        bounce_pause=settings.reputation_bounce_pause,
        complaint_warn=settings.reputation_complaint_warn,
        complaint_pause=settings.reputation_complaint_pause,
    )


async def guard_after(
    session: AsyncSession, settings: Settings, events: Iterable[NewEvent]
) -> None:
    """Judge every domain a hard bounce or complaint among ``events`` came from; warn or
    pause it as its windows call for."""
    concerned = {
        (e.account_id, e.domain) for e in events if e.domain and calls_for_judgement(e.type, e.data)
    }
    if not concerned:
        return
    thresholds = thresholds_of(settings)
    now = utcnow()
    for domain in {d.id: d for d in (await owning_domains(session, concerned)).values()}.values():
        if domain.paused_at is not None:
            continue
        judgement = judge(
            await window_counts(session, domain.account_id, domain.name, now), thresholds
        )
        record = judgement_record(judgement, now)
        await remember(session, domain.id, record)
        if judgement.level is Level.OK:
            continue
        details = {
            "reason": judgement.reason,
            **record,
            "thresholds": thresholds_record(thresholds),
        }
        if judgement.level is Level.PAUSE:
            if await pause(session, domain.id, judgement.reason, now):
                await announce(
                    session,
                    account_id=domain.account_id,
                    domain_id=domain.id,
                    domain=domain.name,
                    type=DomainEventType.PAUSED,
                    actor=GUARD,
                    at=now,
                    data=details,
                )
        elif await mark_warned(session, domain.id, now, WARNING_QUIET):
            await announce(
                session,
                account_id=domain.account_id,
                domain_id=domain.id,
                domain=domain.name,
                type=DomainEventType.REPUTATION_WARNING,
                actor=GUARD,
                at=now,
                data=details,
            )


async def judged_windows(
    session: AsyncSession, domain: Domain, now: datetime
) -> tuple[tuple[WindowFigures, ...], dict[str, Any]]:
    """The windows a domain is judged on, and its resume record while that applies.

    Resumed within the last 7 days, it is judged on what happened since the resume (the
    counts then are its baseline), so the bounces that paused it do not pause it again.
    """
    resumed = domain.reputation.get("resumed") or {}
    if resumed:
        at = datetime.fromisoformat(str(resumed["at"]))
        if now - at < RESUMED_FOR:
            current = await counts_since(session, domain.account_id, domain.name, day_start(at))
            base = resumed.get("baseline", {})
            since = {
                name: max(count - int(base.get(name, 0)), 0) for name, count in current.items()
            }
            return (window_figures("since resume", since),), resumed
    return await window_counts(session, domain.account_id, domain.name, now), {}


def thresholds_record(thresholds: Thresholds) -> dict[str, float | int]:
    """The thresholds as JSON."""
    return {
        "min_volume": thresholds.min_volume,
        "bounce_warn": thresholds.bounce_warn,
        "bounce_pause": thresholds.bounce_pause,
        "complaint_warn": thresholds.complaint_warn,
        "complaint_pause": thresholds.complaint_pause,
    }
