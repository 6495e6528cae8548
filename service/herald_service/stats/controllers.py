"""``GET /v1/stats``: counts and rates per day, hour, sending domain or tag."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.keys.service import AuthContext
from herald_service.stats.schemas import StatsReport
from herald_service.stats.service import GROUP_BY, read_stats, stats_range

_WHEN = "RFC 3339 with a time zone, or a date (YYYY-MM-DD, its UTC midnight)."


class StatsController(AuthenticatedController):
    """The account's sending stats, read from counters kept as events are written."""

    path = "/v1/stats"
    tags = ["stats"]

    @get(
        "/",
        opt={"scope": "read"},
        summary="Get sending stats",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def get_stats(
        self,
        auth: NamedDependency[AuthContext],
        herald: NamedDependency[ApiContext],
        start: Annotated[
            str | None,
            QueryParameter(
                name="from",
                max_length=40,
                description=f"Start (default: 7 days, or 24 hours, before to). {_WHEN}",
            ),
        ] = None,
        end: Annotated[
            str | None,
            QueryParameter(
                name="to", max_length=40, description=f"End, exclusive (default: now). {_WHEN}"
            ),
        ] = None,
        group_by: Annotated[
            str,
            QueryParameter(
                description="Group per UTC day, per hour (the last 48 hours), per sending "
                "domain or per tag.",
                schema_extra={"enum": list(GROUP_BY)},
            ),
        ] = "day",
        domain: Annotated[
            str | None,
            QueryParameter(max_length=253, description="Only this sending domain."),
        ] = None,
        tag: Annotated[
            str | None, QueryParameter(max_length=128, description="Only messages with this tag.")
        ] = None,
    ) -> StatsReport:
        """Counts and rates per group and in total, with delivery latency percentiles per
        day or domain. At most 366 days (48 hours with ``group_by=hour``) at a time."""
        query = stats_range(
            auth.account_id, start=start, end=end, group_by=group_by, domain=domain, tag=tag
        )
        async with herald.sessions() as session:
            return await read_stats(session, query)
