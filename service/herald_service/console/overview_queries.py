"""The Overview's counts: an account's recipients per status, per hour or day and per
sending domain, over the last 24 hours and the last 30 days.

A recipient counts in the bucket of its message's creation time, in UTC. Counting is a
``GROUP BY`` over the account's messages of a time range (a range of
``ix_messages_account_created``) joined to their recipients' statuses, read from
``ix_recipients_message_status`` alone (migration 0011). The bucket is a string both
databases compute alike: SQLite stores a timestamp as ``YYYY-MM-DD HH:MM:SS.ffffff``, so
its first 13 or 10 characters are the hour or the day; PostgreSQL formats the UTC time
with ``to_char``.

Such a count costs time in proportion to the messages counted (with 100,000 messages in
30 days, about a second on SQLite; see docs/performance-notes.md), so a page view counts only
the last 24 hours, by hour, and takes today's day from those hours. The days before
today are counted once and kept in Redis for :data:`PAST_DAYS_TTL` seconds under a key
of the account and the date (a new day starts a new count), so they may lag that long
behind late changes (a deferred recipient delivered, a bounce that arrived later).

The result feeds :mod:`herald_service.core.charts`, whose docstring says how counters
kept per day and hour (issue 23) can replace these queries and the cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import msgspec
from redis.asyncio import Redis
from sqlalchemy import ColumnElement, String, func, join, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.charts import (
    Series,
    day_keys,
    delivery_rate,
    hour_keys,
    series_of,
    window_start,
)
from herald_service.core.states import RecipientStatus
from herald_service.storage.models import Domain, Message, Recipient

# Stacking order, bottom first: the outcome most recipients have, then the pending, then
# the failures on top where they stand out.
_ORDER = (
    RecipientStatus.DELIVERED,
    RecipientStatus.CAPTURED,
    RecipientStatus.QUEUED,
    RecipientStatus.DEFERRED,
    RecipientStatus.SCHEDULED,
    RecipientStatus.CANCELED,
    RecipientStatus.SUPPRESSED,
    RecipientStatus.BOUNCED,
    RecipientStatus.FAILED,
)
STATUSES = tuple(s.value for s in (*_ORDER, *(s for s in RecipientStatus if s not in _ORDER)))
HOUR, DAY = 13, 10  # the length of a bucket key: ``YYYY-MM-DD HH``, ``YYYY-MM-DD``
PAST_DAYS_TTL = 300  # seconds: how stale the days before today may be
NOW_MARGIN = timedelta(microseconds=1)  # a message stored at ``now`` counts


class DomainCounts(msgspec.Struct, frozen=True):
    """One sending domain's recipients in a window."""

    name: str
    counts: dict[str, int]
    total: int
    rate: float | None


class Window(msgspec.Struct, frozen=True):
    """One window of the Overview: the chart's series and the domains' table."""

    series: Series
    domains: tuple[DomainCounts, ...]


class Overview(msgspec.Struct, frozen=True):
    """The last 24 hours by hour and the last 30 days by day."""

    day: Window
    month: Window


def _bucket(dialect: str, size: int) -> ColumnElement[str]:
    """``YYYY-MM-DD HH`` (``size`` :data:`HOUR`) or ``YYYY-MM-DD`` (:data:`DAY`) of a
    message's creation."""
    if dialect == "postgresql":
        pattern = "YYYY-MM-DD HH24" if size == HOUR else "YYYY-MM-DD"
        return func.to_char(func.timezone("UTC", Message.created_at), pattern, type_=String)
    return func.substr(Message.created_at, 1, size, type_=String)


Row = tuple[str, str, str, int]
"""``(bucket key, domain id, status, recipients)``."""


async def _counts(
    db: AsyncSession, account_id: str, size: int, since: datetime, until: datetime
) -> list[Row]:
    """The account's recipients per bucket, domain and status, of messages created in
    ``[since, until)``."""
    dialect = db.get_bind().dialect.name
    bucket = _bucket(dialect, size).label("bucket")
    if dialect == "postgresql" and size == HOUR:
        # Each message's statuses from the index (a nested loop), which PostgreSQL would
        # rather replace with a hash join over the whole recipients table: 21 ms instead
        # of 180 ms for the last 24 hours, 3,300 messages among 100,000. OFFSET 0 keeps
        # the subquery apart. For 29 days its hash join is the faster (0.7 s against 1.2).
        statuses = (
            select(Recipient.status)
            .where(Recipient.message_id == Message.id)
            .offset(0)
            .lateral("statuses")
        )
        source, status = join(Message, statuses, true()), statuses.c.status
    else:
        source = join(Message, Recipient, Recipient.message_id == Message.id)
        status = Recipient.__table__.c.status
    query = (
        select(bucket, Message.domain_id, status, func.count())
        .select_from(source)
        .where(
            Message.account_id == account_id,
            Message.created_at >= since,
            Message.created_at < until,
        )
        .group_by(bucket, Message.domain_id, status)
    )
    return [(str(b), str(d), str(s), int(n)) for b, d, s, n in await db.execute(query)]


async def _past_days(
    db: AsyncSession, redis: Redis, account_id: str, since: datetime, today: datetime
) -> list[Row]:
    """The rows of the days before today: from the cache, else counted and cached."""
    key = f"herald:console:overview:{account_id}:{today:%Y-%m-%d}"
    cached = await redis.get(key)
    if cached is not None:
        return msgspec.json.decode(cached, type=list[Row])
    rows = await _counts(db, account_id, DAY, since, today)
    await redis.set(key, msgspec.json.encode(rows), ex=PAST_DAYS_TTL)
    return rows


def _window(title: str, keys: Mapping[str, str], rows: list[Row], names: dict[str, str]) -> Window:
    series = series_of(title, STATUSES, keys, ((b, s, n) for b, _, s, n in rows))
    per_domain: dict[str, dict[str, int]] = {}
    for key, domain_id, status, count in rows:
        if key in keys:
            counts = per_domain.setdefault(names.get(domain_id, domain_id), {})
            counts[status] = counts.get(status, 0) + count
    domains = sorted(
        (
            DomainCounts(name, counts, sum(counts.values()), delivery_rate(counts))
            for name, counts in per_domain.items()
        ),
        key=lambda d: (-d.total, d.name),
    )
    return Window(series, tuple(domains))


async def account_overview(
    db: AsyncSession, redis: Redis, account_id: str, now: datetime
) -> Overview:
    """The Overview of ``account_id`` at ``now`` (see the module docstring)."""
    found = await db.execute(select(Domain.id, Domain.name).where(Domain.account_id == account_id))
    names = {str(i): str(n) for i, n in found}
    hours, days = hour_keys(now), day_keys(now)
    hour_rows = await _counts(db, account_id, HOUR, window_start(hours), now + NOW_MARGIN)
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    past = await _past_days(db, redis, account_id, window_start(days), today)
    # Today's hours are all within the last 24: today's day is the sum of its hours.
    prefix = f"{today:%Y-%m-%d}"
    today_rows = [(prefix, d, s, n) for b, d, s, n in hour_rows if b.startswith(prefix)]
    return Overview(
        _window("Last 24 hours, per hour (UTC)", hours, hour_rows, names),
        _window("Last 30 days, per day (UTC)", days, past + today_rows, names),
    )
