"""``GET /metrics`` in the Prometheus text format."""

from __future__ import annotations

import asyncio

from litestar import Response, get
from litestar.di import NamedDependency
from sqlalchemy import func, select

from herald_service.api.context import ApiContext
from herald_service.core.states import PENDING_STATUSES, ListingStatus
from herald_service.core.stats import ALL_TAGS, COUNTERS, DAY, day_start
from herald_service.metrics import (
    DOMAINS_PAUSED,
    IP_LISTED,
    QUEUE_JOBS,
    RECIPIENTS_PENDING,
    STATS_TODAY,
    render,
)
from herald_service.storage.models import Domain, IpListing, Recipient, StatsCounter
from herald_service.storage.types import utcnow


@get("/metrics", summary="Prometheus metrics", tags=["operations"], include_in_schema=False)
async def metrics(herald: NamedDependency[ApiContext]) -> Response[bytes]:
    """Counters of this process, queue/backlog gauges read from Redis and the database,
    today's stats counters per account (one indexed read of the day's rows), the
    paused domains per account and the sending IPs' DNSBL listings."""
    queue = herald.delivery_queue.queue
    QUEUE_JOBS.labels(queue.name).set(await asyncio.to_thread(lambda: queue.count))
    async with herald.sessions() as session:
        rows = await session.execute(
            select(Recipient.status, func.count())
            .where(Recipient.status.in_(PENDING_STATUSES))
            .group_by(Recipient.status)
        )
        counts = dict(rows.all())
        today = await session.execute(
            select(StatsCounter.account_id, *(func.sum(getattr(StatsCounter, c)) for c in COUNTERS))
            .where(
                StatsCounter.granularity == DAY,
                StatsCounter.tag == ALL_TAGS,
                StatsCounter.bucket == day_start(utcnow()),
            )
            .group_by(StatsCounter.account_id)
        )
        per_account = today.all()
        paused = await session.execute(
            select(Domain.account_id, func.count())
            .where(Domain.paused_at.is_not(None), Domain.deleted_at.is_(None))
            .group_by(Domain.account_id)
        )
        paused_per_account = paused.all()
        listings = (
            await session.execute(
                select(IpListing.ip, IpListing.zone, IpListing.status).where(
                    IpListing.status != ListingStatus.UNKNOWN.value
                )
            )
        ).all()
    for status in PENDING_STATUSES:
        RECIPIENTS_PENDING.labels(status.value).set(counts.get(status.value, 0))
    STATS_TODAY.clear()  # yesterday's accounts go; today's come back from the counters
    for account_id, *values in per_account:
        for counter, value in zip(COUNTERS, values, strict=True):
            STATS_TODAY.labels(account_id, counter).set(int(value or 0))
    DOMAINS_PAUSED.clear()
    for account_id, count in paused_per_account:
        DOMAINS_PAUSED.labels(account_id).set(int(count))
    IP_LISTED.clear()  # an IP or zone no longer configured goes with its row
    for ip, zone, standing in listings:
        IP_LISTED.labels(ip, zone).set(1 if standing == ListingStatus.LISTED.value else 0)
    body, content_type = render()
    return Response(content=body, media_type=content_type)
