"""When to retry a request and how long to wait first.

Retried: connection failures and timeouts, and the statuses in :data:`RETRYABLE_STATUSES`
(408 timeout, 409 idempotent request still in flight, 429 quota, 5xx). The wait is the
server's ``Retry-After`` when it sent one (seconds or an HTTP date) and it is at most
``max_retry_after``; a longer ``Retry-After`` (say, a daily quota resetting in hours) ends the
retries at once rather than blocking the caller. Otherwise the wait is an exponential backoff
with jitter. Sends stay safe to retry because each carries one idempotency key across all
its attempts.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


def is_retryable_status(status: int) -> bool:
    """True for statuses worth another attempt (408, 409, 429 and any 5xx)."""
    return status in RETRYABLE_STATUSES or status >= 500


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    Returns ``None`` when the header is absent or unreadable; never a negative number.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff parameters: attempt ``n`` (0-based) waits about ``initial * 2**n`` seconds,
    at most ``max_delay``, scaled by a random factor in ``[1 - jitter, 1]``."""

    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0

    def backoff(self, retry_index: int) -> float:
        """The jittered exponential delay before retry number ``retry_index`` (0-based)."""
        base = min(self.max_delay, self.initial_delay * 2.0**retry_index)
        return base * (1.0 - self.jitter * random.random())

    def delay(self, retry_index: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` when the server asked for a
        longer pause than :attr:`max_retry_after` (the caller should stop retrying)."""
        if retry_after is None:
            return self.backoff(retry_index)
        if retry_after > self.max_retry_after:
            return None
        return retry_after
