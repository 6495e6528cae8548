"""Lock a client address out of SMTP AUTH after repeated failures (fail2ban-like).

Every submission process shares the state in Redis, so a guesser gains nothing by
spreading attempts over processes or hosts. Failures are kept per address in a sorted set
over a sliding window (``HERALD_SUBMISSION_LOCKOUT_WINDOW``); the one that reaches
``HERALD_SUBMISSION_LOCKOUT_FAILURES`` locks the address for
``HERALD_SUBMISSION_LOCKOUT_DURATION``. An IPv6 client is judged by its /64: one host
holds a whole /64 and could otherwise rotate through it.

If Redis cannot be reached the check is skipped (logged): a lock-out guards against
guessing, and a key is still needed to send; taking submission down with Redis would
cost more than it protects.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from typing import Protocol

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from herald_service.metrics import SUBMISSION_AUTH_FAILURES, SUBMISSION_LOCKOUTS
from herald_service.settings import Settings

log = logging.getLogger("herald.submission.lockout")

# KEYS: 1 failures (sorted set), 2 lock. ARGV: now ms, window ms, failures, duration ms,
# a unique member. Returns 1 when this failure locks the address.
_FAIL = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[4])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


class LockoutGate(Protocol):
    """What the submission server asks of a lock-out."""

    async def is_locked(self, peer: str) -> bool:
        """Whether AUTH from ``peer`` is refused for now."""

    async def record_failure(self, peer: str) -> bool:
        """Count a failed AUTH from ``peer``; True when it locks the address."""


class LockedAddress(msgspec.Struct, frozen=True):
    """An address (or IPv6 /64) locked out, since when and for how long still."""

    address: str
    locked_at: float
    expires_in: float


def lock_subject(peer: str) -> str:
    """The address a lock applies to: the IPv4 address, or the IPv6 /64 around it."""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class Lockout:
    """The Redis-backed lock-out every submission process shares."""

    def __init__(
        self,
        redis: Redis,
        *,
        failures: int,
        window: float,
        duration: float,
        prefix: str = "herald:smtp-lockout",
    ) -> None:
        self._redis = redis
        self._failures = max(1, failures)
        self._window_ms = int(window * 1000)
        self._duration_ms = int(duration * 1000)
        self._prefix = prefix
        self._fail = redis.register_script(_FAIL)

    @classmethod
    def from_settings(cls, redis: Redis, settings: Settings) -> Lockout:
        """The lock-out configured by ``HERALD_SUBMISSION_LOCKOUT_*``."""
        return cls(
            redis,
            failures=settings.submission_lockout_failures,
            window=settings.submission_lockout_window,
            duration=settings.submission_lockout_duration,
        )

    def _keys(self, subject: str) -> tuple[str, str]:
        return f"{self._prefix}:failures:{subject}", f"{self._prefix}:lock:{subject}"

    async def is_locked(self, peer: str) -> bool:
        """Whether AUTH from ``peer`` is refused for now."""
        if not peer:
            return False
        try:
            return bool(await self._redis.exists(self._keys(lock_subject(peer))[1]))
        except RedisError:
            log.warning("lock-out check skipped: Redis unavailable", exc_info=True)
            return False

    async def record_failure(self, peer: str) -> bool:
        """Count a failed AUTH from ``peer``; True (logged, counted) when it locks."""
        SUBMISSION_AUTH_FAILURES.inc()
        if not peer:
            return False
        subject = lock_subject(peer)
        now_ms = int(time.time() * 1000)
        member = f"{now_ms}:{time.monotonic_ns()}"
        args: list[int | str] = [now_ms, self._window_ms, self._failures, self._duration_ms, member]
        try:
            locked = bool(await self._fail(keys=list(self._keys(subject)), args=args))
        except RedisError:
            log.warning("lock-out not updated: Redis unavailable", exc_info=True)
            return False
        if locked:
            SUBMISSION_LOCKOUTS.inc()
            log.warning("SMTP AUTH locked out for %s after %d failures", subject, self._failures)
        return locked

    async def locked(self) -> list[LockedAddress]:
        """The addresses locked out now, most recent first."""
        prefix = f"{self._prefix}:lock:"
        found: list[LockedAddress] = []
        async for key in self._redis.scan_iter(match=f"{prefix}*", count=500):
            name = key.decode() if isinstance(key, bytes) else str(key)
            pipe = self._redis.pipeline()
            pipe.get(name)
            pipe.pttl(name)
            since, ttl = await pipe.execute()
            if since is None or ttl is None or ttl < 0:
                continue
            found.append(LockedAddress(name[len(prefix) :], int(since) / 1000, ttl / 1000))
        return sorted(found, key=lambda a: a.locked_at, reverse=True)

    async def unlock(self, address: str) -> bool:
        """Lift the lock on ``address`` (as :meth:`locked` lists it); False if none."""
        failures, lock = self._keys(lock_subject(address))
        await self._redis.delete(failures)
        return bool(await self._redis.delete(lock))
