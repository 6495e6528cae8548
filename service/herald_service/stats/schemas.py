"""The shapes of ``GET /v1/stats``."""

from __future__ import annotations

from datetime import datetime

import msgspec


class StatsCounts(msgspec.Struct, kw_only=True):
    """What happened in a group: requests and recipients accepted, then per recipient."""

    accepted_requests: int = 0
    accepted_recipients: int = 0
    delivered: int = 0
    deferred: int = 0
    bounced_hard: int = 0
    bounced_soft: int = 0
    dropped: int = 0
    """Not sent: the address is suppressed."""
    complained: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0


class StatsRates(msgspec.Struct, kw_only=True):
    """Rates of a group as fractions (0-1); null when the denominator is 0."""

    delivery_rate: float | None
    """delivered / accepted_recipients"""
    bounce_rate: float | None
    """bounced_hard / (delivered + bounced_hard + bounced_soft)"""
    complaint_rate: float | None
    """complained / delivered"""


class StatsLatency(msgspec.Struct, kw_only=True):
    """Accept → 250 latency of the group's deliveries, in seconds: each percentile is the
    upper bound of the log-scale bucket it falls in (1, 2, 5, 10, 20, 30, 60 s ... 1 day)."""

    deliveries: int
    p50: float | None
    p90: float | None
    p99: float | None


class StatsGroup(msgspec.Struct, kw_only=True):
    """One group: a day or hour (``key`` its start, RFC 3339), a sending domain or a tag."""

    key: str
    counts: StatsCounts
    rates: StatsRates
    latency: StatsLatency | None = None
    """Day and domain groups only (and not with a ``tag`` filter)."""


class StatsReport(msgspec.Struct, kw_only=True, rename={"from_": "from"}):
    """Stats of the account over ``[from, to)``, grouped, with their total (a message with
    two tags counts once in the total)."""

    from_: datetime
    to: datetime
    group_by: str
    domain: str | None
    tag: str | None
    groups: list[StatsGroup]
    total: StatsGroup
