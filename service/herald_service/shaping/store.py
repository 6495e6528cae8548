"""The shaping state every worker on every host shares, in Redis.

* A rate budget is a GCRA ("theoretical arrival time") key per destination and window:
  :meth:`ShapingStore.take` reserves a batch's messages in every window of its destination
  in one script call, and answers how long the batch must wait for its slot. A wait over
  the caller's limit reserves nothing (the batch is deferred instead), so budgets are never
  held by mail that is not about to go.
* Halved rates live in one hash (destination → factor, until, last halving):
  :meth:`ShapingStore.slow_down` halves a destination at most once per ``halve_every``;
  workers re-read the hash every few seconds (:meth:`ShapingStore.factors`), so a
  destination without a rule costs nothing on the delivery path until it is halved.

The clock is Redis's own (``TIME``), the same for every host.
"""

from __future__ import annotations

import time
from typing import Any, cast

from msgspec import Struct
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from herald_service.redis_urls import async_redis_client

PREFIX = "herald:shaping"
SLOW_KEY = f"{PREFIX}:slow"

# KEYS: one GCRA key per window. ARGV: count, max_wait, then (interval, allowance) per key.
# Returns {wait seconds, index of the window that waits longest (0: none)}; reserves the
# slots only when the wait is at most max_wait.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local wait, worst, tats = 0, 0, {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[1 + 2 * i])
  local allowance = tonumber(ARGV[2 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local w = tat - now - allowance
  if w > wait then wait, worst = w, i end
  tats[i] = tat + n * interval
end
if wait <= max_wait then
  for i = 1, #KEYS do
    local ttl = math.ceil((tats[i] - now) * 1000) + 1000
    redis.call('SET', KEYS[i], string.format('%.6f', tats[i]), 'PX', ttl)
  end
end
return {string.format('%.6f', wait), worst}
"""

# KEYS[1]: the hash. ARGV: destination, cooldown, halve_every, min_factor.
# Returns {factor, until, halved now (1/0)}.
_SLOW_DOWN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cooldown, every, floor = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local factor, last = 1, 0
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw then
  local f, u, l = string.match(raw, '([^,]+),([^,]+),([^,]+)')
  if tonumber(u) > now then factor, last = tonumber(f), tonumber(l) end
end
if every > 0 and now - last < every then
  return {string.format('%.6f', factor), string.format('%.3f', last + cooldown), 0}
end
factor = math.max(floor, factor / 2)
local untl = now + cooldown
redis.call('HSET', KEYS[1], ARGV[1], string.format('%.6f,%.3f,%.6f', factor, untl, now))
return {string.format('%.6f', factor), string.format('%.3f', untl), 1}
"""


class Window(Struct, frozen=True):
    """One window of a destination's budget: so many messages per ``period`` seconds."""

    suffix: str
    limit: int
    period: float
    burst: int = 1
    """Messages that may go at once before the rest is spread evenly."""


class Halving(Struct, frozen=True):
    """A destination's rate is at ``factor`` of its base until ``until`` (Unix time)."""

    factor: float
    until: float
    changed: bool = False


def shaping_redis(url: str) -> Redis:
    """An asyncio client with short timeouts: shaping never stalls delivery for long."""
    return async_redis_client(
        url, socket_timeout=1.0, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 1)
    )


class ShapingStore:
    """The shared budgets and halvings (one script call per batch)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._take = redis.register_script(_TAKE)
        self._slow_down = redis.register_script(_SLOW_DOWN)

    async def take(
        self, destination: str, windows: list[Window], count: int, max_wait: float
    ) -> tuple[float, Window | None]:
        """Reserve ``count`` messages in every window; how long to wait for the slot and
        the window that waits longest (None if none waits). A wait over ``max_wait``
        reserves nothing."""
        keys = [f"{PREFIX}:{destination}:{w.suffix}" for w in windows]
        args: list[Any] = [count, max_wait]
        for window in windows:
            interval = window.period / window.limit
            args += [f"{interval:.6f}", f"{interval * (window.burst - 1):.6f}"]
        wait, worst = cast(list[Any], await self._take(keys=keys, args=args))
        index = int(worst)
        return float(wait), windows[index - 1] if index else None

    async def slow_down(
        self, destination: str, cooldown: float, halve_every: float, min_factor: float
    ) -> Halving:
        """Halve the destination's rate (unless it was halved within ``halve_every``)."""
        args: list[str | float] = [destination, cooldown, halve_every, min_factor]
        factor, until, changed = cast(list[Any], await self._slow_down(keys=[SLOW_KEY], args=args))
        return Halving(float(factor), float(until), bool(int(changed)))

    async def factors(self, now: float | None = None) -> dict[str, Halving]:
        """Every running halving, by destination (an expired one stays in the hash, ignored,
        until the destination is halved again)."""
        raw = cast(dict[bytes, bytes], await self.redis.hgetall(SLOW_KEY))
        moment = time.time() if now is None else now
        running: dict[str, Halving] = {}
        for name, value in raw.items():
            factor, until, _ = (float(part) for part in value.decode().split(","))
            if until > moment:
                running[name.decode()] = Halving(factor, until)
        return running
