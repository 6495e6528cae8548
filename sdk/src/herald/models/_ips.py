"""Sending IPs: their standing on the DNSBL zones the server checks."""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = ["IpListing", "IpListingList", "ZoneListing"]


class ZoneListing(msgspec.Struct, frozen=True, kw_only=True):
    """One sending IP on one DNSBL zone, as the server's last check found it."""

    zone: str
    status: str
    """``listed``, ``clear``, or ``unknown`` (never answered usably yet)."""
    answer: str = ""
    """The zone's answer (e.g. ``127.0.0.2``); "" when it had no record."""
    meaning: str = ""
    listed_since: datetime | None = None
    last_checked_at: datetime | None = None
    error: str = ""
    """Why the last lookup proved nothing (a timeout, the zone refused the query)."""


class IpListing(msgspec.Struct, frozen=True, kw_only=True):
    """One sending IP and its standing on every zone."""

    ip: str
    listed: bool
    in_rotation: bool
    """False when listed and the server takes listed IPs out of use."""
    zones: list[ZoneListing] = msgspec.field(default_factory=list)


class IpListingList(msgspec.Struct, frozen=True, kw_only=True):
    """The answer of ``GET /v1/ip-listings``."""

    data: list[IpListing]
    zones: list[str] = msgspec.field(default_factory=list)
    interval_seconds: float = 0.0
    remove_listed: bool = True
