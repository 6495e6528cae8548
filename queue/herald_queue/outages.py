"""Deliveries wait out a database outage instead of failing.

A delivery writes twice: its start (the lease) and its outcome. If the database is down,
restarting or (SQLite) out of disk when it does, the write is tried again, after 0.25 s,
then twice as long each time up to :data:`MAX_DELAY`, until it goes through. So the
worker pauses rather than crash-loops: its deliveries wait in their slots, its rq loop
takes no new job while every slot is taken, and jobs stay in Redis.

- A start that waits has leased nothing; a worker that stops meanwhile gives up on it
  (``give_up``), and the sweeper hands the message out again.
- An outcome that waits is in the journal (:mod:`herald_queue.journal`) and its
  recipients stay leased to this worker; it is recorded as soon as the database is back,
  so the server's answer is not lost and the message is not sent twice. If the worker is
  killed meanwhile, the next worker on the host records it from the journal. (An outage
  longer than ``HERALD_DELIVERY_LEASE`` lets the lease run out; a delivery in flight when
  it began may then be repeated, as after a crash.)

Other errors are raised at once, as before: only :func:`database_unavailable` ones wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from herald_service.storage.outages import database_unavailable

T = TypeVar("T")

FIRST_DELAY = 0.25
MAX_DELAY = 2.0
"""Seconds between tries at most: a worker notices the database is back within this."""
LOG_EVERY = 10.0

log = logging.getLogger(__name__)
_last_logged: dict[str, float] = {}


async def until_written(
    write: Callable[[], Awaitable[T]],
    what: str,
    give_up: Callable[[], bool] = lambda: False,
    *,
    otherwise: T,
) -> T:
    """``await write()``, again while it fails because the database is unavailable;
    ``otherwise`` if ``give_up()`` says so before a try."""
    delay = FIRST_DELAY
    while True:
        try:
            return await write()
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            _note(what, exc)
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_DELAY)
        if give_up():
            return otherwise


def _note(what: str, exc: BaseException) -> None:
    """One warning per kind of write every :data:`LOG_EVERY` seconds, not one per try."""
    now = time.monotonic()
    if now - _last_logged.get(what, -LOG_EVERY) >= LOG_EVERY:
        _last_logged[what] = now
        first_line = str(exc).strip().partition("\n")[0]
        log.warning("%s: the database is unavailable (%s); retrying", what, first_line)
