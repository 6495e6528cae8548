"""``herald ips``: the sending IPs' standing on the DNSBL zones, and a check run now.

The JSON output of ``listings`` is the API's (``GET /v1/ip-listings``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import click
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.blocklists.schemas import CheckedPair, IpListingList
from herald_service.blocklists.service import check_round, configured_pairs, listings
from herald_service.cli.output import emit, with_session
from herald_service.dns import make_resolver
from herald_service.settings import get_settings
from herald_service.storage.types import utcnow


@click.group()
def ips() -> None:
    """Sending IPs: blocklist (DNSBL) status."""


def _listings_text(shown: IpListingList) -> str:
    if not shown.zones:
        return "no DNSBL zones configured (HERALD_DNSBL_ZONES)"
    lines = []
    for ip in shown.data:
        rotation = "in rotation" if ip.in_rotation else "OUT OF ROTATION"
        lines.append(f"{ip.ip}  {'listed' if ip.listed else 'not listed'}, {rotation}")
        for zone in ip.zones:
            detail = zone.meaning or zone.error
            lines.append(f"  {zone.zone:30} {zone.status:8} {zone.answer:16} {detail}".rstrip())
    return "\n".join(lines) or "no sending IPs configured (HERALD_SENDING_IPS)"


@ips.command("listings")
@click.option("--json", "as_json", is_flag=True)
def ips_listings(as_json: bool) -> None:
    """Each sending IP's standing on each zone, as the last checks found it."""
    settings = get_settings()

    async def work(session: AsyncSession) -> IpListingList:
        return await listings(session, settings)

    shown = with_session(settings, work)
    emit(as_json, msgspec.to_builtins(shown), _listings_text(shown))


@ips.command("check")
@click.option("--json", "as_json", is_flag=True)
def ips_check(as_json: bool) -> None:
    """Ask every zone about every sending IP now; record and tell what changed."""
    from herald_service.storage.database import async_session_factory, make_async_engine

    settings = get_settings()
    if not configured_pairs(settings):
        raise click.UsageError("set HERALD_SENDING_IPS and HERALD_DNSBL_ZONES first")

    async def run() -> list[CheckedPair]:
        engine = make_async_engine(settings.database_url)
        try:
            resolver = make_resolver(settings, cache=False)
            sessions = async_session_factory(engine)
            found = await check_round(sessions, settings, resolver, utcnow(), force=True)
        finally:
            await engine.dispose()
        return [msgspec.convert(r, CheckedPair, from_attributes=True) for r in found]

    checked = asyncio.run(run())
    payload: dict[str, Any] = {"data": msgspec.to_builtins(checked)}
    lines = [
        f"{r.ip:39} {r.zone:30} {r.status:8} {r.answer or '-':16} "
        f"{r.meaning or r.error}{'  -> ' + r.event if r.event else ''}".rstrip()
        for r in checked
    ]
    emit(as_json, payload, "\n".join(lines))
