"""``client.stats``: sending stats per day, hour, sending domain or tag (``/v1/stats``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Unpack

from herald._base_client import CallOptions, RequestOptions
from herald.models import StatsReport
from herald.resources._base import AsyncResource, SyncResource, make_options, query

__all__ = ["AsyncStats", "Stats", "StatsQuery"]


class StatsQuery(CallOptions, total=False):
    """The keyword arguments of ``stats.get``."""

    from_: datetime | date | str
    """Start (default: 7 days, or 24 hours, before ``to``); a date is its UTC midnight."""
    to: datetime | date | str
    """End, exclusive (default: now)."""
    group_by: str
    """``day`` (default), ``hour`` (the last 48 hours), ``domain`` or ``tag``."""
    domain: str
    """Only this sending domain."""
    tag: str
    """Only messages with this tag."""


def _when(value: datetime | date | str | None) -> datetime | str | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def get_options(filters: StatsQuery) -> RequestOptions:
    """``GET /v1/stats``."""
    params = query(
        **{"from": _when(filters.get("from_"))},
        to=_when(filters.get("to")),
        group_by=filters.get("group_by"),
        domain=filters.get("domain"),
        tag=filters.get("tag"),
    )
    return make_options("GET", "/v1/stats", filters, params=params, accepts=StatsQuery)


class Stats(SyncResource):
    """Sending stats (blocking)."""

    def get(self, **filters: Unpack[StatsQuery]) -> StatsReport:
        """Counts, rates and latency per group and in total."""
        return self._client.request(get_options(filters), StatsReport)


class AsyncStats(AsyncResource):
    """Sending stats (asyncio); mirrors :class:`Stats`."""

    async def get(self, **filters: Unpack[StatsQuery]) -> StatsReport:
        """Counts, rates and latency per group and in total."""
        return await self._client.request(get_options(filters), StatsReport)
