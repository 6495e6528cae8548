"""``client.smtp``: the SMTP settings, and the AUTH lock-outs an operator account's admin
key lists and lifts (locked through the real lock-out on the test Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient, TestClient
from loopback_http import FAST_RETRIES
from redis.asyncio import Redis

from herald import AsyncHerald, Herald, NotFoundError, PermissionDeniedError
from herald_service.api.app import create_app
from herald_service.settings import Settings
from herald_service.submission.lockout import Lockout
from support.harness import Herald as HeraldHarness
from support.harness import Tenant

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def operator_settings(herald: HeraldHarness, tenant: Tenant) -> Settings:
    """The test settings with ``tenant``'s account an operator account."""
    return msgspec.structs.replace(herald.settings, operator_accounts=(tenant.account_id,))


@pytest.fixture
def app_client(herald: HeraldHarness, tenant: Tenant) -> TestClient:  # type: ignore[type-arg]
    with TestClient(create_app(operator_settings(herald, tenant))) as client:
        yield client


@pytest.fixture
async def api(herald: HeraldHarness, tenant: Tenant) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(create_app(operator_settings(herald, tenant))) as client:
        yield client


async def lock(settings: Settings, *peers: str) -> None:
    """Fail AUTH from each of ``peers`` until it is locked out."""
    redis = Redis.from_url(settings.redis_url)
    try:
        lockout = Lockout.from_settings(redis, settings)
        for peer in peers:
            for _ in range(settings.submission_lockout_failures):
                await lockout.record_failure(peer)
            assert await lockout.is_locked(peer)
    finally:
        await redis.aclose()


def test_settings_lockouts_and_unlock(client: Herald, herald: HeraldHarness) -> None:
    settings = client.smtp.settings()
    assert (settings.host, settings.port, settings.tls_port) == ("mta.herald.example", 587, 465)
    assert settings.username == "apikey" and settings.password == "an API key with the send scope"
    assert "X-Herald-Metadata" in settings.option_headers

    assert client.smtp.lockouts() == []
    asyncio.run(lock(herald.settings, "192.0.2.20", "2001:db8:7::5"))
    listed = {entry.address: entry for entry in client.smtp.lockouts()}
    assert set(listed) == {"192.0.2.20", "2001:db8:7::/64"}
    assert 0 < listed["192.0.2.20"].expires_in <= herald.settings.submission_lockout_duration

    client.smtp.unlock("2001:db8:7::/64")  # as listed
    client.smtp.unlock("192.0.2.20")
    assert client.smtp.lockouts() == []
    with pytest.raises(NotFoundError):
        client.smtp.unlock("192.0.2.20")


async def test_async_lockouts_need_an_operator_admin_key(
    async_client: AsyncHerald,
    herald: HeraldHarness,
    api: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    await lock(herald.settings, "198.51.100.30")
    assert [e.address for e in await async_client.smtp.lockouts()] == ["198.51.100.30"]
    assert (await async_client.smtp.settings()).tls_port == 465

    other = await herald.create_tenant("other.example")
    async with AsyncHerald(
        api_key=other.api_key,
        base_url=str(api.base_url),
        http_client=api,
        retry_policy=FAST_RETRIES,
    ) as tenant_client:
        assert (await tenant_client.smtp.settings()).port == 587  # any account may read
        with pytest.raises(PermissionDeniedError):
            await tenant_client.smtp.lockouts()
        with pytest.raises(PermissionDeniedError):
            await tenant_client.smtp.unlock("198.51.100.30")

    await async_client.smtp.unlock("198.51.100.30")
    assert await async_client.smtp.lockouts() == []
