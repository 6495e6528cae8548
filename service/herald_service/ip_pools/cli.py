"""``herald ip-pools``: sending IPs, their pools and warm-up, from the command line.

The command line is the operator's tool (it holds the server's own database settings),
so it changes pools and warm-ups as an operator account's admin key may. The JSON output
is the API's (``GET /v1/ip-pools``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.cli.output import emit, with_session
from herald_service.domains.service import update_domain_defaults
from herald_service.ip_pools.schemas import IpPoolOut, ip_pool_out
from herald_service.ip_pools.service import (
    create_pool,
    delete_pool,
    get_pool,
    list_pools,
    set_pool_ips,
    set_warmup,
)
from herald_service.settings import get_settings


def _pool_text(pool: IpPoolOut) -> str:
    lines = [f"{pool.name}: {pool.description}".rstrip(": ")]
    for ip in pool.ips:
        line = f"  {ip.address:39} {ip.ehlo_name or '(PTR name)'}"
        if ip.warmup is not None:
            w = ip.warmup
            cap = "no cap" if w.cap_today is None else f"{w.sent_today}/{w.cap_today} today"
            line += f"  warm-up day {w.day} of {w.days}, {cap}"
        lines.append(line)
    if not pool.ips:
        lines.append("  (no IPs)")
    return "\n".join(lines)


@click.group("ip-pools")
def ip_pools() -> None:
    """Sending IPs (HERALD_SENDING_IPS), their pools and warm-up."""


@ip_pools.command("list")
@click.option("--json", "as_json", is_flag=True)
def ip_pools_list(as_json: bool) -> None:
    """Every pool with its IPs and their warm-up today."""
    settings = get_settings()

    async def work(session: AsyncSession) -> list[IpPoolOut]:
        return [ip_pool_out(p) for p in await list_pools(session, settings)]

    pools = with_session(settings, work)
    human = "\n".join(_pool_text(p) for p in pools)
    emit(as_json, {"data": msgspec.to_builtins(pools)}, human)


def _emit_pool(as_json: bool, pool: IpPoolOut) -> None:
    emit(as_json, msgspec.to_builtins(pool), _pool_text(pool))


@ip_pools.command("create")
@click.argument("name")
@click.argument("ips", nargs=-1)
@click.option("--description", default="", help="What the pool is for.")
@click.option("--json", "as_json", is_flag=True)
def ip_pools_create(name: str, ips: tuple[str, ...], description: str, as_json: bool) -> None:
    """Create pool NAME holding IPS (moved out of the pool they were in)."""
    settings = get_settings()

    async def work(session: AsyncSession) -> IpPoolOut:
        return ip_pool_out(await create_pool(session, settings, name, description, ips))

    _emit_pool(as_json, with_session(settings, work))


@ip_pools.command("set-ips")
@click.argument("name")
@click.argument("ips", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
def ip_pools_set_ips(name: str, ips: tuple[str, ...], as_json: bool) -> None:
    """Make IPS the IPs of pool NAME (its others go back to the default pool)."""
    settings = get_settings()

    async def work(session: AsyncSession) -> IpPoolOut:
        return ip_pool_out(await set_pool_ips(session, settings, name, ips))

    _emit_pool(as_json, with_session(settings, work))


@ip_pools.command("delete")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def ip_pools_delete(name: str, as_json: bool) -> None:
    """Delete pool NAME: its IPs, domains and messages use the default pool."""
    settings = get_settings()

    async def work(session: AsyncSession) -> None:
        await delete_pool(session, name)

    with_session(settings, work)
    emit(as_json, {"deleted": name}, f"deleted IP pool {name}")


@ip_pools.command("warmup")
@click.argument("address")
@click.option("--stop", is_flag=True, help="End the warm-up: the IP is warm, without a cap.")
@click.option(
    "--start",
    "started",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Day 1 of the schedule (default today, UTC).",
)
@click.option("--json", "as_json", is_flag=True)
def ip_pools_warmup(address: str, stop: bool, started: datetime | None, as_json: bool) -> None:
    """Start (or with --stop end) the warm-up of sending IP ADDRESS."""
    settings = get_settings()
    start_day: date | None = started.date() if started else None

    async def work(session: AsyncSession) -> list[IpPoolOut]:
        await set_warmup(session, settings, address, warming=not stop, started_on=start_day)
        return [ip_pool_out(p) for p in await list_pools(session, settings)]

    pools = with_session(settings, work)
    ip = next(i for p in pools for i in p.ips if i.address == address)
    state = "warm" if ip.warmup is None else f"warming, day {ip.warmup.day} of {ip.warmup.days}"
    emit(as_json, msgspec.to_builtins(ip), f"{address}: {state}")


@ip_pools.command("domain")
@click.argument("account_id")
@click.argument("domain_id")
@click.argument("pool")
@click.option("--json", "as_json", is_flag=True)
def ip_pools_domain(account_id: str, domain_id: str, pool: str, as_json: bool) -> None:
    """Send the mail of DOMAIN_ID (of ACCOUNT_ID) from POOL (``default``: the default)."""
    settings = get_settings()

    async def work(session: AsyncSession) -> dict[str, Any]:
        chosen = "" if pool == "default" else pool
        domain = await update_domain_defaults(session, account_id, domain_id, ip_pool=chosen)
        shown = await get_pool(session, settings, domain.ip_pool or "default")
        return {"domain_id": domain.id, "domain": domain.name, "ip_pool": shown.name}

    payload = with_session(settings, work)
    emit(as_json, payload, f"{payload['domain']} sends from IP pool {payload['ip_pool']}")
