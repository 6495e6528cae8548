"""How long each kind of stored data is kept, as pure arithmetic on ages and clocks.

Retention is per kind of row, each with its own ``HERALD_RETENTION_*`` age; an age of 0
keeps that kind forever. What counts and suppresses (stats counters by day, suppressions,
messages' and recipients' metadata) has no age: only the bulky or chatty rows do.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from msgspec import Struct

HOUR_COUNTERS_KEPT = timedelta(hours=48)
"""Hour stats counters are kept this long before the current hour (``GET /v1/stats``
reads at most 48 hours by hour); day counters are kept for as long as the account."""


class Kind(StrEnum):
    """What retention prunes, in the order a round prunes them."""

    BODIES = "bodies"
    """The source of a message whose recipients are all final (blanked, not deleted)."""
    EVENTS = "events"
    ATTEMPTS = "attempts"
    """Delivery attempts (SMTP answers) of recipients."""
    WEBHOOK_DELIVERIES = "webhook_deliveries"
    """Finished webhook deliveries, with their attempts."""
    CAPTURED = "captured"
    """Messages in the capture inbox."""
    HOUR_COUNTERS = "hour_counters"
    """Stats counters by hour (a fixed age, see :data:`HOUR_COUNTERS_KEPT`)."""


class Ages(Struct, frozen=True, kw_only=True):
    """Seconds each kind is kept (``HERALD_RETENTION_*``); 0 keeps it forever."""

    bodies: float
    events: float
    attempts: float
    webhook_deliveries: float
    captured: float


def cutoffs(ages: Ages, now: datetime) -> dict[Kind, datetime]:
    """The instant before which each kind is pruned; a kind kept forever is absent.

    Hour counters are cut at an hour boundary, so the oldest hour a 48-hour stats read
    can ask for (it starts at an hour) is still whole.
    """
    found = {
        Kind(name): now - timedelta(seconds=seconds)
        for name, seconds in ((k.value, getattr(ages, k.value, 0.0)) for k in Kind)
        if seconds > 0
    }
    found[Kind.HOUR_COUNTERS] = now.replace(minute=0, second=0, microsecond=0) - HOUR_COUNTERS_KEPT
    return found


def describe_age(seconds: float) -> str:
    """``30d``, ``12h``, ``90s``: an age as the settings write it (the largest whole unit)."""
    if seconds <= 0:
        return "forever"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def pruned_note(created_at: datetime, pruned_at: datetime) -> str:
    """What to say of a message whose source retention deleted: when, and at what age
    (the age it had then, whatever ``HERALD_RETENTION_BODIES`` says today)."""
    age = pruned_at - created_at
    if age.days == 1:
        after = "1 day"
    elif age.days > 1:
        after = f"{age.days} days"
    else:
        after = f"{max(0, round(age.total_seconds()))} seconds"
    return f"the source was pruned on {pruned_at:%Y-%m-%d}, {after} after it was accepted"
