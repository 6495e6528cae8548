"""Per-process cache of enabled webhook endpoints, kept fresh by a version number in Redis.

Every event needs the enabled endpoints of its account (to write the webhook outbox in
the same transaction). Reading them costs a query per send; they change rarely. So
:class:`WebhookEndpointCache` keeps them per account and, at most once per
``check_interval`` (1 s), reads the account's version number from Redis
(``herald:webhook-endpoints:<account>``), which every endpoint change increments after
its commit (:meth:`WebhookEndpointCache.changed`). A changed number reloads the list.

Staleness bound: the process that changes an endpoint sees the change at once; every
other process within ``check_interval`` (1 s) of the commit. Should the increment itself
fail (Redis down), the list is reloaded anyway once it is ``max_age`` (30 s) old, and
while Redis is unreachable every lookup reads the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence

from msgspec import Struct
from redis.asyncio import Redis
from redis.exceptions import RedisError

from herald_service.events.service import Executor, enabled_endpoints

log = logging.getLogger(__name__)

VERSION_KEY_PREFIX = "herald:webhook-endpoints:"


class CachedEndpoint(Struct, frozen=True):
    """An enabled endpoint as events are matched against it."""

    id: str
    account_id: str
    event_types: list[str]


class _Entry(Struct):
    version: bytes | None
    loaded_at: float
    checked_at: float
    endpoints: tuple[CachedEndpoint, ...]


class WebhookEndpointCache:
    """Enabled endpoints per account; an ``EndpointSource`` for ``add_events``."""

    def __init__(
        self,
        redis: Redis,
        *,
        check_interval: float = 1.0,
        max_age: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._check_interval = check_interval
        self._max_age = max_age
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    async def enabled_endpoints(
        self, session: Executor, account_ids: Collection[str]
    ) -> Sequence[CachedEndpoint]:
        """The enabled endpoints of ``account_ids`` (at most ``check_interval`` stale)."""
        found: list[CachedEndpoint] = []
        for account_id in account_ids:
            found.extend(await self._for_account(session, account_id))
        return found

    async def _for_account(self, session: Executor, account_id: str) -> tuple[CachedEndpoint, ...]:
        now = self._clock()
        entry = self._entries.get(account_id)
        if entry is not None and now - entry.checked_at < self._check_interval:
            return entry.endpoints
        try:
            raw = await self._redis.get(VERSION_KEY_PREFIX + account_id)
        except RedisError:
            log.warning("webhook endpoint version unreadable; reading the database")
            self._entries.pop(account_id, None)
            return await _load(session, account_id)
        version = raw if raw is None or isinstance(raw, bytes) else str(raw).encode()
        if entry is not None and entry.version == version and now - entry.loaded_at < self._max_age:
            entry.checked_at = now
            return entry.endpoints
        endpoints = await _load(session, account_id)
        self._entries[account_id] = _Entry(version, now, now, endpoints)
        return endpoints

    async def changed(self, account_id: str) -> None:
        """Call after committing a change to an endpoint of ``account_id``."""
        self._entries.pop(account_id, None)
        try:
            await self._redis.incr(VERSION_KEY_PREFIX + account_id)
        except RedisError:
            log.warning("could not publish a webhook endpoint change; others see it in 30 s")


async def _load(session: Executor, account_id: str) -> tuple[CachedEndpoint, ...]:
    rows = await enabled_endpoints(session, [account_id])
    return tuple(
        CachedEndpoint(id=row.id, account_id=row.account_id, event_types=list(row.event_types))
        for row in rows
    )
