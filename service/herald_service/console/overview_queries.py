"""The Overview's figures: what happened to an account's mail per hour over the last 24
hours and per day over the last 30, in total and per sending domain.

They come from the stats counters (``stats_counters``, kept by the event writes; see
:mod:`herald_service.stats.service`): one range read of the counters' primary key per
window, so a page view costs the same with a hundred messages a month or millions, and
needs no cache. An event counts in the hour (day) it happened, in UTC: a message
accepted at 23:59 and delivered at 00:01 is accepted on one day, delivered on the next.
Hour counters are kept for 48 hours, day counters for as long as the account exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.charts import Series, day_keys, hour_keys, series_of, window_start
from herald_service.core.stats import rates
from herald_service.stats.service import counts_per_bucket_and_domain

OUTCOMES = ("delivered", "deferred", "bounced", "dropped", "complained")
"""What the charts stack, bottom first: the usual outcome, then the retries, then the
failures on top where they stand out. Hard and soft bounces are one ``bounced``."""
NOW_MARGIN = timedelta(microseconds=1)  # the current hour's bucket starts at or before now

Counts = dict[str, int]


class DomainCounts(msgspec.Struct, frozen=True):
    """One sending domain's figures in a window."""

    name: str
    counts: dict[str, int]
    """The :data:`OUTCOMES` and ``accepted``."""
    accepted: int
    rate: float | None
    """Delivered over accepted recipients; ``None`` while none was accepted."""


class Window(msgspec.Struct, frozen=True):
    """One window of the Overview: the chart's series and the domains' table."""

    series: Series
    accepted: int
    domains: tuple[DomainCounts, ...]


class Overview(msgspec.Struct, frozen=True):
    """The last 24 hours by hour and the last 30 days by day."""

    day: Window
    month: Window


def outcomes(counts: Mapping[str, int]) -> Counts:
    """A counter row as the Overview shows it: the :data:`OUTCOMES` and ``accepted``."""
    return {
        "delivered": counts.get("delivered", 0),
        "deferred": counts.get("deferred", 0),
        "bounced": counts.get("bounced_hard", 0) + counts.get("bounced_soft", 0),
        "dropped": counts.get("dropped", 0),
        "complained": counts.get("complained", 0),
        "accepted": counts.get("accepted_recipients", 0),
    }


Row = tuple[str, str, Counts]
"""``(bucket key, sending domain, counters)``."""


def _window(title: str, keys: Mapping[str, str], rows: list[Row]) -> Window:
    shown = [(key, domain, outcomes(counts)) for key, domain, counts in rows if key in keys]
    series = series_of(
        title, OUTCOMES, keys, ((key, s, c[s]) for key, _, c in shown for s in OUTCOMES if c[s])
    )
    raw: dict[str, Counts] = {}
    for key, domain, counts in rows:
        if key in keys:
            _add(raw.setdefault(domain, {}), counts)
    domains = sorted(
        (_domain(name, counts) for name, counts in raw.items()),
        key=lambda d: (-d.accepted, d.name),
    )
    accepted = sum(d.accepted for d in domains)
    return Window(series, accepted, tuple(domains))


def _domain(name: str, counts: Counts) -> DomainCounts:
    shown = outcomes(counts)
    return DomainCounts(name, shown, shown["accepted"], rates(counts)["delivery_rate"])


def _add(total: Counts, counts: Mapping[str, int]) -> None:
    for name, count in counts.items():
        total[name] = total.get(name, 0) + count


def _keyed(rows: Iterable[tuple[datetime, str, Counts]], fmt: str) -> list[Row]:
    return [(bucket.astimezone(UTC).strftime(fmt), domain, c) for bucket, domain, c in rows]


async def account_overview(db: AsyncSession, account_id: str, now: datetime) -> Overview:
    """The Overview of ``account_id`` at ``now``: two counter reads (see the module
    docstring)."""
    hours, days = hour_keys(now), day_keys(now)
    end = now + NOW_MARGIN
    hour_rows = await counts_per_bucket_and_domain(db, account_id, "hour", window_start(hours), end)
    day_rows = await counts_per_bucket_and_domain(db, account_id, "day", window_start(days), end)
    return Overview(
        _window("Last 24 hours, per hour (UTC)", hours, _keyed(hour_rows, "%Y-%m-%d %H")),
        _window("Last 30 days, per day (UTC)", days, _keyed(day_rows, "%Y-%m-%d")),
    )
