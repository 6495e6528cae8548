"""The console's IP pools page: every member sees the pools, their IPs and each warming
IP's day and today's count against its cap; only an operator account's admins start or
end a warm-up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from herald_service.api.app import create_app
from herald_service.ip_pools.service import create_pool
from support.console import add_user, csrf_of, sign_in
from support.harness import Herald, Tenant

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "HERALD_SENDING_IPS": "127.0.0.10=mta1.sender.test,127.0.0.11"}


@pytest.fixture
async def operator(herald: Herald) -> Tenant:
    return await herald.create_tenant("ops.example")


@pytest.fixture
async def console(herald: Herald, operator: Tenant) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    settings = msgspec.structs.replace(herald.settings, operator_accounts=(operator.account_id,))
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        client.follow_redirects = False
        yield client


async def test_the_page_lists_pools_and_an_operator_starts_a_warm_up(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
    operator: Tenant,
) -> None:
    async with herald.runtime.sessions.begin() as session:
        await create_pool(session, herald.settings, "bulk", "newsletters", ["127.0.0.11"])
    await add_user(herald.settings.database_url, "ops@example.com", "admin", operator.account_id)
    await sign_in(console, "ops@example.com")
    page = await console.get("/console/ip-pools")
    assert page.status_code == 200, page.text
    assert '<a href="/console/ip-pools" aria-current="page">IP pools</a>' in page.text
    assert 'data-pool="default"' in page.text and 'data-pool="bulk"' in page.text
    assert "mta1.sender.test" in page.text and "newsletters" in page.text
    assert "Start the warm-up of 127.0.0.11" in page.text

    started = await console.post(
        "/console/ip-pools/warmup",
        data={"csrf_token": csrf_of(page.text), "address": "127.0.0.11", "action": "start"},
    )
    assert started.status_code == 303, started.text
    after = await console.get(started.headers["location"])
    assert "Warm-up started" in after.text
    assert "day 1 of 30" in after.text and "0 of 50" in after.text


async def test_a_tenant_looks_but_cannot_change_a_warm_up(
    herald: Herald,
    console: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    tenant = await herald.create_tenant("tenant.example")
    await add_user(herald.settings.database_url, "t@example.com", "admin", tenant.account_id)
    await sign_in(console, "t@example.com")
    page = await console.get("/console/ip-pools")
    assert page.status_code == 200, page.text
    assert "127.0.0.10" in page.text and "Start the warm-up" not in page.text
    refused = await console.post(
        "/console/ip-pools/warmup",
        data={"csrf_token": csrf_of(page.text), "address": "127.0.0.10", "action": "start"},
    )
    assert refused.status_code == 403
