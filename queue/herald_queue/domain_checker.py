"""Periodic re-verification of sending domains, run by every worker in its own thread.

Records can disappear after a domain was verified, and a DKIM rotation must switch keys
once its record is published and retire the old keys when the overlap ends. Each worker
runs a :class:`DomainChecker`; the claim in :func:`recheck_due_domains` makes every domain
checked by one worker once per ``HERALD_DOMAIN_CHECK_INTERVAL``.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from herald_service.dns import make_resolver
from herald_service.domains.checks import recheck_due_domains
from herald_service.settings import Settings
from herald_service.storage.database import async_session_factory, make_async_engine
from herald_service.storage.types import utcnow

log = logging.getLogger(__name__)

# How often the thread looks for due domains (the interval itself is per domain).
POLL_SECONDS = 30.0


async def check_due_domains(settings: Settings) -> int:
    """One round: verify every domain whose last check is older than the interval."""
    engine = make_async_engine(settings.database_url)
    try:
        resolver = make_resolver(settings, cache=False)
        sessions = async_session_factory(engine)
        return await recheck_due_domains(sessions, settings, resolver, utcnow())
    finally:
        await engine.dispose()


class DomainChecker(threading.Thread):
    """Runs :func:`check_due_domains` every ``poll`` seconds until stopped."""

    def __init__(self, settings: Settings, poll: float | None = None) -> None:
        super().__init__(name="herald-domain-checker", daemon=True)
        self._settings = settings
        self._poll = poll or min(POLL_SECONDS, settings.domain_check_interval)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                asyncio.run(check_due_domains(self._settings))
            except Exception:
                log.exception("domain re-check failed; retrying")
            self._stop_event.wait(self._poll)

    def stop(self) -> None:
        """Ask the thread to finish after its current round."""
        self._stop_event.set()
