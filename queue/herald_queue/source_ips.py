"""Which local address a batch leaves from, and the name it says in EHLO.

Only built when ``HERALD_SENDING_IPS`` lists addresses (otherwise the system picks the
address, as it always did, at no cost). Per batch: the IPs of the message's pool
(``ip_pool``, else its domain's, else the default), warming ones first while today's
allowance lasts (reserved in a count all workers share), then the warm ones, rotated so
mail spreads over them. What no IP may take today waits for the next UTC day.

``excluded`` names the addresses out of rotation (a blocklist listing, say); ``clock``
is the time warm-up days are counted in (tests move it).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime

import dns.asyncresolver
import dns.exception
from msgspec import Struct
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.core.sending_ips import (
    DEFAULT_POOL,
    IpState,
    candidates,
    is_hostname,
    next_utc_midnight,
    pool_members,
    waiting_reason,
)
from herald_service.ip_pools.store import ip_states, reserve
from herald_service.settings import Settings
from herald_service.storage.types import utcnow

__all__ = ["Assignment", "Source", "SourceIps", "local_addresses"]

REFRESH_SECONDS = 5.0
"""How long a worker keeps the IPs' pools and warm-up before reading them again."""

log = logging.getLogger(__name__)


def local_addresses(addresses: Sequence[str]) -> tuple[str, ...]:
    """Those of ``addresses`` this host can send from (the setting lists every worker
    host's addresses; one host owns only its own)."""
    local = []
    for address in addresses:
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address, 0))
            except OSError:
                continue
        local.append(address)
    return tuple(local)


class Source(Struct, frozen=True):
    """A local address to bind and the name to greet with."""

    address: str
    ehlo: str


class Assignment(Struct, frozen=True):
    """How many of a batch's recipients (in order) go from each source; ``waiting`` is
    why the rest wait, and for how many seconds (0: the usual backoff)."""

    parts: list[tuple[Source, int]]
    waiting: str = ""
    retry_after: float = 0.0


class SourceIps:
    """The sending IPs of one worker process (``local``: those on this host, default
    all of ``HERALD_SENDING_IPS``)."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        resolver: dns.asyncresolver.Resolver,
        *,
        clock: Callable[[], datetime] = utcnow,
        excluded: Callable[[], frozenset[str]] = frozenset,
        local: Sequence[str] | None = None,
    ) -> None:
        self.configured = tuple(settings.sending_ips if local is None else local)
        self.schedule = settings.warmup_schedule
        self.hostname = settings.hostname
        self.clock = clock
        self.excluded = excluded
        self._names = dict(settings.sending_ip_names)
        self._sessions = sessions
        self._resolver = resolver
        self._states: dict[str, IpState] = {}
        self._loaded_at = -REFRESH_SECONDS
        self._used_up: dict[str, date] = {}  # warming IPs whose cap today is reached

    def forget(self) -> None:
        """Read the IPs' pools and warm-up again at the next batch."""
        self._loaded_at = -REFRESH_SECONDS
        self._used_up.clear()

    async def _current_states(self) -> dict[str, IpState]:
        if time.monotonic() - self._loaded_at >= REFRESH_SECONDS:
            async with self._sessions() as session:
                self._states = await ip_states(session)
            self._loaded_at = time.monotonic()
        return self._states

    async def source(self, address: str) -> Source:
        """``address`` with its EHLO name: as configured, else its PTR name, else
        ``HERALD_HOSTNAME`` (looked up once per process)."""
        name = self._names.get(address)
        if name is None:
            name = await self._ptr_name(address) or self.hostname
            self._names[address] = name
        return Source(address, name)

    async def _ptr_name(self, address: str) -> str:
        try:
            answer = await self._resolver.resolve_address(address)
        except (dns.exception.DNSException, OSError) as exc:
            log.info(
                "no PTR name for sending IP %s (%s); EHLO says %s", address, exc, self.hostname
            )
            return ""
        name = str(answer[0]).rstrip(".") if answer.rrset else ""
        return name if is_hostname(name) else ""

    async def assign(self, pool: str, count: int, spread: int = 0) -> Assignment:
        """Share ``count`` recipients of a batch out over ``pool``'s IPs."""
        now = self.clock()
        today = now.date()
        states = await self._current_states()
        members = pool_members(pool or DEFAULT_POOL, states, self.configured)
        excluded = self.excluded()
        used_up = frozenset(a for a, day in self._used_up.items() if day == today)
        order = candidates(
            members, states, self.schedule, today, excluded=excluded | used_up, spread=spread
        )
        parts: list[tuple[Source, int]] = []
        left = count
        for candidate in order:
            if candidate.cap is None:
                taken = left
            else:
                async with self._sessions.begin() as session:
                    taken = await reserve(session, candidate.address, today, candidate.cap, left)
                if taken < left:
                    self._used_up[candidate.address] = today
            if taken:
                parts.append((await self.source(candidate.address), taken))
                left -= taken
            if not left:
                return Assignment(parts)
        reason = waiting_reason(members, states, self.schedule, today, excluded)
        wait = (next_utc_midnight(now) - now).total_seconds() if reason.startswith("warm-up") else 0
        return Assignment(parts, reason, wait)
