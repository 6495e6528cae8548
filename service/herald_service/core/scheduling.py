"""When a scheduled message may be sent: the ``send_at`` rule.

``send_at`` is an RFC 3339 time with an offset. It may lie up to :data:`CLOCK_SKEW` in the
past (a client whose clock runs a little ahead of the server's, or a request that took a
moment to arrive, still gets its message sent at once) and at most ``max_ahead`` seconds
in the future (``HERALD_MAX_SCHEDULE_AHEAD``, 72 hours by default).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

CLOCK_SKEW = timedelta(seconds=5)
"""How far in the past ``send_at`` may be and still be accepted (sent at once)."""


def send_at_problem(send_at: datetime, now: datetime, max_ahead: float) -> str | None:
    """Why ``send_at`` is refused at ``now`` (an aware UTC time), or ``None`` if it is fine."""
    if send_at.tzinfo is None or send_at.utcoffset() is None:
        return "must be an RFC 3339 time with an offset, such as 2026-01-31T09:00:00Z"
    if send_at < now - CLOCK_SKEW:
        return "is in the past"
    if send_at > now + timedelta(seconds=max_ahead):
        return f"is more than {_hours(max_ahead)} ahead (HERALD_MAX_SCHEDULE_AHEAD)"
    return None


def normalize_send_at(send_at: datetime) -> datetime:
    """``send_at`` in UTC (an accepted value always carries an offset)."""
    return send_at.astimezone(UTC)


def is_scheduled(send_at: datetime | None, now: datetime) -> bool:
    """Whether a message with ``send_at`` waits for the sweeper (a time within the clock
    skew of ``now``, or already past, is sent at once)."""
    return send_at is not None and send_at > now


def _hours(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    return f"{seconds:g} s"
