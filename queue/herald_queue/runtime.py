"""Per-process state of a delivery worker: one event loop, engine and resolver for all jobs.

rq calls job functions synchronously. Running every job on the same long-lived event loop
(rather than ``asyncio.run`` per job) keeps database pools and resolver caches warm.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import dns.asyncresolver
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from herald_service.dns import make_resolver
from herald_service.settings import Settings, get_settings
from herald_service.storage.database import async_session_factory, make_async_engine

T = TypeVar("T")


class WorkerRuntime:
    """What delivery jobs share inside one worker process."""

    _current: WorkerRuntime | None = None

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self.engine: AsyncEngine = make_async_engine(settings.database_url)
        self.sessions: async_sessionmaker[AsyncSession] = async_session_factory(self.engine)
        self.resolver: dns.asyncresolver.Resolver = make_resolver(settings)

    @classmethod
    def current(cls) -> WorkerRuntime:
        """The runtime of this process, created from the environment on first use."""
        if cls._current is None:
            cls._current = WorkerRuntime(get_settings())
        return cls._current

    @classmethod
    def install(cls, runtime: WorkerRuntime | None) -> None:
        """Use ``runtime`` for the jobs of this process (None: forget it)."""
        cls._current = runtime

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` to completion on this process's own loop (made on first use)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coroutine)

    def close(self) -> None:
        """Dispose of the engine and close the loop."""
        if self._loop is not None:
            self._loop.run_until_complete(self.engine.dispose())
            self._loop.close()
