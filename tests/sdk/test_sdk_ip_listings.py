"""``client.ip_listings``: the sending IPs' DNSBL status, read by the sync and async clients
after a real check against the loopback DNS server."""

from __future__ import annotations

import asyncio

import pytest

from herald import AsyncHerald, Herald
from herald_service.blocklists.service import check_round
from herald_service.dns import make_resolver
from herald_service.storage.types import utcnow
from support.harness import Herald as HeraldHarness

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "HERALD_SENDING_IPS": "127.0.0.10", "HERALD_DNSBL_ZONES": "zen.test"}


async def check(herald: HeraldHarness) -> None:
    resolver = make_resolver(herald.settings, cache=False)
    await check_round(herald.runtime.sessions, herald.settings, resolver, utcnow(), force=True)


def test_list_shows_a_listing(client: Herald, herald: HeraldHarness) -> None:
    herald.dns.add_a("10.0.0.127.zen.test", "127.0.0.2")
    asyncio.run(check(herald))
    shown = client.ip_listings.list()
    assert (shown.zones, shown.remove_listed, shown.interval_seconds) == (["zen.test"], True, 3600)
    [ip] = shown.data
    assert (ip.ip, ip.listed, ip.in_rotation) == ("127.0.0.10", True, False)
    [zone] = ip.zones
    assert (zone.zone, zone.status, zone.answer) == ("zen.test", "listed", "127.0.0.2")
    assert zone.listed_since is not None and zone.last_checked_at is not None


async def test_async_list_before_any_check(async_client: AsyncHerald) -> None:
    shown = await async_client.ip_listings.list()
    [ip] = shown.data
    assert (ip.ip, ip.listed, ip.in_rotation) == ("127.0.0.10", False, True)
    assert [(z.zone, z.status, z.last_checked_at) for z in ip.zones] == [
        ("zen.test", "unknown", None)
    ]
