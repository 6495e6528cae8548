"""``client.ip_pools``: an operator account's admin key creates pools, sets their IPs and
starts warm-ups; sends and domains choose a pool (sync and asyncio)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient, TestClient

from herald import AsyncHerald, Herald, NotFoundError, UnprocessableEntityError
from herald_service.api.app import create_app
from herald_service.settings import Settings
from support.harness import Herald as HeraldHarness
from support.harness import Tenant

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "HERALD_SENDING_IPS": "127.0.0.10=mta1.sender.test,127.0.0.11"}


def operator_settings(herald: HeraldHarness, tenant: Tenant) -> Settings:
    return msgspec.structs.replace(herald.settings, operator_accounts=(tenant.account_id,))


@pytest.fixture
def app_client(herald: HeraldHarness, tenant: Tenant) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(create_app(operator_settings(herald, tenant))) as client:
        yield client


@pytest.fixture
async def api(herald: HeraldHarness, tenant: Tenant) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(operator_settings(herald, tenant))) as client:
        yield client


def test_pools_and_warm_up(client: Herald, tenant: Tenant) -> None:
    pools = client.ip_pools.list()
    assert [(p.name, [ip.address for ip in p.ips]) for p in pools] == [
        ("default", ["127.0.0.10", "127.0.0.11"])
    ]
    assert pools[0].ips[0].ehlo_name == "mta1.sender.test"
    bulk = client.ip_pools.create("bulk", description="newsletters", ips=["127.0.0.11"])
    assert [ip.address for ip in bulk.ips] == ["127.0.0.11"]
    ip = client.ip_pools.warmup("127.0.0.11")
    assert ip.warming and ip.warmup is not None and ip.warmup.day == 1
    assert ip.warmup.cap_today == 50  # the default schedule's first day

    assert client.domains.update(tenant.domain_id, ip_pool="bulk").ip_pool == "bulk"
    sent = client.messages.send(
        from_="app@sender.example", to="a@receiver.example", text="Hi", ip_pool="bulk"
    )
    assert sent.id
    with pytest.raises(UnprocessableEntityError) as refused:
        client.messages.send(
            from_="app@sender.example", to="a@receiver.example", text="Hi", ip_pool="nope"
        )
    assert [e.field for e in refused.value.errors] == ["ip_pool"]

    assert [ip.address for ip in client.ip_pools.set_ips("bulk", []).ips] == []
    client.ip_pools.delete("bulk")
    with pytest.raises(NotFoundError):
        client.ip_pools.get("bulk")


async def test_async_pools(async_client: AsyncHerald) -> None:
    created = await async_client.ip_pools.create("transactional", ips=["127.0.0.10"])
    assert created.name == "transactional"
    moved = await async_client.ip_pools.set_ips("transactional", ["127.0.0.11"])
    assert [ip.address for ip in moved.ips] == ["127.0.0.11"]
    assert [p.name for p in await async_client.ip_pools.list()] == ["default", "transactional"]
    stopped = await async_client.ip_pools.warmup("127.0.0.10", warming=False)
    assert not stopped.warming and stopped.warmup is None
    await async_client.ip_pools.delete("transactional")
    assert (await async_client.ip_pools.get("default")).name == "default"
