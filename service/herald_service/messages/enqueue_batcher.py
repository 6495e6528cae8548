"""Enqueue delivery jobs in the background, many accepted messages per rq job.

The send path answers ``202`` once a message's rows are committed and hands its id to
:meth:`EnqueueBatcher.submit`, which returns at once. One flusher task per process
gathers the ids submitted within :data:`GATHER_WINDOW` of the oldest one still waiting
(or while a write is under way) and writes them in one ``enqueue_many`` pipeline, as
delivery jobs of up to :data:`~herald_service.delivery_queue.IDS_PER_JOB` ids (rq's per-job
bookkeeping in the worker is then shared by many messages), at most ``max_batch`` ids
per write.

Nothing here can lose a message: a committed message carries ``next_attempt_at = now +
ENQUEUE_GRACE`` (``messages/store.py``), and the sweeper in every worker
(``herald_queue/sweeper.py``) enqueues committed messages whose time has come. So ids
still waiting in this process when it crashes, and a write that Redis refuses (logged by
:class:`~herald_service.delivery_queue.DeliveryQueue`, never raised into a request), are handed
out by the sweeper after the grace period. :meth:`EnqueueBatcher.close` writes every id
submitted before it, so a clean shutdown leaves nothing to the sweeper.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from herald_service.delivery_queue import DeliveryQueue

# How long (seconds) the oldest waiting id waits for others before the write starts; it
# delays when a worker can start, never the 202. Ids per job grow with it in proportion to
# the rate: in a 2 s simulation through this class against a local Redis (a write of up to
# 100 ids costs ~0.25 ms wall on an idle machine, whatever its size), ids arriving one by
# one at random gave 1.0 / 1.5 / 2.1 / 3.4 ids per job at 100/s per process (this
# machine's saturation) and 1.2 / 6.4 / 11.7 / 21.8 at 1,000/s, for 0 / 5 / 10 / 20 ms;
# bursts of ~10 ids (one shared commit) at 1,000/s gave 10.6 / 14.5 / 17.3 / 27.6. At the
# 300-600 msg/s of one SMTP submission process, 10 ms left ~11 ids per job and the delivery
# workers spent 1.0-1.1 ms per message, 25 ms 0.8-0.9 ms (docs/performance-notes.md, "SMTP
# submission"); a message's delivery starts at most 25 ms after its commit, which no mail
# client can tell from the time SMTP itself takes.
GATHER_WINDOW = 0.025
MAX_BATCH = 500  # ids per write: at most 5 jobs, one short pipeline

log = logging.getLogger(__name__)


class EnqueueBatcher:
    """Writes submitted message ids to the delivery queue from one background task."""

    def __init__(
        self, queue: DeliveryQueue, *, window: float = GATHER_WINDOW, max_batch: int = MAX_BATCH
    ) -> None:
        self._queue = queue
        self._window = window
        self._max_batch = max_batch
        self._pending: list[str] = []
        self._oldest = 0.0  # loop time at which the oldest pending id was submitted
        self._submitted = 0  # ids submitted so far
        self._done = 0  # ids written (or failed) so far; pending ids come after these
        self._hurry_until = 0  # write without waiting until this many ids are done
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wake: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def submit(self, message_ids: Sequence[str]) -> None:
        """Hand ``message_ids`` to the flusher and return at once (call on the event loop)."""
        if not message_ids:
            return
        loop = asyncio.get_running_loop()
        if not self._pending:
            self._oldest = loop.time()
        self._pending.extend(message_ids)
        self._submitted += len(message_ids)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="herald-enqueue")
        elif len(self._pending) == len(message_ids) or len(self._pending) >= self._max_batch:
            self._kick()  # the flusher was idle, or a full batch is waiting

    async def flush(self) -> None:
        """Write what is waiting now; return once every id submitted so far has been
        written, or its write failed (logged; the sweeper enqueues those)."""
        target = self._submitted
        if self._done >= target:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        self._hurry_until = max(self._hurry_until, target)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="herald-enqueue")
        self._kick()
        await future

    async def close(self) -> None:
        """Write every id submitted so far (and while closing), then stop the flusher."""
        while self._done < self._submitted:
            await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._pending:
                await self._sleep(None)
                continue
            deadline = self._oldest + self._window
            if (
                self._done >= self._hurry_until
                and len(self._pending) < self._max_batch
                and loop.time() < deadline
            ):
                await self._sleep(deadline)
                continue
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]  # ids left over have waited long enough
            await self._write(batch)

    async def _write(self, batch: list[str]) -> None:
        try:
            await asyncio.to_thread(self._queue.enqueue, batch)  # logs a Redis failure
        except Exception:  # anything else: the flusher must go on; the sweeper recovers
            log.exception("enqueue of %d messages failed; the sweeper will retry", len(batch))
        self._done += len(batch)
        still_waiting = []
        for target, future in self._waiters:
            if target > self._done:
                still_waiting.append((target, future))
            elif not future.done():
                future.set_result(None)
        self._waiters = still_waiting

    async def _sleep(self, deadline: float | None) -> None:
        """Wait for :meth:`_kick`, or until loop time ``deadline`` if given."""
        loop = asyncio.get_running_loop()
        wake = self._wake = loop.create_future()
        timer = None if deadline is None else loop.call_at(deadline, _wake_up, wake)
        try:
            await wake
        finally:
            self._wake = None
            if timer is not None:
                timer.cancel()

    def _kick(self) -> None:
        if self._wake is not None:
            _wake_up(self._wake)


def _wake_up(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
