"""Use cases of sending IPs and pools: list them with their warm-up, create and delete
pools, set a pool's IPs, start or stop an IP's warm-up, check a pool name at send time.

Pools and IPs are server-wide: any admin key may read them (to choose a pool), only an
operator account (``HERALD_OPERATOR_ACCOUNTS``) may change them. Workers read the changes
within a few seconds (:mod:`herald_queue.source_ips`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

from msgspec import Struct
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.blocklists.service import listed_addresses, zone_views
from herald_service.core.sending_ips import (
    DEFAULT_POOL,
    POOL_NAME,
    daily_cap,
    warmup_day,
)
from herald_service.errors import Collector, Conflict, NotFound
from herald_service.ip_pools.store import ip_states, sent_on
from herald_service.settings import Settings
from herald_service.storage.models import IpPool, SendingIpRow
from herald_service.storage.types import utcnow


def is_operator(settings: Settings, account_id: str) -> bool:
    """Whether the account may change what every account shares (its IPs and pools)."""
    return account_id in settings.operator_accounts


class IpView(Struct, frozen=True):
    """One sending IP as an operator sees it today."""

    address: str
    ehlo_name: str
    warming: bool
    warmup_started_on: date | None
    warmup_day: int | None
    warmup_days: int
    cap_today: int | None
    sent_today: int
    listed_on: tuple[str, ...] = ()
    """The DNSBL zones listing it, as the last checks found."""
    in_rotation: bool = True


class PoolView(Struct, frozen=True):
    """A pool and its IPs."""

    name: str
    description: str
    ips: list[IpView]


async def list_pools(
    session: AsyncSession, settings: Settings, today: date | None = None
) -> list[PoolView]:
    """The default pool first, then the named pools, each with its IPs' warm-up today."""
    today = today or utcnow().date()
    states = await ip_states(session)
    configured = settings.sending_ips
    sent = await sent_on(session, configured, today)
    names = dict(settings.sending_ip_names)
    schedule = settings.warmup_schedule
    out_of_rotation = await listed_addresses(session, settings)
    listings = await zone_views(session, settings) if settings.dnsbl_zones else {}

    def view(address: str) -> IpView:
        state = states.get(address)
        started = state.warmup_started_on if state else None
        day = warmup_day(started, today) if started else None
        return IpView(
            address=address,
            ehlo_name=names.get(address, ""),
            warming=started is not None and day is not None and day <= len(schedule),
            warmup_started_on=started,
            warmup_day=day,
            warmup_days=len(schedule),
            cap_today=daily_cap(schedule, started, today),
            sent_today=sent.get(address, 0),
            listed_on=tuple(z.zone for z in listings.get(address, ()) if z.status == "listed"),
            in_rotation=address not in out_of_rotation,
        )

    pools = (await session.scalars(select(IpPool).order_by(IpPool.name))).all()
    own = [a for a in configured if states.get(a) and states[a].pool != DEFAULT_POOL]
    default_ips = [a for a in configured if a not in own] or list(configured)
    found = [PoolView(DEFAULT_POOL, "IPs in no other pool", [view(a) for a in default_ips])]
    for pool in pools:
        members = [a for a in configured if (s := states.get(a)) and s.pool == pool.name]
        found.append(PoolView(pool.name, pool.description, [view(a) for a in members]))
    return found


async def get_pool(session: AsyncSession, settings: Settings, name: str) -> PoolView:
    """One pool (404 when there is none of that name)."""
    for pool in await list_pools(session, settings):
        if pool.name == name:
            return pool
    raise NotFound(f"no IP pool named {name!r}")


def _check_ips(settings: Settings, field: str, addresses: Iterable[str]) -> list[str]:
    errors = Collector()
    wanted = list(dict.fromkeys(addresses))
    for address in wanted:
        if address not in settings.sending_ips:
            errors.add(field, f"{address} is not one of HERALD_SENDING_IPS")
    errors.raise_if_any()
    return wanted


async def create_pool(
    session: AsyncSession,
    settings: Settings,
    name: str,
    description: str = "",
    ips: Collection[str] = (),
) -> PoolView:
    """A new pool holding ``ips`` (taken out of the pool they were in)."""
    if not POOL_NAME.match(name) or name == DEFAULT_POOL:
        errors = Collector()
        errors.add("name", "lower-case letters, digits, - and _ (not 'default'), at most 63")
        errors.raise_if_any()
    if await session.get(IpPool, name) is not None:
        raise Conflict(f"an IP pool named {name!r} exists already")
    session.add(IpPool(name=name, description=description))
    await session.flush()
    await _assign(session, name, _check_ips(settings, "ips", ips))
    return await get_pool(session, settings, name)


async def set_pool_ips(
    session: AsyncSession, settings: Settings, name: str, ips: Collection[str]
) -> PoolView:
    """Make ``ips`` the pool's IPs: others of it go back to the default pool."""
    wanted = _check_ips(settings, "ips", ips)
    if name != DEFAULT_POOL and await session.get(IpPool, name) is None:
        raise NotFound(f"no IP pool named {name!r}")
    pool = None if name == DEFAULT_POOL else name
    if pool is not None:
        await session.execute(
            update(SendingIpRow)
            .where(SendingIpRow.pool == pool, SendingIpRow.address.not_in(wanted))
            .values(pool=None, updated_at=utcnow())
        )
    await _assign(session, pool, wanted)
    return await get_pool(session, settings, name)


async def _assign(session: AsyncSession, pool: str | None, addresses: list[str]) -> None:
    for address in addresses:
        row = await session.get(SendingIpRow, address)
        if row is None:
            session.add(SendingIpRow(address=address, pool=pool))
        else:
            row.pool, row.updated_at = pool, utcnow()
    await session.flush()


async def delete_pool(session: AsyncSession, name: str) -> None:
    """Remove a pool: its IPs go back to the default pool; messages and domains that
    name it send from the default pool."""
    if await session.get(IpPool, name) is None:
        raise NotFound(f"no IP pool named {name!r}")
    await session.execute(update(SendingIpRow).where(SendingIpRow.pool == name).values(pool=None))
    await session.execute(delete(IpPool).where(IpPool.name == name))


async def set_warmup(
    session: AsyncSession,
    settings: Settings,
    address: str,
    *,
    warming: bool,
    started_on: date | None = None,
) -> None:
    """Start (day 1 today, or ``started_on``) or stop an IP's warm-up."""
    _check_ips(settings, "address", [address])
    row = await session.get(SendingIpRow, address)
    if row is None:
        row = SendingIpRow(address=address)
        session.add(row)
    row.warmup_started_on = (started_on or utcnow().date()) if warming else None
    row.updated_at = utcnow()
    await session.flush()


async def check_pool_names(session: AsyncSession, names: Collection[str], field: str) -> None:
    """422 naming ``field`` when one of ``names`` is no pool."""
    unknown = set(names) - {DEFAULT_POOL}
    if unknown:
        rows = await session.scalars(select(IpPool.name).where(IpPool.name.in_(unknown)))
        unknown -= set(rows)
    if unknown:
        errors = Collector()
        for name in sorted(unknown):
            errors.add(field, f"no IP pool named {name!r} (see GET /v1/ip-pools)")
        errors.raise_if_any()


__all__ = [
    "IpView",
    "PoolView",
    "check_pool_names",
    "create_pool",
    "delete_pool",
    "get_pool",
    "is_operator",
    "list_pools",
    "set_pool_ips",
    "set_warmup",
]
