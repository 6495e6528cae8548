"""The Overview page: how an account's mail went in the last 24 hours and 30 days.

Two stacked bar charts (outcomes per hour and per day: delivered, deferred, bounced,
dropped, complained, read from the stats counters and drawn as SVG by the template from
:mod:`herald_service.core.charts` geometry) and, per window, a table of the sending
domains with their counts and delivery rate. Like Activity it shows one member
account at a time (the ``account`` parameter); any other account id is a 404. Below, how
long the server keeps each kind of data (``HERALD_RETENTION_*``), since that bounds what
the other pages can show.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from herald_service.console.overview_queries import OUTCOMES, account_overview
from herald_service.console.web import Operator, context_of, pick_account, provide_operator
from herald_service.core.charts import stacked_bars
from herald_service.core.retention import describe_age
from herald_service.retention.schemas import retention_rows
from herald_service.storage.types import utcnow


class OverviewController(Controller):
    """``/console/overview``."""

    path = "/overview"
    dependencies = {"operator": Provide(provide_operator)}

    @get("/")
    async def overview(
        self, request: Request[Any, Any, Any], operator: NamedDependency[Operator]
    ) -> Template:
        """The whole page."""
        account = pick_account(operator, request.query_params.get("account"))
        settings = context_of(request).settings
        context: dict[str, Any] = {
            "operator": operator,
            "page": "overview",
            "account": account,
            "retention": retention_rows(settings),
            "retention_interval": describe_age(settings.retention_interval),
            "retention_batch": settings.retention_batch_size,
        }
        if account is not None:
            async with context_of(request).sessions() as db:
                overview = await account_overview(db, account.id, utcnow())
            context["windows"] = [
                ("day", overview.day, stacked_bars(overview.day.series)),
                ("month", overview.month, stacked_bars(overview.month.series)),
            ]
            context["statuses"] = OUTCOMES
        return Template("overview.html", context=context)
