"""Garbage-collector settings for Herald's long-running hot processes (API, delivery worker).

CPython starts a young-generation collection every 700 net allocations of container
objects. Accepting or delivering one message allocates thousands of them (Litestar,
msgspec, SQLAlchemy, the email package), so the collector ran several times per message
and walked the same young objects again each time, although almost all of them are freed
by reference counting moments later. Starting it every 50,000 allocations instead still
collects cycles many times a second under load, at a fraction of the cost: about 7 %
less API CPU per accepted message (docs/performance-notes.md, "Fifth pass"). The older
generations keep CPython's defaults.

A full collection walks every tracked object, and once started an API process holds
about 150,000 (modules, routes, SQLAlchemy metadata, the app): one took 62-75 ms here,
a pause every request in flight waits out, far beyond the p99 target. None of them ever
becomes garbage while the process serves, so :func:`frozen_startup_objects` moves them
to the permanent generation (:func:`gc.freeze`) for as long as it serves.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_GENERATION_THRESHOLD = 50_000


def tune_gc() -> None:
    """Collect the young generation every :data:`YOUNG_GENERATION_THRESHOLD` allocations."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)


@contextmanager
def frozen_startup_objects() -> Iterator[None]:
    """Leave every object that exists now out of collections until the block ends.

    Enter once the process has started up (imports done, app and connections built); on
    leaving, the objects are collectable again, so a test process that starts and stops
    many apps keeps none of them for good.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
