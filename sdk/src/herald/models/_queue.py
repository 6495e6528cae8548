"""What ``client.queue`` returns."""

from __future__ import annotations

import msgspec


class RetryResult(msgspec.Struct, frozen=True):
    """How many deferred recipients ``queue.retry_deferred`` made due now."""

    retried: int
