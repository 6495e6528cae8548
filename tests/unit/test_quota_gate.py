"""The Redis quota script on its own: GCRA rate with burst, daily recipient caps, headers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from redis.asyncio import Redis

from herald_service.keys.quotas import QuotaDecision, QuotaGate, quota_redis
from herald_service.keys.service import AuthContext, KeyLimits
from herald_service.settings import Settings, load_settings
from support.clock import FakeClock
from support.processes import free_port


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def settings(**overrides: object) -> Settings:
    base = load_settings({"HERALD_SECRET_KEY": "x"}, env_file=Path("/nonexistent"))
    return msgspec.structs.replace(base, **overrides)


def caller(key: str = "key_a", account: str = "acct_a", **limits: float) -> AuthContext:
    return AuthContext(key, account, frozenset({"send"}), limits=msgspec.convert(limits, KeyLimits))


async def charged(gate: QuotaGate, auth: AuthContext, recipients: int = 0) -> QuotaDecision:
    decision = await gate.charge(auth, recipients)
    assert decision is not None
    return decision


async def allowed(gate: QuotaGate, auth: AuthContext, recipients: int = 0) -> bool:
    return (await charged(gate, auth, recipients)).allowed


async def test_burst_then_one_request_per_interval(redis: Redis) -> None:
    clock = FakeClock()
    gate = QuotaGate(redis, settings(), clock=clock)
    auth = caller(requests_per_second=2, burst=3)
    assert [await allowed(gate, auth) for _ in range(3)] == [True, True, True]
    refused = await charged(gate, auth)
    assert not refused.allowed
    assert refused.retry_after == 1  # 0.5 s, rounded up
    assert refused.headers()["Retry-After"] == "1"
    clock.advance(0.49)
    assert not await allowed(gate, auth)
    clock.advance(0.01)
    assert await allowed(gate, auth)
    clock.advance(10)  # idle: the whole burst is back
    assert [await allowed(gate, auth) for _ in range(4)] == [True, True, True, False]


async def test_headers_follow_the_ietf_fields(redis: Redis) -> None:
    clock = FakeClock.at("2027-01-01T12:00:00")
    gate = QuotaGate(
        redis,
        settings(quota_daily_recipients_per_key=100, quota_daily_recipients_per_account=500),
        clock=clock,
    )
    decision = await charged(gate, caller(requests_per_second=10, burst=20), recipients=7)
    assert decision.allowed
    headers = decision.headers()
    assert headers["RateLimit-Policy"] == (
        '"requests";q=20;w=2, "recipients-key-day";q=100;w=86400, '
        '"recipients-account-day";q=500;w=86400'
    )
    assert headers["RateLimit"] == (
        '"requests";r=19;t=1, "recipients-key-day";r=93;t=43200, '
        '"recipients-account-day";r=493;t=43200'
    )
    assert "Retry-After" not in headers


async def test_daily_caps_count_recipients_and_reset_at_midnight(redis: Redis) -> None:
    clock = FakeClock.at("2027-01-01T23:59:50")
    gate = QuotaGate(
        redis,
        settings(quota_daily_recipients_per_key=5, quota_daily_recipients_per_account=8),
        clock=clock,
    )
    first, second = caller("key_1"), caller("key_2")
    assert await allowed(gate, first, 4)
    over = await charged(gate, first, 2)
    assert not over.allowed
    assert over.retry_after == 10  # seconds to midnight UTC
    # The refused charge consumed nothing: one more recipient still fits.
    assert await allowed(gate, first, 1)
    # The account's cap is shared by its keys: 5 used, 3 left for the other key.
    assert await allowed(gate, second, 3)
    assert not await allowed(gate, second, 1)
    # Another account is not affected.
    assert await allowed(gate, caller("key_3", "acct_b"), 5)
    clock.advance(10)  # midnight UTC: fresh counters
    assert await allowed(gate, first, 5)


async def test_a_refund_gives_back_the_recipients_of_its_charge_only(redis: Redis) -> None:
    clock = FakeClock.at("2027-01-01T23:59:50")
    gate = QuotaGate(
        redis,
        settings(quota_daily_recipients_per_key=5, quota_daily_recipients_per_account=8),
        clock=clock,
    )
    first, second = caller("key_1"), caller("key_2")
    assert await allowed(gate, second, 2)
    taken = await charged(gate, first, 4)
    await gate.refund(first, taken, 4)
    assert await allowed(gate, first, 5)  # the key's 5 are all there again
    assert not await allowed(gate, second, 2)  # the account: 7 of 8 used
    refused = await charged(gate, first, 1)
    await gate.refund(first, refused, 1)  # a refused charge took nothing: nothing to give
    assert not await allowed(gate, first, 1)
    yesterday = await charged(gate, second, 1)
    clock.advance(10)  # a refund after midnight goes to the day charged, not the new one
    assert await allowed(gate, first, 5)
    await gate.refund(second, yesterday, 1)
    assert not await allowed(gate, first, 1)
    assert await allowed(gate, second, 3) and not await allowed(gate, second, 1)


async def test_key_overrides_and_disabled_limits(redis: Redis) -> None:
    gate = QuotaGate(redis, settings(quota_requests_per_second=0.0), clock=FakeClock())
    unlimited = caller()
    decisions = [await charged(gate, unlimited) for _ in range(300)]
    assert all(d.allowed for d in decisions)
    assert '"requests"' not in decisions[0].headers()["RateLimit-Policy"]
    limited = caller("key_b", requests_per_second=1, burst=1)
    assert await allowed(gate, limited)
    assert not await allowed(gate, limited)


async def test_without_any_limit_redis_is_not_asked(redis: Redis) -> None:
    prefix = f"herald:quota-test:{time.monotonic_ns()}"
    off = settings(
        quota_requests_per_second=0.0,
        quota_daily_recipients_per_key=0,
        quota_daily_recipients_per_account=0,
    )
    gate = QuotaGate(redis, off, clock=FakeClock(), prefix=prefix)
    decision = await charged(gate, caller(), recipients=50)
    assert decision.allowed and decision.headers() == {}
    assert await redis.keys(f"{prefix}:*") == []
    # A key with a cap of its own is counted.
    capped = caller("key_capped", daily_recipients=60)
    assert await allowed(gate, capped, 50)
    assert not await allowed(gate, capped, 20)
    assert len(await redis.keys(f"{prefix}:*")) == 2  # the key's and the account's counters


async def test_redis_outage_lets_requests_through_without_waiting() -> None:
    unreachable = quota_redis(f"redis://127.0.0.1:{free_port()}/0")
    gate = QuotaGate(unreachable, settings())
    started = time.monotonic()
    assert await gate.charge(caller()) is None
    assert await gate.charge(caller()) is None  # paused: no second timeout
    assert time.monotonic() - started < 1.0
    await unreachable.aclose()
