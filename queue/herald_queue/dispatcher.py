"""Coroutines handed from rq's thread to the worker's event loop, one slot each.

A worker takes at most ``HERALD_WORKER_CONCURRENCY`` deliveries at once. The job thread
blocks while every slot is taken (so rq pops no more work than the process can hold) and
stops waiting as soon as the worker is stopping; a slot is freed when its coroutine ends,
whatever the outcome. What is in flight can be counted and waited for, which is how a
stopping worker lets its deliveries finish.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import Future, wait
from typing import Any, TypeVar

A = TypeVar("A")

SLOT_WAIT = 0.2  # seconds: how soon a job waiting for a slot notices the worker stopping

log = logging.getLogger(__name__)


class Dispatcher:
    """Starts coroutines on an event loop running in another thread, within a number of
    slots, and keeps track of those that have not finished."""

    def __init__(
        self,
        slots: int,
        loop: Callable[[], asyncio.AbstractEventLoop],
        stopping: threading.Event,
    ) -> None:
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self._loop = loop
        self._stopping = stopping
        self._in_flight: set[Future[Any]] = set()
        self._running = 0
        self._lock = threading.Lock()

    def dispatch_each(
        self, start: Callable[[A], Coroutine[Any, Any, Any]], items: Iterable[A]
    ) -> list[A]:
        """Start ``start(item)`` on the loop for each item, one slot each; blocks only
        while all slots are taken. Items that find free slots start together, so their
        database work is written together. Once the worker is stopping it starts no
        more: it returns the items it left (empty if it started them all)."""
        batch: list[A] = []
        todo = list(items)
        for index, item in enumerate(todo):
            if self._stopping.is_set():
                self._release_slots(len(batch))
                return todo[index - len(batch) :]
            if batch and not self._slots.acquire(blocking=False):
                self._launch(start, batch)
                batch = []
            if not batch and not self._take_slot():
                return todo[index:]
            batch.append(item)
        if batch:
            self._launch(start, batch)
        return []

    def in_flight(self) -> int:
        """How many dispatched coroutines have not finished."""
        with self._lock:
            return self._running

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every dispatched coroutine has finished (True) or ``timeout``
        seconds have passed (False)."""
        with self._lock:
            pending = list(self._in_flight)
        _, not_done = wait(pending, timeout)  # failures: see _finished
        return not not_done

    def _take_slot(self) -> bool:
        """Wait for a free slot; False (and none taken) once the worker is stopping."""
        while not self._stopping.is_set():
            if self._slots.acquire(timeout=SLOT_WAIT):
                return True
        return False

    def _release_slots(self, count: int) -> None:
        for _ in range(count):
            self._slots.release()

    def _launch(self, start: Callable[[A], Coroutine[Any, Any, Any]], batch: list[A]) -> None:
        with self._lock:
            self._running += len(batch)
        future = asyncio.run_coroutine_threadsafe(self._run_all(start, batch), self._loop())
        with self._lock:
            self._in_flight.add(future)
        future.add_done_callback(self._finished)

    async def _run_all(
        self, start: Callable[[A], Coroutine[Any, Any, Any]], batch: list[A]
    ) -> None:
        await asyncio.gather(*(self._run_one(start(item)) for item in batch))

    async def _run_one(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        try:
            await coroutine
        except Exception:
            log.exception("delivery failed")
        finally:
            with self._lock:
                self._running -= 1
            self._slots.release()

    def _finished(self, future: Future[Any]) -> None:
        with self._lock:
            self._in_flight.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("delivery failed", exc_info=future.exception())
