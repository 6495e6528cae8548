"""``GET /v1/queue/destinations``: the account's waiting mail per destination, with the
rate allowed there now, halvings and suspensions."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.keys.service import AuthContext
from herald_service.shaping.schemas import QueueDestinationList
from herald_service.shaping.service import destinations_view


class QueueDestinationController(AuthenticatedController):
    """The queue per destination (``herald queue destinations``)."""

    path = "/v1/queue"
    tags = ["queue"]

    @get(
        "/destinations",
        opt={"scope": "admin"},
        summary="List the queue per destination",
        responses=problem_responses(401, 403),
    )
    async def destinations(
        self, auth: NamedDependency[AuthContext], herald: NamedDependency[ApiContext]
    ) -> QueueDestinationList:
        """Per recipient domain with waiting mail (the busiest first): queued, deferred,
        held and scheduled counts, the shaping rule it matches, the rate allowed now
        (halved after a "slow down" reply, until when), a reputation cool-down holding it
        (suspended until), and the latest reply. Halved or suspended destinations without
        waiting mail are listed too."""
        async with herald.sessions() as session:
            rows = await destinations_view(
                session, herald.settings, herald.quota_redis, auth.account_id
            )
        return QueueDestinationList(rows)
