"""The Stats page: an account's delivered, bounced and complained mail per day over the
last 7 or 30 days, and each sending domain's rates over the same days.

Both read the stats counters through :func:`herald_service.stats.service.read_stats`, the
use case behind ``GET /v1/stats`` (``group_by=day`` and ``group_by=domain``), so the page
shows exactly what the API answers, at the cost of two range reads of the counters'
primary key. The chart is drawn like the Overview's (SVG from
:mod:`herald_service.core.charts` geometry, no script); the rates are set beside the
reputation guard's warn and pause thresholds, since those decide when a domain pauses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from herald_service.console.domain_reputation import shown_rate
from herald_service.console.web import Operator, context_of, pick_account, provide_operator
from herald_service.core.charts import Bucket, Series, stacked_bars
from herald_service.core.reputation import percent
from herald_service.domains.service import list_domains
from herald_service.settings import Settings
from herald_service.stats.schemas import StatsGroup, StatsReport
from herald_service.stats.service import read_stats, stats_range
from herald_service.storage.types import utcnow

PERIODS = (7, 30)
OUTCOMES = ("delivered", "bounced", "complained")


def _range(account_id: str, group_by: str, first: str, now: datetime) -> Any:
    """From the first day's midnight to now, as ``GET /v1/stats?from=<first day>``."""
    return stats_range(
        account_id, start=first, end=None, group_by=group_by, domain=None, tag=None, now=now
    )


def _outcomes(group: StatsGroup) -> dict[str, int]:
    counts = group.counts
    bounced = counts.bounced_hard + counts.bounced_soft
    return {"delivered": counts.delivered, "bounced": bounced, "complained": counts.complained}


def _series(report: StatsReport, days: int) -> Series:
    buckets = []
    for group in report.groups:
        day = datetime.fromisoformat(group.key.replace("Z", "+00:00"))
        buckets.append(Bucket(f"{day:%b} {day.day}", _outcomes(group)))
    return Series(f"Last {days} days, per day (UTC)", OUTCOMES, tuple(buckets))


def _domain_rows(report: StatsReport, settings: Settings, ids: dict[str, str]) -> list[Any]:
    rows = []
    for group in sorted(report.groups, key=lambda g: (-g.counts.accepted_recipients, g.key)):
        rates = group.rates
        rows.append(
            {
                "name": group.key,
                "id": ids.get(group.key),
                "counts": group.counts,
                "delivery": "—" if rates.delivery_rate is None else percent(rates.delivery_rate),
                "bounce": shown_rate(
                    rates.bounce_rate,
                    settings.reputation_bounce_warn,
                    settings.reputation_bounce_pause,
                ),
                "complaint": shown_rate(
                    rates.complaint_rate,
                    settings.reputation_complaint_warn,
                    settings.reputation_complaint_pause,
                ),
            }
        )
    return rows


class StatsController(Controller):
    """``/console/stats``."""

    path = "/stats"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The chart per day and the table per domain of the chosen period."""
        account = pick_account(operator, request.query_params.get("account"))
        days = 30 if request.query_params.get("days") == "30" else 7
        settings = context_of(request).settings
        context: dict[str, Any] = {
            "operator": operator,
            "page": "stats",
            "account": account,
            "days": days,
            "periods": PERIODS,
            "thresholds": {
                "bounce_warn": percent(settings.reputation_bounce_warn),
                "bounce_pause": percent(settings.reputation_bounce_pause),
                "complaint_warn": percent(settings.reputation_complaint_warn),
                "complaint_pause": percent(settings.reputation_complaint_pause),
            },
        }
        if account is not None:
            now = utcnow()
            first = (now.astimezone(UTC) - timedelta(days=days - 1)).date().isoformat()
            async with context_of(request).sessions() as db:
                by_day = await read_stats(db, _range(account.id, "day", first, now))
                by_domain = await read_stats(db, _range(account.id, "domain", first, now))
                ids = {d.name: d.id for d in await list_domains(db, account.id)}
            series = _series(by_day, days)
            context |= {
                "series": series,
                "chart": stacked_bars(series),
                "totals": series.totals(),
                "total": by_day.total,
                "domains": _domain_rows(by_domain, settings, ids),
            }
        return Template("stats.html", context=context)
