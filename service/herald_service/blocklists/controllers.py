"""``GET /v1/ip-listings``: each sending IP's standing on each DNSBL zone.

Sending IPs are the server's, and already public (every domain's SPF record names them),
so any ``admin`` key may read their listings.
"""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from herald_service.api.auth import AuthenticatedController
from herald_service.api.context import ApiContext
from herald_service.api.problems import problem_responses
from herald_service.blocklists.schemas import IpListingList
from herald_service.blocklists.service import listings


class IpListingController(AuthenticatedController):
    """Blocklist (DNSBL) monitoring of the sending IPs."""

    path = "/v1/ip-listings"
    tags = ["ips"]

    @get(
        "/",
        opt={"scope": "admin"},
        summary="List the sending IPs' blocklist status",
        responses=problem_responses(401, 403, 429),
    )
    async def list_listings(self, herald: NamedDependency[ApiContext]) -> IpListingList:
        """Every sending IP (`HERALD_SENDING_IPS`) on every DNSBL zone (`HERALD_DNSBL_ZONES`):
        `listed`, `clear` or `unknown` (never answered usably), the answer code and its
        meaning, since when it is listed, when it was last checked, and whether the IP is
        in rotation (a listed IP leaves it when `HERALD_DNSBL_REMOVE_LISTED`)."""
        async with herald.sessions() as session:
            return await listings(session, herald.settings)
