"""Human durations such as ``90s``, ``5m``, ``72h``, ``1d`` and comma-separated schedules."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?")


def parse_duration(text: str) -> float:
    """Seconds in ``text``; a bare number is seconds, units may be chained (``1h30m``)."""
    cleaned = text.strip().lower()
    if not cleaned:
        raise ValueError("empty duration")
    total = 0.0
    pos = 0
    while pos < len(cleaned):
        match = _PART.match(cleaned, pos)
        if not match or match.end() == pos:
            raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 2h, 3d)")
        total += float(match.group(1)) * _UNITS[match.group(2) or "s"]
        pos = match.end()
    return total


def parse_schedule(text: str) -> tuple[float, ...]:
    """A retry schedule such as ``1m,5m,15m,1h``: the delays before successive retries."""
    delays = tuple(parse_duration(part) for part in text.split(",") if part.strip())
    if not delays:
        raise ValueError("the retry schedule needs at least one delay")
    return delays
