"""How a worker stops on SIGTERM without losing or repeating a delivery.

``herald worker`` stops taking jobs at once (:mod:`herald_queue.worker`), gives up on
deliveries still waiting to start, and lets those under way finish for up to
``HERALD_SHUTDOWN_TIMEOUT``. Deliveries still in an SMTP transaction after that are
interrupted: their connection is dropped before the server's final reply was read, so
nothing is recorded for them, and their recipients' leases are ended (made due now) for
the sweeper of another worker to hand out at once instead of when the lease would run out.
A transaction whose reply has been read is never interrupted: its outcome is journalled
and written before the worker exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from herald_queue.runtime import WorkerRuntime

# Seconds the interrupted deliveries get to unwind (and deliveries past their SMTP reply to
# write their outcome) before the worker gives up on them.
UNWIND_SECONDS = 5.0

log = logging.getLogger(__name__)


class SmtpInterrupts:
    """The delivery tasks in an SMTP transaction right now, which a stop may cancel.

    Used on the worker's event loop only: a task enters with :meth:`transaction` and
    leaves as soon as the transaction's replies are in, with no await in between, so a
    cancel never lands after the replies were read.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()

    @contextlib.contextmanager
    def transaction(self, *, interruptible: bool = True) -> Iterator[None]:
        """The SMTP work of the current task, which a stop past its timeout interrupts
        (if ``interruptible``)."""
        task = asyncio.current_task()
        if task is None or not interruptible:
            yield
            return
        self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)

    async def cancel_all(self) -> int:
        """Cancel every task in a transaction; how many."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return len(tasks)


def interrupt(runtime: WorkerRuntime, loop: asyncio.AbstractEventLoop) -> bool:
    """Interrupt the SMTP transactions under way (call from outside the loop once the
    timeout has passed) and wait for the deliveries to unwind; False if some are still
    running after :data:`UNWIND_SECONDS` (their outcome waits for the database)."""
    cancelled = asyncio.run_coroutine_threadsafe(runtime.interrupts.cancel_all(), loop).result()
    log.warning(
        "stopping: %d SMTP transactions still under way after %g s were interrupted; "
        "their recipients are handed back",
        cancelled,
        runtime.settings.shutdown_timeout,
    )
    deadline = time.monotonic() + UNWIND_SECONDS
    while runtime.in_flight() and time.monotonic() < deadline:
        time.sleep(0.02)
    if runtime.in_flight():
        log.error(
            "stopping: %d deliveries still wait to record their outcome; the next worker "
            "on this host records them from the journal",
            runtime.in_flight(),
        )
        return False
    return True
