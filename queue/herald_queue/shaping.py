"""Traffic shaping on the delivery path: wait for a destination's budget before an SMTP
transaction, and answer "slow down" replies by halving its rate.

:meth:`Shaper.budget` finds the destination of a batch (its recipient domain and MX
hosts, matched against :mod:`herald_service.core.shaping`'s rules). Mail to a destination
no rule limits, and that is not halved, takes no budget: no Redis call, a dictionary lookup
and a few suffix comparisons. Otherwise :meth:`Shaper.send` reserves the batch's messages
in the shared budget (one Redis script call, :mod:`herald_service.shaping.store`), sleeps
when its slot is near, or defers the batch with the reason when it is not (recorded as a
deferral that retries when the budget frees; never a bounce). Connections at once are
limited per worker process, messages per connection by the pooled connection's reuse.

After each transaction :meth:`Shaper.heard` looks for "slow down" replies; the first one
in ``halve_every`` halves the destination's rate for everyone (the Redis hash workers
re-read every few seconds) and is announced as a ``destination.throttled`` event. If Redis
cannot be reached, mail goes unshaped rather than waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from msgspec import Struct
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_queue.delivery_values import Job, Tried
from herald_queue.smtp import Reply
from herald_service.core.shaping import (
    MIN_FACTOR,
    Rule,
    ShapingRules,
    effective_per_hour,
    effective_per_minute,
    is_slow_down,
    waiting_text,
)
from herald_service.core.states import DomainEventType
from herald_service.reputation.notices import announce
from herald_service.shaping.store import Halving, ShapingStore, Window, shaping_redis
from herald_service.storage.types import utcnow

REFRESH_SECONDS = 5.0
"""How often a worker re-reads the halved destinations (others' halvings reach it then)."""

log = logging.getLogger("herald.shaping")


class Budget(Struct, frozen=True):
    """What a batch to one destination must respect."""

    name: str
    rule: Rule | None
    windows: list[Window]
    factor: float = 1.0
    mx: str = ""
    """The MX host the batch is headed for (a deferral names it, so the queue view can
    match the destination by its MX suffix)."""

    @property
    def reuse_limit(self) -> int | None:
        """Messages per connection, if limited."""
        return self.rule.messages_per_connection or None if self.rule else None


class Throttle(Struct, frozen=True):
    """A destination just halved: what its ``destination.throttled`` event tells."""

    destination: str
    factor: float
    per_minute: int
    until: float
    reply: str


Send = Callable[[int | None], Awaitable[dict[str, Tried]]]


class Shaper:
    """One worker process's view of the shaping rules and the shared budgets."""

    def __init__(self, rules: ShapingRules, redis_url: str) -> None:
        self.rules = rules
        self.adaptive = rules.adaptive
        self._matcher = rules.matcher()
        self._url = redis_url
        self._store: ShapingStore | None = None
        self._halved: dict[str, Halving] = {}
        self._connections: dict[str, asyncio.Semaphore] = {}

    @property
    def store(self) -> ShapingStore:
        """The Redis side, connected on first use (most workers never limit anything)."""
        if self._store is None:
            self._store = ShapingStore(shaping_redis(self._url))
        return self._store

    def destination(self, domain: str, hosts: Iterable[str]) -> tuple[str, Rule | None]:
        """The shaping destination of mail to ``domain`` through ``hosts``, and its rule."""
        rule = self._matcher.match(domain, hosts)
        return (rule.name if rule is not None else domain), rule

    def budget(self, domain: str, hosts: Sequence[str]) -> Budget | None:
        """What a batch to ``domain`` must take, or None when nothing limits it."""
        name, rule = self.destination(domain, hosts)
        halving = self._halved.get(name) if self._halved else None
        if halving is not None and halving.until <= time.time():
            halving = None
        if rule is None and halving is None:
            return None
        factor = halving.factor if halving is not None else 1.0
        windows = []
        if per_minute := effective_per_minute(rule, self.adaptive, factor):
            windows.append(Window("m", per_minute, 60.0))
        if per_hour := effective_per_hour(rule, factor):
            windows.append(Window("h", per_hour, 3600.0, burst=max(1, per_hour // 12)))
        if not windows and (rule is None or not (rule.connections or rule.messages_per_connection)):
            return None
        return Budget(name, rule, windows, factor, hosts[0] if hosts else "")

    async def send(self, budget: Budget, emails: list[str], send: Send) -> dict[str, Tried]:
        """Run ``send`` (given the reuse limit) once the batch's budget allows, or defer
        every recipient with the reason when it would wait longer than ``max_wait``."""
        if budget.windows:
            try:
                wait, window = await self.store.take(
                    budget.name, budget.windows, len(emails), self.adaptive.max_wait
                )
            except RedisError as exc:
                log.warning("shaping budget of %s unavailable, sending: %s", budget.name, exc)
                wait, window = 0.0, None
            if wait > self.adaptive.max_wait and window is not None:
                unit = "min" if window.period == 60.0 else "h"
                text = waiting_text(budget.name, f"{window.limit}/{unit}", wait)
                deferred = Tried(
                    Reply(None, text), budget.mx, enhanced_code="4.7.0", retry_after=wait
                )
                return dict.fromkeys(emails, deferred)
            if wait > 0:
                await asyncio.sleep(wait)
        connections = budget.rule.connections if budget.rule is not None else 0
        if not connections:
            return await send(budget.reuse_limit)
        limit = self._connections.get(budget.name)
        if limit is None:
            limit = self._connections.setdefault(budget.name, asyncio.Semaphore(connections))
        async with limit:
            return await send(budget.reuse_limit)

    async def heard(
        self, domain: str, hosts: Iterable[str], results: Mapping[str, Tried]
    ) -> Throttle | None:
        """Halve the destination's rate if a reply in ``results`` says "slow down"; the
        throttle to announce when this call halved it."""
        slow = next(
            (
                t
                for t in results.values()
                if t.reply.code is not None
                and 400 <= t.reply.code < 500
                and is_slow_down(t.reply.code, t.enhanced_code, t.reply.text)
            ),
            None,
        )
        if slow is None:
            return None
        name, rule = self.destination(domain, hosts)
        adaptive = self.adaptive
        try:
            halving = await self.store.slow_down(
                name, adaptive.cooldown, adaptive.halve_every, MIN_FACTOR
            )
        except RedisError as exc:
            log.warning("could not record a slow-down of %s: %s", name, exc)
            return None
        self._halved[name] = halving
        if not halving.changed:
            return None
        per_minute = effective_per_minute(rule, adaptive, halving.factor)
        reply = f"{slow.reply.code} {slow.reply.text}".strip()
        log.warning(
            "destination %s said slow down (%s): %d/min until %s",
            name,
            reply,
            per_minute,
            time.strftime("%H:%M:%S", time.gmtime(halving.until)),
        )
        return Throttle(name, halving.factor, per_minute, halving.until, reply)

    async def refresh(self) -> None:
        """Re-read the running halvings (a duty, every :data:`REFRESH_SECONDS`)."""
        self._halved = await self.store.factors()

    async def close(self) -> None:
        """Close the Redis connections."""
        if self._store is not None:
            await self._store.redis.aclose()


async def announce_throttle(
    sessions: async_sessionmaker[AsyncSession], message: Job, throttle: Throttle
) -> None:
    """Record and tell (webhooks, log) that the destination ``message`` went to was
    halved: a ``destination.throttled`` event of the message's sending domain."""
    if not message.domain_id:
        return
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(throttle.until))
    async with sessions.begin() as session:
        await announce(
            session,
            account_id=message.account_id,
            domain_id=message.domain_id,
            domain=message.domain,
            type=DomainEventType.DESTINATION_THROTTLED,
            actor="traffic shaping",
            at=utcnow(),
            data={
                "destination": throttle.destination,
                "factor": throttle.factor,
                "per_minute": throttle.per_minute,
                "until": until,
                "reply": throttle.reply[:500],
            },
        )
