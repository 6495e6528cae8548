"""Periodic re-verification of sending domains, a duty of every delivery worker.

Records can disappear after a domain was verified, and a DKIM rotation must switch keys
once its record is published and retire the old keys when the overlap ends. Every
delivery worker looks for due domains (:mod:`herald_queue.duties`); the claim in
:func:`recheck_due_domains` makes every domain checked by one worker once per
``HERALD_DOMAIN_CHECK_INTERVAL``.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald_service.dns import make_resolver
from herald_service.domains.checks import recheck_due_domains
from herald_service.settings import Settings
from herald_service.storage.types import utcnow

# How often a worker looks for due domains (the interval itself is per domain).
POLL_SECONDS = 30.0


def recheck_poll(settings: Settings) -> float:
    """Seconds between two looks for due domains: never longer than the interval."""
    return min(POLL_SECONDS, settings.domain_check_interval)


async def check_due_domains(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """One round: verify every domain whose last check is older than the interval.

    The resolver caches nothing, so each round sees the records as published now.
    """
    resolver = make_resolver(settings, cache=False)
    return await recheck_due_domains(sessions, settings, resolver, utcnow())
