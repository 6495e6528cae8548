"""``client.ip_listings``: the sending IPs' blocklist (DNSBL) status (``/v1/ip-listings``).

Reading it takes an ``admin`` key.
"""

from __future__ import annotations

from typing import Unpack

from herald._base_client import CallOptions
from herald.models import IpListingList
from herald.resources._base import AsyncResource, SyncResource, make_options

__all__ = ["AsyncIpListings", "IpListings"]

LISTINGS = "/v1/ip-listings"


class IpListings(SyncResource):
    """Sending IPs on the DNSBL zones (blocking)."""

    def list(self, **options: Unpack[CallOptions]) -> IpListingList:
        """Every sending IP's standing on every zone, and whether it is in rotation."""
        return self._client.request(make_options("GET", LISTINGS, options), IpListingList)


class AsyncIpListings(AsyncResource):
    """Sending IPs on the DNSBL zones (asyncio); mirrors :class:`IpListings`."""

    async def list(self, **options: Unpack[CallOptions]) -> IpListingList:
        """Every sending IP's standing on every zone, and whether it is in rotation."""
        return await self._client.request(make_options("GET", LISTINGS, options), IpListingList)
