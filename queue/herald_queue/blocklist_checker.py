"""Blocklist (DNSBL) checks of the sending IPs, a duty of every delivery worker.

Each (IP, zone) is due once per ``HERALD_DNSBL_INTERVAL``; a worker looks for due pairs
every minute at most, and the claim in :func:`~herald_service.blocklists.service.check_round`
gives each due pair to one worker. After each look the worker re-reads which sending IPs
are listed (:class:`Rotation`), so a listing found by any worker takes the IP out of this
worker's rotation within a minute.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.blocklists.queries import listed_addresses
from herald_service.blocklists.service import check_round, configured_pairs
from herald_service.dns import make_resolver
from herald_service.settings import Settings
from herald_service.storage.types import utcnow

# How often a worker looks for due pairs (the interval itself is per pair).
POLL_SECONDS = 60.0


def blocklist_poll(settings: Settings) -> float | None:
    """Seconds between two looks for due pairs; None when there is nothing to check."""
    if not configured_pairs(settings):
        return None
    return max(1.0, min(POLL_SECONDS, settings.dnsbl_interval))


async def check_blocklists(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """One round; how many pairs were asked. The resolver caches nothing, so a delisting
    is seen at the next round, not when a cached answer expires."""
    resolver = make_resolver(settings, cache=False)
    return len(await check_round(sessions, settings, resolver, utcnow()))


class Rotation:
    """The sending IPs out of rotation as last read: what the IP chooser skips
    (:attr:`herald_queue.source_ips.SourceIps.excluded`), read without a query per batch."""

    def __init__(self) -> None:
        self.out: frozenset[str] = frozenset()

    def __call__(self) -> frozenset[str]:
        return self.out

    async def refresh(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        async with sessions() as session:
            self.out = await listed_addresses(session, settings)


async def check_and_rotate(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, rotation: Rotation
) -> int:
    """A round of checks (:func:`check_blocklists`), then the rotation re-read."""
    asked = await check_blocklists(sessions, settings)
    await rotation.refresh(sessions, settings)
    return asked
