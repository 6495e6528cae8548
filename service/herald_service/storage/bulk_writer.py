"""Group commit for the API: rows from concurrent requests written in one transaction.

Each accepted message is a few rows in three tables. Written one request at a time, every
message pays its own BEGIN, INSERTs and COMMIT (and a pooled connection while it waits).
:class:`BulkWriter` gathers the items of the requests that arrive while a transaction is
under way and writes them all with one multi-row INSERT per table in the next one; a lone
request waits no longer than before. A request returns only once its transaction has
committed, so "answered" still means "durable".

If a shared transaction fails, each request's items are written again on their own, so
one bad submission cannot fail the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")
WriteRows = Callable[[AsyncSession, Sequence[T]], Awaitable[None]]


class BulkWriter(Generic[T]):
    """Writes submitted items with ``write`` in shared transactions.

    At most ``parallel`` transactions are open at once (1 suits SQLite's single writer),
    each with up to ``max_items`` items (a submission is never split).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        write: WriteRows[T],
        *,
        max_items: int = 256,
        parallel: int = 2,
    ) -> None:
        self._sessions = sessions
        self._write = write
        self._max_items = max_items
        self._parallel = max(1, parallel)
        self._pending: list[tuple[Sequence[T], asyncio.Future[None]]] = []
        self._active = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.transactions = 0

    async def write(self, items: Sequence[T]) -> None:
        """Write ``items`` in a transaction (shared with other submissions); return once
        committed, or raise what writing them alone raised."""
        if not items:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((items, future))
        if self._active < self._parallel:
            self._active += 1
            task = asyncio.create_task(self._flush())
            self._tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(self._tasks.discard)
        # Shielded: a caller that goes away does not take the shared transaction with it.
        await asyncio.shield(future)

    async def _flush(self) -> None:
        try:
            while self._pending:
                await self._commit(self._take())
        finally:
            # No await between the last look at _pending and this: a submission queued
            # after it always finds a free slot and starts a flusher of its own.
            self._active -= 1

    def _take(self) -> list[tuple[Sequence[T], asyncio.Future[None]]]:
        batch: list[tuple[Sequence[T], asyncio.Future[None]]] = []
        count = 0
        while self._pending and (not batch or count + len(self._pending[0][0]) <= self._max_items):
            submission = self._pending.pop(0)
            batch.append(submission)
            count += len(submission[0])
        return batch

    async def _commit(self, batch: list[tuple[Sequence[T], asyncio.Future[None]]]) -> None:
        try:
            async with self._sessions.begin() as session:
                await self._write(session, [item for items, _ in batch for item in items])
            self.transactions += 1
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            for items, future in batch:
                await self._alone(items, future)
            return
        for _, future in batch:
            _settle(future, None)

    async def _alone(self, items: Sequence[T], future: asyncio.Future[None]) -> None:
        try:
            async with self._sessions.begin() as session:
                await self._write(session, items)
            self.transactions += 1
        except Exception as exc:
            _settle(future, exc)
            return
        _settle(future, None)

    async def close(self) -> None:
        """Wait for the transactions under way (call once no more submissions come)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
