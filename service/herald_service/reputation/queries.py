"""The reads and writes behind the guard: a domain's rolling windows from the stats
counters (one range read of their primary key), its pause, its audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.reputation import Judgement, WindowFigures, window_figures
from herald_service.core.stats import ALL_TAGS, DAY, HOUR, day_start, hour_start
from herald_service.domains.readiness import closest_domain
from herald_service.storage.models import Domain, StatsCounter
from herald_service.storage.types import utcnow

_COUNTED = ("delivered", "bounced_hard", "bounced_soft", "complained")
_SUMS = [func.coalesce(func.sum(getattr(StatsCounter, name)), 0) for name in _COUNTED]


def _windows(now: datetime) -> tuple[datetime, datetime]:
    """The first hour row of the 24 h window and the first day row of the 7 d window."""
    return hour_start(now) - timedelta(hours=23), day_start(now) - timedelta(days=6)


def _under(name: str | None) -> list[ColumnElement[bool]]:
    """Counter rows of a domain and its subdomains (all of the account's with ``None``)."""
    if name is None:
        return []
    return [or_(StatsCounter.domain == name, StatsCounter.domain.like(f"%.{name}"))]


async def window_counts(
    session: AsyncSession, account_id: str, name: str | None, now: datetime | None = None
) -> tuple[WindowFigures, WindowFigures]:
    """The 24 h and 7 d windows of one sending domain (its subdomains included), or of the
    whole account with ``name`` ``None``."""
    since_hour, since_day = _windows(now or utcnow())
    c = StatsCounter
    rows = await session.execute(
        select(c.granularity, *_SUMS)
        .where(
            c.account_id == account_id,
            or_(
                (c.granularity == HOUR) & (c.tag == ALL_TAGS) & (c.bucket >= since_hour),
                (c.granularity == DAY) & (c.tag == ALL_TAGS) & (c.bucket >= since_day),
            ),
            *_under(name),
        )
        .group_by(c.granularity)
    )
    found: dict[str, Mapping[str, int]] = {
        row[0]: dict(zip(_COUNTED, map(int, row[1:]), strict=True)) for row in rows
    }
    return window_figures("24h", found.get(HOUR, {})), window_figures("7d", found.get(DAY, {}))


async def owning_domains(
    session: AsyncSession, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], Domain]:
    """The live domain each ``(account, From domain)`` sends under (itself or the closest
    parent the account has), by pair; pairs without one are left out."""
    found: dict[tuple[str, str], Domain] = {}
    for account_id, name in sorted(pairs):
        domain = await closest_domain(session, account_id, name)
        if domain is not None:
            found[(account_id, name)] = domain
    return found


async def counts_since(
    session: AsyncSession, account_id: str, name: str, day: datetime
) -> dict[str, int]:
    """A domain's counts in the day rows from ``day`` on (the resume baseline's reads)."""
    c = StatsCounter
    row = (
        await session.execute(
            select(*_SUMS).where(
                c.account_id == account_id,
                c.granularity == DAY,
                c.tag == ALL_TAGS,
                c.bucket >= day,
                *_under(name),
            )
        )
    ).one()
    return dict(zip(_COUNTED, map(int, row), strict=True))


def judgement_record(judgement: Judgement, at: datetime) -> dict[str, Any]:
    """A judgement as ``domains.reputation`` keeps it and the API shows it."""
    return {
        "level": judgement.level.value,
        "reasons": list(judgement.reasons),
        "at": at.isoformat().replace("+00:00", "Z"),
        "windows": [window_record(w) for w in judgement.windows],
    }


def window_record(figures: WindowFigures) -> dict[str, Any]:
    """One window's counts and rates, as JSON."""
    return {
        "window": figures.window,
        "delivered": figures.delivered,
        "bounced_hard": figures.bounced_hard,
        "bounced_soft": figures.bounced_soft,
        "complained": figures.complained,
        "volume": figures.volume,
        "bounce_rate": figures.bounce_rate,
        "complaint_rate": figures.complaint_rate,
    }


async def pause(session: AsyncSession, domain_id: str, reason: str, at: datetime) -> bool:
    """Pause the domain unless it is paused already; whether this call paused it (so of
    two transactions judging at once only one announces the pause)."""
    changed = await session.execute(
        update(Domain)
        .where(Domain.id == domain_id, Domain.paused_at.is_(None))
        .values(paused_at=at, pause_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


async def mark_warned(
    session: AsyncSession, domain_id: str, at: datetime, quiet_for: timedelta
) -> bool:
    """Note a warning unless one was raised within ``quiet_for``; whether this one counts."""
    changed = await session.execute(
        update(Domain)
        .where(
            Domain.id == domain_id,
            or_(Domain.warned_at.is_(None), Domain.warned_at < at - quiet_for),
        )
        .values(warned_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


async def remember(session: AsyncSession, domain_id: str, record: dict[str, Any]) -> None:
    """Keep the last judgement on the domain row."""
    await session.execute(
        update(Domain)
        .where(Domain.id == domain_id)
        .values(reputation=record)
        .execution_options(synchronize_session=False)
    )
