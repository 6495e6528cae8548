"""The shared shaping state in a real Redis: a budget spreads a destination's messages,
reserves nothing for a batch that would wait too long, and a burst of "slow down" replies
halves a rate once."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from herald_service.shaping.store import ShapingStore, Window, shaping_redis


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[ShapingStore]:
    redis = shaping_redis(redis_url)
    yield ShapingStore(redis)
    await redis.aclose()


async def test_a_budget_spreads_messages_and_reserves_nothing_past_max_wait(
    store: ShapingStore,
) -> None:
    minute = [Window("m", 60, 60.0)]  # one a second
    waits = [(await store.take("d", minute, 1, 30.0))[0] for _ in range(3)]
    assert waits[0] == 0.0
    assert 0.9 < waits[1] <= 1.0 and 1.9 < waits[2] <= 2.0
    # A batch of 50 would start 3 s out: within 30 s it reserves its 50 slots...
    wait, window = await store.take("d", minute, 50, 30.0)
    assert 2.9 < wait <= 3.0 and window == minute[0]
    # ...so the next one would wait about 53 s: refused, and nothing reserved.
    refused, _ = await store.take("d", minute, 1, 30.0)
    assert 52.0 < refused <= 53.0
    again, _ = await store.take("d", minute, 1, 30.0)
    assert abs(again - refused) < 0.5


async def test_the_slowest_window_decides_and_bursts_are_allowed(store: ShapingStore) -> None:
    windows = [Window("m", 6000, 60.0), Window("h", 3600, 3600.0, burst=3)]
    waits = [(await store.take("e", windows, 1, 30.0)) for _ in range(4)]
    assert all(w < 0.05 for w, _ in waits[:3])  # the hour's burst of three (100/s a minute)
    assert 0.9 < waits[3][0] <= 1.0 and waits[3][1] == windows[1]


async def test_slow_downs_halve_a_rate_at_most_once_per_interval(store: ShapingStore) -> None:
    name = f"gmail-{secrets.token_hex(4)}"
    first = await store.slow_down(name, 600.0, 60.0, 1 / 16)
    second = await store.slow_down(name, 600.0, 60.0, 1 / 16)
    assert (first.factor, first.changed) == (0.5, True)
    assert (second.factor, second.changed) == (0.5, False)
    assert name in await store.factors()  # the Redis may hold other tests' halvings
    third = await store.slow_down(name, 600.0, 0.0, 1 / 16)  # no interval: halves again
    assert (third.factor, third.changed) == (0.25, True)
    assert name not in await store.factors(now=third.until + 1)  # over after the cool-down
