"""What the blocklist views show: each sending IP's standing on each zone."""

from __future__ import annotations

from datetime import datetime

import msgspec


class ZoneListing(msgspec.Struct, kw_only=True):
    """One sending IP on one DNSBL zone, as the last check found it."""

    zone: str
    status: str
    """``listed``, ``clear``, or ``unknown`` (never answered usably yet)."""
    answer: str
    """The A records of the last usable answer (e.g. ``127.0.0.2``); "" when none."""
    meaning: str
    """What the answer code means on that zone (e.g. ``Spamhaus SBL: a known spam source``)."""
    listed_since: datetime | None
    last_checked_at: datetime | None
    error: str
    """Why the last lookup proved nothing (a timeout, the zone refusing the query); "" if it did."""


class IpListings(msgspec.Struct, kw_only=True):
    """One sending IP and its standing on every configured zone."""

    ip: str
    listed: bool
    """Listed on at least one zone."""
    in_rotation: bool
    """False when listed and ``HERALD_DNSBL_REMOVE_LISTED`` takes listed IPs out of use."""
    zones: list[ZoneListing]


class IpListingList(msgspec.Struct, kw_only=True):
    """``GET /v1/ip-listings``: every sending IP (``HERALD_SENDING_IPS``) on every zone
    (``HERALD_DNSBL_ZONES``)."""

    data: list[IpListings]
    zones: list[str]
    interval_seconds: float
    """``HERALD_DNSBL_INTERVAL``: how often each IP is asked on each zone."""
    remove_listed: bool
    """``HERALD_DNSBL_REMOVE_LISTED``: whether a listed IP leaves rotation."""


class CheckedPair(msgspec.Struct, kw_only=True):
    """One (IP, zone) asked by ``herald ips check``, and the event it raised, if any."""

    ip: str
    zone: str
    status: str
    answer: str
    meaning: str
    error: str
    event: str | None
