"""``client.ip_pools``: sending IPs, their pools and warm-up (``/v1/ip-pools``,
``/v1/sending-ips``).

Any ``admin`` key may list them (to choose a pool for a domain or a message). Changing
them takes an ``admin`` key of an operator account (``HERALD_OPERATOR_ACCOUNTS``); any
other key gets :class:`~herald.PermissionDeniedError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Unpack

import msgspec

from herald._base_client import CallOptions, RequestOptions
from herald.models import IpPool, IpPoolList, SendingIp
from herald.resources._base import AsyncResource, SyncResource, make_options, path

__all__ = ["AsyncIpPools", "IpPools"]

POOLS = "/v1/ip-pools"
POOL = "/v1/ip-pools/{name}"
POOL_IPS = "/v1/ip-pools/{name}/ips"
SENDING_IP = "/v1/sending-ips/{address}"


class _CreateBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str
    description: str = ""
    ips: list[str] = msgspec.field(default_factory=list)


class _IpsBody(msgspec.Struct, kw_only=True):
    ips: list[str]


class _WarmupBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    warming: bool
    warmup_started_on: date | None = None


def create_options(
    name: str, description: str, ips: Sequence[str], options: CallOptions
) -> RequestOptions:
    """``POST /v1/ip-pools``."""
    body = _CreateBody(name=name, description=description, ips=list(ips))
    return make_options("POST", POOLS, options, body=body)


def set_ips_options(name: str, ips: Sequence[str], options: CallOptions) -> RequestOptions:
    """``PUT /v1/ip-pools/{name}/ips``."""
    return make_options("PUT", path(POOL_IPS, name=name), options, body=_IpsBody(ips=list(ips)))


def warmup_options(
    address: str, warming: bool, started_on: date | None, options: CallOptions
) -> RequestOptions:
    """``PATCH /v1/sending-ips/{address}``."""
    body = _WarmupBody(warming=warming, warmup_started_on=started_on)
    return make_options("PATCH", path(SENDING_IP, address=address), options, body=body)


class IpPools(SyncResource):
    """Sending IPs and their pools (blocking)."""

    def list(self, **options: Unpack[CallOptions]) -> list[IpPool]:
        """Every pool, ``default`` first, with its IPs and their warm-up today."""
        return self._client.request(make_options("GET", POOLS, options), IpPoolList).data

    def get(self, name: str, **options: Unpack[CallOptions]) -> IpPool:
        """One pool; :class:`~herald.NotFoundError` when there is none of that name."""
        return self._client.request(make_options("GET", path(POOL, name=name), options), IpPool)

    def create(
        self,
        name: str,
        *,
        description: str = "",
        ips: Sequence[str] = (),
        **options: Unpack[CallOptions],
    ) -> IpPool:
        """A new pool holding ``ips`` (moved out of the pool they were in)."""
        return self._client.request(create_options(name, description, ips, options), IpPool)

    def set_ips(self, name: str, ips: Sequence[str], **options: Unpack[CallOptions]) -> IpPool:
        """Make ``ips`` the pool's IPs (its others go back to the default pool)."""
        return self._client.request(set_ips_options(name, ips, options), IpPool)

    def delete(self, name: str, **options: Unpack[CallOptions]) -> None:
        """Delete the pool: its IPs, and the domains and messages naming it, use the default
        pool."""
        request = make_options("DELETE", path(POOL, name=name), options)
        self._client.request(request, type(None))

    def warmup(
        self,
        address: str,
        *,
        warming: bool = True,
        started_on: date | None = None,
        **options: Unpack[CallOptions],
    ) -> SendingIp:
        """Start (day 1 today, or ``started_on``) or stop (``warming=False``) the warm-up
        of a sending IP."""
        return self._client.request(
            warmup_options(address, warming, started_on, options), SendingIp
        )


class AsyncIpPools(AsyncResource):
    """Sending IPs and their pools (asyncio); mirrors :class:`IpPools`."""

    async def list(self, **options: Unpack[CallOptions]) -> list[IpPool]:
        """Every pool, ``default`` first, with its IPs and their warm-up today."""
        return (await self._client.request(make_options("GET", POOLS, options), IpPoolList)).data

    async def get(self, name: str, **options: Unpack[CallOptions]) -> IpPool:
        """One pool; :class:`~herald.NotFoundError` when there is none of that name."""
        request = make_options("GET", path(POOL, name=name), options)
        return await self._client.request(request, IpPool)

    async def create(
        self,
        name: str,
        *,
        description: str = "",
        ips: Sequence[str] = (),
        **options: Unpack[CallOptions],
    ) -> IpPool:
        """A new pool holding ``ips``; see :meth:`IpPools.create`."""
        request = create_options(name, description, ips, options)
        return await self._client.request(request, IpPool)

    async def set_ips(
        self, name: str, ips: Sequence[str], **options: Unpack[CallOptions]
    ) -> IpPool:
        """Make ``ips`` the pool's IPs; see :meth:`IpPools.set_ips`."""
        return await self._client.request(set_ips_options(name, ips, options), IpPool)

    async def delete(self, name: str, **options: Unpack[CallOptions]) -> None:
        """Delete the pool; see :meth:`IpPools.delete`."""
        request = make_options("DELETE", path(POOL, name=name), options)
        await self._client.request(request, type(None))

    async def warmup(
        self,
        address: str,
        *,
        warming: bool = True,
        started_on: date | None = None,
        **options: Unpack[CallOptions],
    ) -> SendingIp:
        """Start or stop a sending IP's warm-up; see :meth:`IpPools.warmup`."""
        request = warmup_options(address, warming, started_on, options)
        return await self._client.request(request, SendingIp)
