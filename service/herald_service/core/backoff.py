"""When to try a deferred recipient again."""

from __future__ import annotations

import random
from collections.abc import Sequence


def retry_delay(
    attempt: int, schedule: Sequence[float], jitter: float = 0.2, rng: random.Random | None = None
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    Attempt *n* waits ``schedule[n-1]``; past the end the last delay repeats. The delay is
    spread by ``±jitter`` (a fraction) so retries of many messages do not arrive in step.
    """
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    base = schedule[min(attempt, len(schedule)) - 1]
    spread = (rng or random).uniform(-jitter, jitter)
    return max(0.0, base * (1.0 + spread))
