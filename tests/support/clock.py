"""A clock tests can move: quota and cache code take ``clock`` callables."""

from __future__ import annotations

from datetime import UTC, datetime


class FakeClock:
    """Seconds since the epoch that only change when the test says so."""

    def __init__(self, start: float | datetime = 1_800_000_000.0) -> None:
        self.now = start.timestamp() if isinstance(start, datetime) else float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds

    @staticmethod
    def at(text: str) -> FakeClock:
        """A clock at an ISO-8601 UTC time, e.g. ``2026-11-26T23:59:50``."""
        return FakeClock(datetime.fromisoformat(text).replace(tzinfo=UTC))
