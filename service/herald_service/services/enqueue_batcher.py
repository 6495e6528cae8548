"""Enqueue delivery jobs of concurrent requests together: one rq pipeline per batch.

rq is synchronous, so each enqueue costs a hop to a worker thread and a Redis round
trip. :class:`EnqueueBatcher` runs one small flusher task per process: requests hand
their message ids over and wait; while one batch is being written, the ids of the
requests that arrive meanwhile gather into the next, which goes out in one
``enqueue_many`` pipeline as delivery jobs of up to 100 message ids each (so the workers
start those messages together too). A lone request waits no longer than before (one hop); under
load the hop and the round trip are shared. A batch whose enqueue fails is logged by
:class:`~herald_service.jobs.DeliveryQueue` and left to the sweeper, which enqueues
committed messages again after ``ENQUEUE_GRACE`` — the guarantee is unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from herald_service.jobs import DeliveryQueue


class EnqueueBatcher:
    """Batches concurrent enqueues into one ``enqueue_many`` call per flush."""

    def __init__(self, queue: DeliveryQueue, max_batch: int = 500) -> None:
        self._queue = queue
        self._max_batch = max_batch
        self._pending: list[tuple[Sequence[str], asyncio.Future[bool]]] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._in_flight: list[asyncio.Future[bool]] = []

    async def enqueue(self, message_ids: Sequence[str]) -> bool:
        """Enqueue ``message_ids``; True once written, False if Redis refused (logged)."""
        if not message_ids:
            return True
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((message_ids, future))
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._task = asyncio.create_task(self._run())
        assert self._wakeup is not None
        self._wakeup.set()
        return await asyncio.shield(future)

    async def _run(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                await self._flush_some()

    async def _flush_some(self) -> None:
        batch: list[tuple[Sequence[str], asyncio.Future[bool]]] = []
        count = 0
        while self._pending and (not batch or count < self._max_batch):
            item = self._pending.pop(0)
            batch.append(item)
            count += len(item[0])
        self._in_flight = [future for _, future in batch]
        ids = [message_id for message_ids, _ in batch for message_id in message_ids]
        try:
            ok = await asyncio.to_thread(self._queue.enqueue, ids)
        except Exception as exc:  # surfaced to the waiting requests; the flusher goes on
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(ok)

    async def close(self) -> None:
        """Write what is waiting, then stop the flusher."""
        if self._task is not None and not self._task.done():
            waiting = [future for _, future in self._pending] + self._in_flight
            await asyncio.gather(*waiting, return_exceptions=True)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
