"""Run a worker's periodic duties as tasks on its event loop.

A :class:`Duty` is a plain function and an interval. Coroutine functions run on the loop
itself, beside the deliveries; a ``blocking`` one (synchronous database and Redis calls)
runs on the scheduler's single duty thread, so a slow round trip never stalls the loop.
A round that fails is logged and tried again at the next interval: a duty never stops
until the scheduler does. While the database is unavailable that is one warning when the
rounds start failing and one line when they succeed again, not a traceback per round.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from herald_service.storage.outages import database_unavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Duty:
    """Something a worker process does every ``every`` seconds beside its jobs."""

    name: str
    """What it does, for the log line when a round fails."""
    every: float
    """Seconds from the end of one round to the start of the next."""
    run: Callable[[], object]
    """One round: a coroutine function, or a synchronous function when ``blocking``."""
    blocking: bool = False
    """Run on the duty thread rather than on the loop."""
    first_after: float = 0.0
    """Seconds from the start of the scheduler to the first round."""


class Scheduler:
    """The duties of one process, running from :meth:`start` until :meth:`stop`.

    It is driven from outside the loop (the worker's main thread); the duties' tasks
    are created, cancelled and awaited on the loop itself.
    """

    def __init__(self) -> None:
        self._duties: list[Duty] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []  # touched on the loop only

    def add(self, *duties: Duty) -> None:
        """Run ``duties`` too (at once when the scheduler has already started)."""
        self._duties.extend(duties)
        if self._loop is not None:
            for duty in duties:
                self._launch(duty)

    def names(self) -> list[str]:
        """The names of the duties, in the order they were added."""
        return [duty.name for duty in self._duties]

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start every duty on ``loop``, which runs in another thread."""
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="herald-duty")
        self._loop = loop
        for duty in self._duties:
            self._launch(duty)

    def stop(self) -> None:
        """Cancel every duty, and wait until they have ended and the duty thread has
        finished a blocking round in progress. Never call it on the loop's thread."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None:
            asyncio.run_coroutine_threadsafe(self._cancel_all(), loop).result()
        if thread is not None:
            thread.shutdown(wait=True)

    def _launch(self, duty: Duty) -> None:
        loop, thread = self._loop, self._thread
        assert loop is not None
        assert thread is not None
        loop.call_soon_threadsafe(self._spawn, loop, duty, thread)

    def _spawn(
        self, loop: asyncio.AbstractEventLoop, duty: Duty, thread: ThreadPoolExecutor
    ) -> None:
        self._tasks.append(loop.create_task(_keep_doing(duty, thread), name=duty.name))

    async def _cancel_all(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _keep_doing(duty: Duty, thread: ThreadPoolExecutor) -> None:
    """Run ``duty`` every ``duty.every`` seconds until cancelled."""
    await asyncio.sleep(duty.first_after)
    waiting = False  # for the database to come back
    while True:
        try:
            if duty.blocking:
                await asyncio.get_running_loop().run_in_executor(thread, duty.run)
            elif inspect.isawaitable(outcome := duty.run()):
                await outcome
        except Exception as exc:
            if not database_unavailable(exc):
                log.exception("%s failed; retrying", duty.name)
            elif not waiting:
                waiting = True
                reason = str(exc).strip().partition("\n")[0]
                log.warning("%s: the database is unavailable (%s); retrying", duty.name, reason)
        else:
            if waiting:
                waiting = False
                log.warning("%s: the database is back", duty.name)
        await asyncio.sleep(duty.every)
