"""Set-based writes for concurrent deliveries: many callers' items, one statement each.

:class:`~herald_queue.group_commit.GroupCommit` lets concurrent units share a
transaction, but each unit still runs its own statements. A :class:`Coalescer` gathers
the *items* of concurrent callers (message ids to start, outcomes to record) and hands
them to one ``write(session, items)`` call, which claims, loads or records them all with
a few set-based statements. If that write fails, each item is written again alone, so a
bad item cannot sink the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from herald_queue.group_commit import GroupCommit

I = TypeVar("I")  # noqa: E741
R = TypeVar("R")

Write = Callable[[AsyncSession, list[I]], Awaitable[Sequence[R]]]


class Coalescer(Generic[I, R]):
    """Runs ``write`` on the items of concurrent :meth:`submit` calls, up to ``max_batch``
    items at a time and ``parallel`` writes at once, through ``writes``' transactions."""

    def __init__(
        self, writes: GroupCommit, write: Write[I, R], *, max_batch: int = 200, parallel: int = 2
    ) -> None:
        self._writes = writes
        self._write = write
        self._max_batch = max_batch
        self._parallel = parallel
        self._pending: list[tuple[I, asyncio.Future[R]]] = []
        self._active = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.writes = 0

    async def submit(self, item: I) -> R:
        """Write ``item`` together with whatever else is pending; its result once committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._active < self._parallel:
            self._active += 1
            task = asyncio.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(0)  # let callers scheduled in this loop pass join the batch
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._commit(batch)
        finally:
            self._active -= 1

    async def _commit(self, batch: list[tuple[I, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        try:
            results = await self._run(items)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            for item, future in batch:
                try:
                    _settle(future, (await self._run([item]))[0])
                except Exception as alone:
                    _settle(future, alone)
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)

    async def _run(self, items: list[I]) -> Sequence[R]:
        self.writes += 1
        return await self._writes.run(lambda session: self._write(session, items))


def _settle(future: asyncio.Future[Any], outcome: object) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
