"""Garbage-collector setting for Herald's long-running hot processes (API, delivery worker).

CPython starts a young-generation collection every 700 net allocations of container
objects. Accepting or delivering one message allocates thousands of them (Litestar,
msgspec, SQLAlchemy, the email package), so the collector ran several times per message
and walked the same young objects again each time, although almost all of them are freed
by reference counting moments later. Starting it every 50,000 allocations instead still
collects cycles many times a second under load, at a fraction of the cost: about 7 %
less API CPU per accepted message (docs/benchmarks.md, "Fifth pass"). The older
generations keep CPython's defaults.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 50_000


def tune_gc() -> None:
    """Collect the young generation every :data:`YOUNG_GENERATION_THRESHOLD` allocations."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)
