"""Shapes of ``/v1/ip-pools`` and ``/v1/sending-ips``, shared by the API, the CLI and the
console."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from herald_service.core.sending_ips import POOL_NAME_PATTERN
from herald_service.ip_pools.service import IpView, PoolView

PoolName = Annotated[str, msgspec.Meta(pattern=POOL_NAME_PATTERN)]
IpAddress = Annotated[str, msgspec.Meta(min_length=2, max_length=45)]


class WarmupOut(msgspec.Struct, kw_only=True):
    """Where a warming IP is in its schedule today."""

    started_on: date
    day: int
    """Day n of the schedule (1 the first); past ``days`` the IP is warm."""
    days: int
    cap_today: int | None
    """How many recipients it may take today (UTC); ``null``: no cap any more."""
    sent_today: int


class SendingIpOut(msgspec.Struct, kw_only=True):
    """A sending IP (``HERALD_SENDING_IPS``) and its warm-up."""

    address: str
    ehlo_name: str | None
    """The EHLO name configured for it; ``null``: its PTR name (else the host name)."""
    warming: bool
    warmup: WarmupOut | None = None
    listed_on: list[str] = msgspec.field(default_factory=list)
    """DNSBL zones listing it (``HERALD_DNSBL_ZONES``; see ``GET /v1/ip-listings``)."""
    in_rotation: bool = True
    """False while a listing keeps it out of rotation (``HERALD_DNSBL_REMOVE_LISTED``)."""


class IpPoolOut(msgspec.Struct, kw_only=True):
    """A pool and its IPs (``default`` holds the IPs in no other pool)."""

    name: str
    description: str
    ips: list[SendingIpOut]


class IpPoolList(msgspec.Struct):
    """Every pool, ``default`` first."""

    data: list[IpPoolOut]


class CreateIpPoolRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/ip-pools``."""

    name: PoolName
    """Lower-case letters, digits, ``-`` and ``_``; not ``default``."""
    description: Annotated[str, msgspec.Meta(max_length=500)] = ""
    ips: Annotated[list[IpAddress], msgspec.Meta(max_length=1000)] = msgspec.field(
        default_factory=list
    )
    """Addresses of ``HERALD_SENDING_IPS`` to move into the pool."""


class UpdateIpPoolRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``PUT /v1/ip-pools/{name}/ips``: the pool's IPs from now on (others of it go back
    to the default pool)."""

    ips: Annotated[list[IpAddress], msgspec.Meta(max_length=1000)]


class UpdateSendingIpRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``PATCH /v1/sending-ips/{address}``: start or stop the IP's warm-up."""

    warming: bool
    warmup_started_on: date | None = None
    """Day 1 of the schedule (default today, UTC); to resume a warm-up begun earlier."""


def sending_ip_out(ip: IpView) -> SendingIpOut:
    """The public view of one IP."""
    warmup = None
    if ip.warmup_started_on is not None and ip.warmup_day is not None:
        warmup = WarmupOut(
            started_on=ip.warmup_started_on,
            day=ip.warmup_day,
            days=ip.warmup_days,
            cap_today=ip.cap_today,
            sent_today=ip.sent_today,
        )
    return SendingIpOut(
        address=ip.address,
        ehlo_name=ip.ehlo_name or None,
        warming=ip.warming,
        warmup=warmup,
        listed_on=list(ip.listed_on),
        in_rotation=ip.in_rotation,
    )


def ip_pool_out(pool: PoolView) -> IpPoolOut:
    """The public view of one pool."""
    return IpPoolOut(
        name=pool.name, description=pool.description, ips=[sending_ip_out(i) for i in pool.ips]
    )
