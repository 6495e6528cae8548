"""Per-key quotas in Redis: a request rate with burst, and daily recipient caps.

One Lua script evaluates every limit of a request atomically in a single round trip, so
any number of API processes sharing a Redis never spend the same allowance twice:

* the request rate is a GCRA (generic cell rate algorithm): one "theoretical arrival
  time" per key; a request is allowed when it does not run ahead of that time by more
  than the burst;
* recipients are counted per key and per account in one counter per UTC day, charged
  after validation when the recipient count is known; the counters reset at midnight UTC.

A request is charged all or nothing: when any limit refuses it, nothing is consumed.
Recipients are charged once the request has passed every check that can refuse it
(validation, sending domains); if its messages then cannot be stored, :meth:`QuotaGate.refund`
gives them back (an error path: one more round trip, only then).
A request to which no limit applies (no rate, no cap) costs no Redis round trip at all;
recipients are then not counted, so a cap set later counts from then on.
The current time is an argument of the script (from an injectable clock), not Redis
``TIME``, so tests can move time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from herald_service.core.quota_math import (
    UNLIMITED,
    ChargeAnswer,
    ChargePlan,
    Limits,
    QuotaDecision,
    decide,
    effective_limits,
    plan_charge,
)
from herald_service.keys.service import AuthContext
from herald_service.redis_urls import async_redis_client
from herald_service.settings import Settings

__all__ = ["QuotaDecision", "QuotaGate", "quota_redis"]

log = logging.getLogger(__name__)

# Daily counters outlive their day a little, so a slow clock never reads a fresh zero.
COUNTER_SLACK_MS = 3_600_000

# KEYS: 1 rate TAT of the key, 2 key's recipients today, 3 account's recipients today.
# ARGV: now_ms, interval_ms (0 = no rate limit), burst, recipients, key cap, account cap
# (0 = none), ms until the day ends, ms the day counters outlive the day.
# Returns: allowed (0/1), ms to wait before retrying, TAT (ms), key used, account used.
_CHARGE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local key_cap = tonumber(ARGV[5])
local account_cap = tonumber(ARGV[6])
local day_left = tonumber(ARGV[7])
local slack = tonumber(ARGV[8])
local tat = now
local new_tat = now
local wait = 0
if interval > 0 then
  tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
  new_tat = tat + interval
  local allow_at = new_tat - burst * interval
  if allow_at > now then wait = allow_at - now end
end
local key_used = tonumber(redis.call('GET', KEYS[2]) or 0)
local account_used = tonumber(redis.call('GET', KEYS[3]) or 0)
if n > 0 and ((key_cap > 0 and key_used + n > key_cap)
              or (account_cap > 0 and account_used + n > account_cap)) then
  wait = math.max(wait, day_left)
end
if wait > 0 then
  return {0, math.ceil(wait), math.floor(tat), key_used, account_used}
end
if interval > 0 then
  redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.max(1, math.ceil(new_tat - now)))
  tat = new_tat
end
if n > 0 then
  key_used = redis.call('INCRBY', KEYS[2], n)
  redis.call('PEXPIRE', KEYS[2], day_left + slack)
  account_used = redis.call('INCRBY', KEYS[3], n)
  redis.call('PEXPIRE', KEYS[3], day_left + slack)
end
return {1, 0, math.floor(tat), key_used, account_used}
"""


# KEYS: 1 key's recipients on the day charged, 2 account's. ARGV: recipients to give back.
# A counter gone (expired) stays gone; none goes below zero.
_REFUND = """
local n = tonumber(ARGV[1])
for i = 1, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local left = redis.call('DECRBY', KEYS[i], n)
    if left < 0 then redis.call('INCRBY', KEYS[i], -left) end
  end
end
return 1
"""


def quota_redis(url: str) -> Redis:
    """An asyncio Redis client for quotas: short timeouts and one retry, never a long wait."""
    return async_redis_client(
        url, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 1)
    )


class QuotaGate:
    """Charges requests and recipients against the caller's quotas in one Redis call."""

    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        prefix: str = "herald:quota",
    ) -> None:
        self.clock = clock
        self._defaults = Limits(
            requests_per_second=settings.quota_requests_per_second,
            burst=settings.quota_burst,
            daily_recipients_per_key=settings.quota_daily_recipients_per_key,
            daily_recipients_per_account=settings.quota_daily_recipients_per_account,
        )
        self._skip_until = 0.0
        self._prefix = prefix
        self._script = redis.register_script(_CHARGE)
        self._refund = redis.register_script(_REFUND)

    def limits(self, auth: AuthContext) -> Limits:
        """The key's overrides over the server's defaults."""
        return effective_limits(self._defaults, auth.limits)

    async def charge(self, auth: AuthContext, recipients: int = 0) -> QuotaDecision | None:
        """Charge one request (and ``recipients``); None when Redis cannot be reached.

        Quotas protect the service but must not take sending down with Redis: when
        Redis fails the request is let through, the failure logged, and Redis left alone
        for the next second so that requests do not each wait for a timeout.
        """
        limits = self.limits(auth)
        if limits.unlimited:
            return UNLIMITED  # nothing to enforce, nothing to count
        if time.monotonic() < self._skip_until:
            return None
        plan = plan_charge(limits, int(self.clock() * 1000))
        try:
            answer = await self._spend(auth, limits, plan, recipients)
        except RedisError:
            log.warning("quota checks paused for 1s: Redis unavailable", exc_info=True)
            self._skip_until = time.monotonic() + 1.0
            return None
        return decide(plan, limits, recipients, answer)

    async def _spend(
        self, auth: AuthContext, limits: Limits, plan: ChargePlan, recipients: int
    ) -> ChargeAnswer:
        """Run the charge script: every limit checked, and spent only if all allow."""
        rate_key = f"{self._prefix}:{{{auth.account_id}}}:rate:{auth.key_id}"
        allowed, wait, tat, key_used, account_used = await self._script(
            keys=[rate_key, *self._counters(auth, plan.day)],
            args=[
                plan.now_ms,
                repr(plan.interval_ms),
                plan.burst,
                recipients,
                limits.daily_recipients_per_key,
                limits.daily_recipients_per_account,
                plan.day_left_ms,
                COUNTER_SLACK_MS,
            ],
        )
        return ChargeAnswer(bool(allowed), int(wait), int(tat), int(key_used), int(account_used))

    def _counters(self, auth: AuthContext, day: int) -> list[str]:
        base = f"{self._prefix}:{{{auth.account_id}}}"
        return [f"{base}:rcpt:{auth.key_id}:{day}", f"{base}:rcpt:{day}"]

    async def refund(
        self, auth: AuthContext, decision: QuotaDecision | None, recipients: int
    ) -> None:
        """Give back ``recipients`` charged by ``decision`` (their messages were not stored).

        The request itself stays charged. A Redis failure is logged, never raised: the
        caller is already answering an error.
        """
        if decision is None or decision.day < 0 or recipients <= 0:
            return
        try:
            await self._refund(keys=self._counters(auth, decision.day), args=[recipients])
        except RedisError:
            log.warning("could not give back %d recipients to the quota", recipients, exc_info=True)
