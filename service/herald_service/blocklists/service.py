"""Blocklist checks of the sending IPs: one round asks every configured zone about every
sending IP once per ``HERALD_DNSBL_INTERVAL``, records the standing in ``ip_listings``
and tells a change (``ip.listed``, ``ip.delisted``).

Workers run rounds as a periodic duty (:mod:`herald_queue.blocklist_checker`), ``herald
ips check`` runs one at once. A pair is claimed with a conditional UPDATE of its
``last_checked_at`` before it is asked, so many workers ask each pair once per interval.
The IP chooser calls :func:`listed_addresses` for the IPs out of rotation.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import dns.asyncresolver
from msgspec import Struct
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.blocklists.notices import announce
from herald_service.blocklists.queries import listed_addresses, listings, zone_views
from herald_service.core.dnsbl import (
    Verdict,
    Zone,
    failed,
    interpret,
    pairs,
    query_name,
    status_after,
    transition,
)
from herald_service.core.states import IpEventType, ListingStatus
from herald_service.dns import lookup
from herald_service.settings import Settings
from herald_service.storage.models import IpListing

# The reads live in ``queries``; other slices and the workers reach them through here.
__all__ = [
    "CheckResult",
    "check_round",
    "configured_pairs",
    "listed_addresses",
    "listings",
    "zone_views",
]

# Lookups in flight at once in one round (DNSBL servers limit clients that hurry).
CONCURRENT_LOOKUPS = 8


class CheckResult(Struct, frozen=True, kw_only=True):
    """One (IP, zone) asked in a round and what it found."""

    ip: str
    zone: str
    status: ListingStatus
    answer: str
    meaning: str
    error: str
    event: IpEventType | None


def configured_pairs(settings: Settings) -> list[tuple[str, Zone]]:
    """Every (sending IP, zone) the settings ask to check."""
    return pairs(settings.sending_ips, settings.dnsbl_zones)


async def check_round(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    resolver: dns.asyncresolver.Resolver,
    now: datetime,
    *,
    force: bool = False,
) -> list[CheckResult]:
    """Ask every due pair (every pair when ``force``), record and tell what changed.

    Rows of IPs or zones no longer configured are dropped first, so an IP removed from
    ``HERALD_SENDING_IPS`` or a zone removed from the list holds nothing back.
    """
    todo = configured_pairs(settings)
    async with sessions.begin() as session:
        await _sync_rows(session, todo)
        claimed = await _claim(session, todo, settings, now, force=force)
    if not claimed:
        return []
    gate = asyncio.Semaphore(CONCURRENT_LOOKUPS)

    async def ask(ip: str, zone: Zone) -> Verdict:
        async with gate:
            answer = await lookup(resolver, query_name(ip, zone.name), "A")
        return failed(answer.error) if answer.error else interpret(zone, answer.values)

    verdicts = await asyncio.gather(*(ask(ip, zone) for ip, zone in claimed))
    async with sessions.begin() as session:
        return [
            await _record(session, settings, ip, zone.name, verdict, now)
            for (ip, zone), verdict in zip(claimed, verdicts, strict=True)
        ]


async def _sync_rows(session: AsyncSession, todo: list[tuple[str, Zone]]) -> None:
    """A row for every configured pair (created without failing when another worker
    creates it at the same moment); none for a pair no longer configured."""
    wanted = {(ip, zone.name) for ip, zone in todo}
    existing = {
        (ip, zone) for ip, zone in await session.execute(select(IpListing.ip, IpListing.zone))
    }
    for ip, zone in sorted(existing - wanted):
        await session.execute(delete(IpListing).where(IpListing.ip == ip, IpListing.zone == zone))
    missing = wanted - existing
    if missing:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        rows = [
            {
                "ip": ip,
                "zone": zone,
                "status": ListingStatus.UNKNOWN.value,
                "answer": "",
                "meaning": "",
                "last_error": "",
            }
            for ip, zone in sorted(missing)
        ]
        insert = dialect.insert(IpListing.__table__).values(rows)
        await session.execute(insert.on_conflict_do_nothing())


async def _claim(
    session: AsyncSession,
    todo: list[tuple[str, Zone]],
    settings: Settings,
    now: datetime,
    *,
    force: bool,
) -> list[tuple[str, Zone]]:
    """The pairs this round may ask: last asked an interval ago (or ever, when forced)."""
    cutoff = now if force else now - timedelta(seconds=settings.dnsbl_interval)
    due = or_(IpListing.last_checked_at.is_(None), IpListing.last_checked_at <= cutoff)
    claimed = []
    for ip, zone in todo:
        result = await session.execute(
            update(IpListing)
            .where(IpListing.ip == ip, IpListing.zone == zone.name, due)
            .values(last_checked_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            claimed.append((ip, zone))
    return claimed


async def _record(
    session: AsyncSession,
    settings: Settings,
    ip: str,
    zone: str,
    verdict: Verdict,
    now: datetime,
) -> CheckResult:
    """Store what one lookup found; tell a change of standing."""
    row = await session.scalar(
        select(IpListing)
        .where(IpListing.ip == ip, IpListing.zone == zone)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    previous = ListingStatus(row.status) if row is not None else ListingStatus.UNKNOWN
    current = status_after(previous, verdict)
    event = transition(previous, current)
    if row is None:  # configuration changed under the round: nothing to keep
        return _result(ip, zone, current, verdict, event=None)
    was_listed_since = row.listed_since
    row.last_checked_at, row.last_error = now, verdict.error
    if verdict.listed is not None:
        row.answer, row.meaning = verdict.answer, verdict.meaning
    if current is not previous:
        row.status, row.changed_at = current.value, now
        row.listed_since = now if current is ListingStatus.LISTED else None
    if event is not None:
        details = {
            "ip": ip,
            "zone": zone,
            "answer": verdict.answer,
            "meaning": verdict.meaning,
            # For a delisting: since when it had been listed.
            "listed_since": _iso(row.listed_since or was_listed_since),
            "out_of_rotation": event is IpEventType.LISTED and settings.dnsbl_remove_listed,
        }
        await announce(session, settings, type=event, at=now, details=details)
    return _result(ip, zone, current, verdict, event=event)


def _result(
    ip: str, zone: str, status: ListingStatus, verdict: Verdict, *, event: IpEventType | None
) -> CheckResult:
    return CheckResult(
        ip=ip,
        zone=zone,
        status=status,
        answer=verdict.answer,
        meaning=verdict.meaning,
        error=verdict.error,
        event=event,
    )


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None
