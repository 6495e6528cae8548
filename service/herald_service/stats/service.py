"""Stats use cases: check a request's window and turn the counter reads into a report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.stats import day_start, hour_start, latency_percentile, rates
from herald_service.errors import FieldError, InvalidRequest
from herald_service.pagination import timestamp
from herald_service.stats.queries import (
    Counts,
    StatsRange,
    bucket_domain_counts,
    grouped_counts,
    latency_histograms,
    total_counts,
)
from herald_service.stats.schemas import (
    StatsCounts,
    StatsGroup,
    StatsLatency,
    StatsRates,
    StatsReport,
)
from herald_service.storage.types import utcnow

GROUP_BY = ("day", "hour", "domain", "tag")
DEFAULT_DAYS = timedelta(days=7)
DEFAULT_HOURS = timedelta(hours=24)
MAX_DAYS = timedelta(days=366)
MAX_HOURS = timedelta(hours=48)
"""Hour counters are kept for the last 48 hours; days for as long as the account exists."""


def _instant(name: str, value: str | None) -> datetime | None:
    """A query timestamp: RFC 3339 with a time zone, or a date (its UTC midnight)."""
    if value is not None and len(value) == 10:
        try:
            day = msgspec.convert(value, date, strict=True)
        except msgspec.ValidationError:
            pass
        else:
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
    parsed = timestamp(name, value)
    return parsed.astimezone(UTC) if parsed is not None else None


def stats_range(
    account_id: str,
    *,
    start: str | None,
    end: str | None,
    group_by: str,
    domain: str | None,
    tag: str | None,
    now: datetime | None = None,
) -> StatsRange:
    """The checked window of a stats request; a 422 naming the field otherwise.

    Buckets whose start is in ``[from, to)`` count, ``from`` rounded down to its day (its
    hour for ``group_by=hour``); ``to`` defaults to now, ``from`` to 7 days (24 hours)
    before ``to``.
    """
    if group_by not in GROUP_BY:
        raise InvalidRequest(
            f"group_by must be one of {', '.join(GROUP_BY)}",
            [FieldError("group_by", f"one of {', '.join(GROUP_BY)}")],
        )
    hourly = group_by == "hour"
    until = _instant("to", end) or (now or utcnow())
    try:
        since = _instant("from", start) or until - (DEFAULT_HOURS if hourly else DEFAULT_DAYS)
    except OverflowError:  # ``to`` in year 1: there is no default before it
        raise InvalidRequest("to is too early", [FieldError("to", "too early")]) from None
    if since >= until:
        raise InvalidRequest("from must be before to", [FieldError("from", "must be before to")])
    since = hour_start(since) if hourly else day_start(since)
    longest = MAX_HOURS if hourly else MAX_DAYS
    if until - since > longest + (timedelta(hours=1) if hourly else timedelta(days=1)):
        limit = "48 hours" if hourly else "366 days"
        raise InvalidRequest(
            f"the range is longer than {limit}",
            [FieldError("from", f"at most {limit} before to")],
        )
    return StatsRange(
        account_id=account_id,
        start=since,
        end=until,
        group_by=group_by,
        domain=domain.lower() if domain else None,
        tag=tag or None,
    )


def _group(key: str, counts: Counts, histogram: Mapping[int, int] | None) -> StatsGroup:
    latency = None
    if histogram is not None:
        latency = StatsLatency(
            deliveries=sum(histogram.values()),
            p50=latency_percentile(histogram, 0.5),
            p90=latency_percentile(histogram, 0.9),
            p99=latency_percentile(histogram, 0.99),
        )
    return StatsGroup(
        key=key,
        counts=StatsCounts(**counts),
        rates=StatsRates(**rates(counts)),
        latency=latency,
    )


def _buckets(query: StatsRange) -> list[datetime]:
    """Every bucket start in the range, so days or hours without traffic show zeros."""
    step = timedelta(hours=1) if query.group_by == "hour" else timedelta(days=1)
    starts, at = [], query.start
    while at < query.end:
        starts.append(at)
        if at > datetime.max.replace(tzinfo=UTC) - step:  # the end of year 9999
            break
        at += step
    return starts


def _merged(histograms: Mapping[object, Mapping[int, int]]) -> dict[int, int]:
    total: dict[int, int] = {}
    for histogram in histograms.values():
        for bucket, count in histogram.items():
            total[bucket] = total.get(bucket, 0) + count
    return total


def _key(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


async def read_stats(session: AsyncSession, query: StatsRange) -> StatsReport:
    """The report of ``query``: one counter read (two for ``group_by=tag``, whose total
    is not the sum of its groups) and, without a tag filter, one latency read."""
    grouped = await grouped_counts(session, query)
    with_latency = query.tag is None and query.group_by != "hour"
    histograms: dict[object, dict[int, int]] = {}
    if with_latency:
        by = "domain" if query.group_by == "domain" else "day"
        histograms = await latency_histograms(session, query, by)
    zero: Counts = msgspec.structs.asdict(StatsCounts())
    keys: list[object] = list(grouped)
    if query.group_by in ("day", "hour"):
        keys = list(_buckets(query))
    else:
        keys.sort(key=str)
    latency_groups = with_latency and query.group_by in ("day", "domain")
    groups = [
        _group(
            _key(key),
            grouped.get(key, zero),
            histograms.get(key, {}) if latency_groups else None,
        )
        for key in keys
    ]
    if query.group_by == "tag":
        total = await total_counts(session, query)
    else:
        total = {name: sum(c[name] for c in grouped.values()) for name in zero}
    return StatsReport(
        from_=query.start,
        to=query.end,
        group_by=query.group_by,
        domain=query.domain,
        tag=query.tag,
        groups=groups,
        total=_group("total", total, _merged(histograms) if with_latency else None),
    )


async def counts_per_bucket_and_domain(
    session: AsyncSession, account_id: str, group_by: str, start: datetime, end: datetime
) -> list[tuple[datetime, str, dict[str, int]]]:
    """Every tag's counters per hour (``group_by`` ``hour``) or day and sending domain in
    ``[start, end)``: one range read of the counters' primary key, whatever the traffic
    (the console's Overview draws its charts and domain tables from it)."""
    query = StatsRange(account_id=account_id, start=start, end=end, group_by=group_by)
    return await bucket_domain_counts(session, query)
