"""Reads of ``ip_listings``: the IPs out of rotation, and the views of every IP's standing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.blocklists.schemas import IpListingList, IpListings, ZoneListing
from herald_service.core.dnsbl import pairs
from herald_service.core.states import ListingStatus
from herald_service.settings import Settings, get_settings
from herald_service.storage.models import IpListing


async def listed_addresses(
    session: AsyncSession, settings: Settings | None = None
) -> frozenset[str]:
    """The sending IPs out of rotation: listed on a configured zone, when
    ``HERALD_DNSBL_REMOVE_LISTED`` (else none). One indexed read; callers on the
    delivery path keep the answer for a while."""
    settings = settings or get_settings()
    if not settings.dnsbl_remove_listed or not settings.dnsbl_zones:
        return frozenset()
    zones = {zone.name for zone in settings.dnsbl_zones}
    addresses = set(settings.sending_ips)
    rows = await session.execute(
        select(IpListing.ip, IpListing.zone).where(IpListing.status == ListingStatus.LISTED.value)
    )
    return frozenset(ip for ip, zone in rows if ip in addresses and zone in zones)


async def zone_views(session: AsyncSession, settings: Settings) -> dict[str, list[ZoneListing]]:
    """Each sending IP's standing per configured zone, in the settings' order (a pair
    never checked yet is ``unknown``): what the IP views embed."""
    rows = {(row.ip, row.zone): row for row in (await session.scalars(select(IpListing))).all()}
    views: dict[str, list[ZoneListing]] = {ip: [] for ip in settings.sending_ips}
    for ip, zone in pairs(views, settings.dnsbl_zones):
        row = rows.get((ip, zone.name))
        views[ip].append(_view(zone.name, row))
    return views


async def listings(session: AsyncSession, settings: Settings) -> IpListingList:
    """``GET /v1/ip-listings``: every sending IP, its zones, and whether it is in rotation."""
    data = []
    for ip, zones in (await zone_views(session, settings)).items():
        listed = any(z.status == ListingStatus.LISTED.value for z in zones)
        in_rotation = not (listed and settings.dnsbl_remove_listed)
        data.append(IpListings(ip=ip, listed=listed, in_rotation=in_rotation, zones=zones))
    return IpListingList(
        data=data,
        zones=[zone.name for zone in settings.dnsbl_zones],
        interval_seconds=settings.dnsbl_interval,
        remove_listed=settings.dnsbl_remove_listed,
    )


def _view(zone: str, row: IpListing | None) -> ZoneListing:
    if row is None:
        return ZoneListing(
            zone=zone,
            status=ListingStatus.UNKNOWN.value,
            answer="",
            meaning="",
            listed_since=None,
            last_checked_at=None,
            error="",
        )
    return ZoneListing(
        zone=zone,
        status=row.status,
        answer=row.answer,
        meaning=row.meaning,
        listed_since=row.listed_since,
        last_checked_at=row.last_checked_at,
        error=row.last_error,
    )
