"""Keep the event loop serving while one request does a lot of CPU work.

Validating, building and signing a message takes about half a millisecond; a request with
a thousand messages, or one with tens of megabytes of content, would hold the event loop
(and every other request of the process, health checks included) for seconds. Such work
goes to worker threads a chunk at a time: the RSA step releases the GIL, and pure-Python
steps give the event loop its turn at every switch interval (5 ms).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Up to this much work is done on the event loop, where it costs no thread hand-off.
INLINE_ITEMS = 4
INLINE_BYTES = 256 * 1024
# Items per hand-off to a thread beyond that.
CHUNK_ITEMS = 25


async def off_loop(
    work: Callable[[Sequence[T]], list[R]], items: Sequence[T], size: int
) -> list[R]:
    """``work(items)``, on the event loop for a few items of at most :data:`INLINE_BYTES`
    of content (``size``), else in worker threads :data:`CHUNK_ITEMS` at a time."""
    if len(items) <= INLINE_ITEMS and size <= INLINE_BYTES:
        return work(items)
    results: list[R] = []
    for start in range(0, len(items), CHUNK_ITEMS):
        results += await asyncio.to_thread(work, items[start : start + CHUNK_ITEMS])
    return results
