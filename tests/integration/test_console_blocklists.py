"""The console's Blocklists page: each sending IP's standing per DNSBL zone, after a real
check against the loopback DNS server; in the navigation for every signed-in user."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from herald_service.blocklists.service import check_round
from herald_service.dns import make_resolver
from herald_service.storage.types import utcnow
from support.console import add_user, sign_in
from support.harness import Herald

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {
        **settings_env,
        "HERALD_SENDING_IPS": "127.0.0.10,127.0.0.11",
        "HERALD_DNSBL_ZONES": "zen.test,bl.example=127.0.0.2",
    }


@pytest.fixture
async def console(herald: Herald) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(herald.settings), base_url="http://127.0.0.1") as client:
        client.follow_redirects = False
        yield client


async def test_the_page_shows_each_ips_standing_per_zone(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("tenant.example")
    await add_user(herald.settings.database_url, "v@example.com", "viewer", tenant.account_id)
    await sign_in(console, "v@example.com")
    before = await console.get("/console/blocklists")
    assert before.status_code == 200, before.text
    assert '<a href="/console/blocklists" aria-current="page">Blocklists</a>' in before.text
    assert "not yet" in before.text and "out of rotation" not in before.text

    herald.dns.add_a("11.0.0.127.zen.test", "127.0.0.2")
    herald.dns.add_a("10.0.0.127.bl.example", "127.0.0.9")  # not one of bl.example's codes
    resolver = make_resolver(herald.settings, cache=False)
    await check_round(herald.runtime.sessions, herald.settings, resolver, utcnow())

    page = (await console.get("/console/blocklists")).text
    listed = page.split('data-ip="127.0.0.11"')[1].split("</section>")[0]
    assert '<span class="ip-listed">listed</span>' in listed
    assert '<span class="ip-out">out of rotation</span>' in listed
    zen = listed.split('data-zone="zen.test"')[1].split("</tr>")[0]
    assert 'class="status listing-listed">listed<' in zen and "<code>127.0.0.2</code>" in zen
    clean = page.split('data-ip="127.0.0.10"')[1].split("</section>")[0]
    assert '<span class="ip-clear">not listed</span>' in clean and "ip-out" not in clean
    other = clean.split('data-zone="bl.example"')[1].split("</tr>")[0]
    assert "listing-clear" in other and "not counted as a listing on bl.example" in other
