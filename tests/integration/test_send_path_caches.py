"""The send path's per-process caches: their staleness bounds, on real Redis and databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.ids import new_id
from herald_service.domains.sending import SendingDomainCache
from herald_service.domains.service import SigningKeyCache
from herald_service.errors import InvalidRequest
from herald_service.storage.database import async_session_factory, make_async_engine
from herald_service.storage.models import Domain, WebhookEndpoint
from herald_service.storage.types import utcnow
from herald_service.webhooks.endpoints import WebhookEndpointCache
from support.clock import FakeClock
from support.harness import Herald


@pytest.fixture
async def sessions(herald: Herald) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_async_engine(herald.settings.database_url)
    yield async_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def redis(herald: Herald) -> AsyncIterator[Redis]:
    client = Redis.from_url(herald.settings.redis_url)
    yield client
    await client.aclose()


async def add_endpoint(sessions: async_sessionmaker[AsyncSession], account_id: str) -> str:
    now = utcnow()
    endpoint_id = new_id("wh")
    async with sessions.begin() as session:
        session.add(
            WebhookEndpoint(
                id=endpoint_id,
                account_id=account_id,
                url="https://hooks.example/in",
                description="",
                event_types=[],
                enabled=True,
                disabled_reason="",
                secret_encrypted=b"x",
                created_at=now,
                updated_at=now,
            )
        )
    return endpoint_id


async def test_other_processes_see_a_new_endpoint_within_one_second(
    herald: Herald, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    tenant = await herald.create_tenant()
    clock = FakeClock()
    reader = WebhookEndpointCache(redis, clock=clock)  # another API process
    writer = WebhookEndpointCache(redis, clock=clock)  # the process that creates it
    async with sessions() as session:
        assert await reader.enabled_endpoints(session, [tenant.account_id]) == []
        assert await writer.enabled_endpoints(session, [tenant.account_id]) == []

    endpoint_id = await add_endpoint(sessions, tenant.account_id)
    await writer.changed(tenant.account_id)
    async with sessions() as session:
        seen = await writer.enabled_endpoints(session, [tenant.account_id])
        assert [e.id for e in seen] == [endpoint_id]  # at once in the changing process
        assert await reader.enabled_endpoints(session, [tenant.account_id]) == []  # cached
        clock.advance(1.0)
        seen = await reader.enabled_endpoints(session, [tenant.account_id])
        assert [e.id for e in seen] == [endpoint_id]  # within the 1 s bound


async def test_an_unannounced_change_is_seen_after_max_age(
    herald: Herald, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    tenant = await herald.create_tenant()
    clock = FakeClock()
    cache = WebhookEndpointCache(redis, clock=clock, max_age=30.0)
    async with sessions() as session:
        assert await cache.enabled_endpoints(session, [tenant.account_id]) == []
    endpoint_id = await add_endpoint(sessions, tenant.account_id)  # version not bumped
    async with sessions() as session:
        clock.advance(5.0)
        assert await cache.enabled_endpoints(session, [tenant.account_id]) == []
        clock.advance(25.0)
        seen = await cache.enabled_endpoints(session, [tenant.account_id])
        assert [e.id for e in seen] == [endpoint_id]


async def test_sending_domains_are_cached_for_the_ttl_and_forgotten_on_change(
    herald: Herald, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant = await herald.create_tenant("cache.example")
    clock = FakeClock()
    cache = SendingDomainCache(
        SigningKeyCache(herald.settings.require_secret_key()), ttl=5.0, clock=clock
    )
    async with sessions() as session:
        resolved = await cache.resolve(session, tenant.account_id, "Cache.Example")
        assert resolved.id == tenant.domain_id
        assert {k.algorithm for k in resolved.keys} == {"rsa", "ed25519"}
        with pytest.raises(InvalidRequest):
            await cache.resolve(session, tenant.account_id, "other.example")
    async with sessions.begin() as session:
        await session.execute(
            update(Domain).where(Domain.id == tenant.domain_id).values(status="pending")
        )
    async with sessions() as session:
        clock.advance(4.9)
        assert (await cache.resolve(session, tenant.account_id, "cache.example")).id
        clock.advance(0.1)
        with pytest.raises(InvalidRequest):  # the TTL has passed: the change is seen
            await cache.resolve(session, tenant.account_id, "cache.example")
    async with sessions.begin() as session:
        await session.execute(
            update(Domain).where(Domain.id == tenant.domain_id).values(status="verified")
        )
    async with sessions() as session:
        await cache.resolve(session, tenant.account_id, "cache.example")  # refusals not cached
        async with sessions.begin() as writing:
            await writing.execute(
                update(Domain).where(Domain.id == tenant.domain_id).values(status="pending")
            )
        cache.forget(tenant.account_id)
        with pytest.raises(InvalidRequest):
            await cache.resolve(session, tenant.account_id, "cache.example")


async def test_a_domains_defaults_reach_its_every_cached_entry(
    herald: Herald, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A domain allowing subdomains is cached once per From domain asked about;
    ``forget_domain`` drops them all (and only them), and a process that was not told
    sees the change once the TTL has passed."""
    tenant = await herald.create_tenant("defaults.example")
    other = await herald.create_tenant("unrelated.example")
    async with sessions.begin() as session:
        await session.execute(
            update(Domain).where(Domain.id == tenant.domain_id).values(allow_subdomains=True)
        )
    clock = FakeClock()
    keys = SigningKeyCache(herald.settings.require_secret_key())
    told, untold = (SendingDomainCache(keys, ttl=5.0, clock=clock) for _ in range(2))
    names = ("defaults.example", "eu.defaults.example")
    async with sessions() as session:
        for cache in (told, untold):
            for name in names:
                assert not (await cache.resolve(session, tenant.account_id, name)).tracking_clicks
            await cache.resolve(session, other.account_id, "unrelated.example")
    async with sessions.begin() as session:
        await session.execute(
            update(Domain).where(Domain.id == tenant.domain_id).values(tracking_clicks=True)
        )
    told.forget_domain(tenant.domain_id)
    assert told.get(other.account_id, "unrelated.example") is not None, "others kept"
    async with sessions() as session:
        for name in names:
            assert (await told.resolve(session, tenant.account_id, name)).tracking_clicks
            assert not (await untold.resolve(session, tenant.account_id, name)).tracking_clicks
        clock.advance(5.0)
        for name in names:
            assert (await untold.resolve(session, tenant.account_id, name)).tracking_clicks
