"""Batched writes: the items of concurrent callers, written by one call in one transaction.

Many small writes (the rows of an accepted message, the start or outcome of a delivery)
each paying their own BEGIN, statements and COMMIT cost more than the work itself.
:class:`BatchedWriter` gathers the items submitted while a transaction is under way and
hands them all to one set-based ``write(unit, items)`` call in the next one; a lone
caller waits no longer than before. The unit of work (a session in a transaction, or a
connection for a write that is a single statement) comes from the ``begin`` factory. A
caller returns only once its transaction has committed, so "returned" still means
"durable".

If a shared transaction fails, each submission is written again on its own, so one bad
submission cannot fail the others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Generic, NamedTuple, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

U = TypeVar("U")  # the unit of work: a session, a connection
I = TypeVar("I")  # noqa: E741
R = TypeVar("R")

Begin = Callable[[], AbstractAsyncContextManager[U]]
"""Opens a unit of work; leaving it without an exception commits what it wrote."""

Write = Callable[[U, list[I]], Awaitable[Sequence[R]]]
"""Writes items in the given unit of work; one result per item, in their order."""


class _Submission(NamedTuple, Generic[I, R]):
    items: Sequence[I]
    future: asyncio.Future[list[R]]


class BatchedWriter(Generic[U, I, R]):
    """Runs ``write`` on the items of concurrent submissions in shared transactions
    (units of work opened by ``begin``, such as ``async_sessionmaker.begin``).

    At most ``parallel`` transactions are open at once (1 suits SQLite's single writer),
    each with up to ``max_items`` items; a submission is never split, so a larger one
    gets a transaction of its own. A new batch gathers submissions for ``window`` seconds,
    or until ``max_items`` items wait, whichever comes first, before its transaction
    starts: 0 (for callers who wait on the commit) takes only what is already waiting; a
    few milliseconds suits callers that arrive spread out and can wait, such as
    deliveries recording their outcomes. An item therefore waits at most ``window``
    plus the transactions ahead of it (at most ``parallel``) before its own begins.
    """

    def __init__(
        self,
        begin: Begin[U],
        write: Write[U, I, R],
        *,
        max_items: int = 256,
        parallel: int = 2,
        window: float = 0.0,
    ) -> None:
        self._begin = begin
        self._write = write
        self._max_items = max_items
        self._parallel = max(1, parallel)
        self._window = window
        self._gathering = False  # a flusher is in its window: new submissions join it
        self._pending: deque[_Submission[I, R]] = deque()
        self._pending_items = 0
        self._window_over: asyncio.Future[None] | None = None  # ends the gathering early
        self._active = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.transactions = 0
        """Transactions committed so far."""

    async def submit(self, item: I) -> R:
        """Write one item (see :meth:`submit_many`); its result."""
        (result,) = await self.submit_many((item,))
        return result

    async def submit_many(self, items: Sequence[I]) -> list[R]:
        """Write ``items`` in one transaction, shared with other submissions; their results
        once committed, or raise what writing them alone raised.

        A caller that is cancelled does not take the shared transaction with it: its items
        are written all the same.
        """
        if not items:
            return []
        future: asyncio.Future[list[R]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Submission(items, future))
        self._pending_items += len(items)
        if self._active < self._parallel and not self._gathering:
            self._active += 1
            self._gathering = True
            task = asyncio.create_task(self._flush())
            self._tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(self._tasks.discard)
        elif self._window_over is not None and self._pending_items >= self._max_items:
            _settle_early(self._window_over)  # a full batch waits: no need to gather more
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Wait for the transactions under way (call once no more submissions come)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _flush(self) -> None:
        try:
            try:
                await self._gather()  # callers arriving meanwhile join the batch
            finally:
                self._gathering = False
            while self._pending:
                await self._commit(self._take())
        finally:
            # No await between the last look at _pending and this: a submission queued
            # after it always finds a free slot and starts a flusher of its own.
            self._active -= 1

    async def _gather(self) -> None:
        """Wait ``window`` seconds, or less if ``max_items`` items are waiting sooner."""
        if self._window <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        over: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(self._window, _settle_early, over)
        self._window_over = over
        try:
            if self._pending_items < self._max_items:
                await over
        finally:
            timer.cancel()
            self._window_over = None

    def _take(self) -> list[_Submission[I, R]]:
        batch = [self._pending.popleft()]
        count = len(batch[0].items)
        while self._pending and count + len(self._pending[0].items) <= self._max_items:
            batch.append(self._pending.popleft())
            count += len(batch[-1].items)
        self._pending_items -= count
        return batch

    async def _commit(self, batch: list[_Submission[I, R]]) -> None:
        try:
            results = await self._transaction([item for s in batch for item in s.items])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0].future, exc)
                return
            for submission in batch:
                await self._alone(submission)
            return
        start = 0
        for submission in batch:
            end = start + len(submission.items)
            _settle(submission.future, results[start:end])
            start = end

    async def _alone(self, submission: _Submission[I, R]) -> None:
        try:
            results = await self._transaction(list(submission.items))
        except Exception as exc:
            _settle(submission.future, exc)
            return
        _settle(submission.future, results)

    async def _transaction(self, items: list[I]) -> list[R]:
        async with self._begin() as unit:
            results = list(await self._write(unit, items))
            if len(results) != len(items):
                raise ValueError(f"write returned {len(results)} results for {len(items)} items")
        self.transactions += 1
        return results


def _settle_early(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _settle(future: asyncio.Future[list[R]], outcome: list[R] | Exception) -> None:
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def one_statement_connections(
    engine: AsyncEngine,
) -> Callable[[], AbstractAsyncContextManager[AsyncConnection]]:
    """Connections for a writer whose batch is one statement (``storage/bulk_insert.py``):
    on PostgreSQL in autocommit mode, since one statement is atomic by itself (which saves
    the BEGIN and COMMIT round trips); elsewhere in a transaction."""
    if engine.dialect.name != "postgresql":
        return engine.begin

    @asynccontextmanager
    async def autocommit() -> AsyncIterator[AsyncConnection]:
        async with engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    return autocommit
