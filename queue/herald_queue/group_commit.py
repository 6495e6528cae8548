"""Group commit: many small units of database work share one transaction.

Each delivery writes twice (claim, then record); with hundreds in flight, one transaction
per write costs a commit each. Units handed to :meth:`GroupCommit.run` within a short
window run together in one transaction. If that transaction fails, each unit is run again
alone, so one bad unit cannot sink the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")
Unit = Callable[[AsyncSession], Awaitable[Any]]


class GroupCommit:
    """Runs units of work in shared transactions of up to ``max_batch`` units, with up to
    ``parallel`` transactions open at once (so database round trips overlap)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = 50,
        parallel: int = 4,
        window: float = 0.0,
    ) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._parallel = parallel
        self._window = window
        self._pending: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._active = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.transactions = 0

    async def run(self, unit: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``unit`` in a transaction shared with other units; its result once committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((unit, future))
        if self._active < self._parallel:
            self._active += 1
            task = asyncio.create_task(self._flush())
            self._tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(self._window)
            while self._pending:
                batch, self._pending = (
                    self._pending[: self._max_batch],
                    self._pending[self._max_batch :],
                )
                await self._commit(batch)
        finally:
            # No await between the last look at _pending and this: a unit queued after
            # it always finds a free slot and starts a flusher of its own.
            self._active -= 1

    async def _commit(self, batch: list[tuple[Unit, asyncio.Future[Any]]]) -> None:
        results: list[Any] = []
        try:
            async with self._sessions.begin() as session:
                for unit, _ in batch:
                    results.append(await unit(session))
            self.transactions += 1
        except Exception:
            for unit, future in batch:
                await self._alone(unit, future)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _alone(self, unit: Unit, future: asyncio.Future[Any]) -> None:
        try:
            async with self._sessions.begin() as session:
                result = await unit(session)
            self.transactions += 1
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(result)
