"""Sending stats (``/v1/stats``): counts, rates and delivery latency per group."""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = ["StatsCounts", "StatsGroup", "StatsLatency", "StatsRates", "StatsReport"]


class StatsCounts(msgspec.Struct, frozen=True, kw_only=True):
    """What happened in a group: requests and recipients accepted, then per recipient."""

    accepted_requests: int = 0
    accepted_recipients: int = 0
    delivered: int = 0
    deferred: int = 0
    bounced_hard: int = 0
    bounced_soft: int = 0
    dropped: int = 0
    complained: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0


class StatsRates(msgspec.Struct, frozen=True, kw_only=True):
    """Fractions (0-1), ``None`` when there is nothing to divide by: delivered / accepted
    recipients, hard bounces / (delivered + bounced), complaints / delivered."""

    delivery_rate: float | None = None
    bounce_rate: float | None = None
    complaint_rate: float | None = None


class StatsLatency(msgspec.Struct, frozen=True, kw_only=True):
    """Accept → 250 seconds of a group's deliveries (bucket upper bounds)."""

    deliveries: int = 0
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None


class StatsGroup(msgspec.Struct, frozen=True, kw_only=True):
    """A day or hour (``key``: its start), a sending domain or a tag; or the total."""

    key: str
    counts: StatsCounts
    rates: StatsRates
    latency: StatsLatency | None = None


class StatsReport(msgspec.Struct, frozen=True, kw_only=True, rename={"from_": "from"}):
    """Stats over ``[from_, to)`` per group, and their total."""

    from_: datetime
    to: datetime
    group_by: str
    groups: list[StatsGroup]
    total: StatsGroup
    domain: str | None = None
    tag: str | None = None
