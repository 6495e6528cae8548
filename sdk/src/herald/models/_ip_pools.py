"""Sending IPs, their pools and warm-up (``/v1/ip-pools``, ``/v1/sending-ips``)."""

from __future__ import annotations

from datetime import date

import msgspec

__all__ = ["IpPool", "IpPoolList", "SendingIp", "Warmup"]


class Warmup(msgspec.Struct, frozen=True, kw_only=True):
    """Where a warming IP is in its schedule today (UTC)."""

    started_on: date
    day: int
    """Day n of the schedule (1 the first); past ``days`` the IP is warm."""
    days: int
    cap_today: int | None = None
    """How many recipients it may take today; ``None``: no cap any more."""
    sent_today: int = 0


class SendingIp(msgspec.Struct, frozen=True, kw_only=True):
    """One of the server's sending IPs (``HERALD_SENDING_IPS``)."""

    address: str
    ehlo_name: str | None = None
    """Its configured EHLO name; ``None``: its PTR name (else the server's host name)."""
    warming: bool = False
    warmup: Warmup | None = None
    listed_on: tuple[str, ...] = ()
    """DNSBL zones listing it, as the server's last checks found."""
    in_rotation: bool = True
    """False while a blocklist listing keeps it out of rotation."""


class IpPool(msgspec.Struct, frozen=True, kw_only=True):
    """A pool of sending IPs; ``default`` holds the IPs in no other pool."""

    name: str
    description: str = ""
    ips: list[SendingIp] = msgspec.field(default_factory=list)


class IpPoolList(msgspec.Struct, frozen=True):
    """The answer of ``GET /v1/ip-pools``."""

    data: list[IpPool]
