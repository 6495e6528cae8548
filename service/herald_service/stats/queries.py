"""The reads behind ``GET /v1/stats``: each one range scan of a counter table's primary
key, summed by the database, so its cost follows the range asked for, not the event log."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.stats import ALL_TAGS, COUNTERS, DAY, HOUR, LATENCY_COLUMNS
from herald_service.storage.models import StatsCounter, StatsLatency


class StatsRange(Struct, frozen=True):
    """What to read: the account, ``[start, end)``, the grouping and the filters."""

    account_id: str
    start: datetime
    end: datetime
    group_by: str
    domain: str | None = None
    tag: str | None = None


Counts = dict[str, int]


def _granularity(query: StatsRange) -> str:
    return HOUR if query.group_by == "hour" else DAY


def _counter_filters(query: StatsRange, *, per_tag: bool) -> list[ColumnElement[bool]]:
    c = StatsCounter
    filters = [
        c.account_id == query.account_id,
        c.granularity == _granularity(query),
        c.bucket >= query.start,
        c.bucket < query.end,
    ]
    if query.tag is not None:
        filters.append(c.tag == query.tag)
    elif per_tag:
        filters.append(c.tag != ALL_TAGS)
    else:
        filters.append(c.tag == ALL_TAGS)
    if query.domain is not None:
        filters.append(c.domain == query.domain)
    return filters


_SUMS = [func.coalesce(func.sum(getattr(StatsCounter, name)), 0) for name in COUNTERS]


async def grouped_counts(session: AsyncSession, query: StatsRange) -> dict[object, Counts]:
    """The summed counters per group key (a bucket start, a domain or a tag)."""
    key = {"domain": StatsCounter.domain, "tag": StatsCounter.tag}.get(
        query.group_by, StatsCounter.bucket
    )
    rows = await session.execute(
        select(key, *_SUMS)
        .where(*_counter_filters(query, per_tag=query.group_by == "tag"))
        .group_by(key)
    )
    return {row[0]: dict(zip(COUNTERS, map(int, row[1:]), strict=True)) for row in rows}


async def bucket_domain_counts(
    session: AsyncSession, query: StatsRange
) -> list[tuple[datetime, str, Counts]]:
    """The summed counters per bucket and sending domain: what a chart per hour or day
    and a table per domain of the same range need, in one read."""
    c = StatsCounter
    rows = await session.execute(
        select(c.bucket, c.domain, *_SUMS)
        .where(*_counter_filters(query, per_tag=False))
        .group_by(c.bucket, c.domain)
    )
    return [
        (row[0], str(row[1]), dict(zip(COUNTERS, map(int, row[2:]), strict=True))) for row in rows
    ]


async def total_counts(session: AsyncSession, query: StatsRange) -> Counts:
    """The summed counters of the whole range (every message once, whatever its tags)."""
    row = (
        await session.execute(select(*_SUMS).where(*_counter_filters(query, per_tag=False)))
    ).one()
    return dict(zip(COUNTERS, map(int, row), strict=True))


async def latency_histograms(
    session: AsyncSession, query: StatsRange, by: str
) -> dict[object, dict[int, int]]:
    """Per day or per domain (``by``), the delivery latency histogram (bucket → count)."""
    lat = StatsLatency
    key = lat.day if by == "day" else lat.domain
    filters = [lat.account_id == query.account_id, lat.day >= query.start, lat.day < query.end]
    if query.domain is not None:
        filters.append(lat.domain == query.domain)
    sums = [func.sum(getattr(lat, name)) for name in LATENCY_COLUMNS]
    rows = await session.execute(select(key, *sums).where(*filters).group_by(key))
    return {
        row[0]: {index: int(count) for index, count in enumerate(row[1:]) if count} for row in rows
    }
