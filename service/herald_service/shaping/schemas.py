"""What ``GET /v1/queue/destinations`` (and ``herald queue destinations``, the console's
Queue page) show per recipient domain: what waits, how fast it may go, whether it is
held, and what the destination said last."""

from __future__ import annotations

from datetime import datetime

import msgspec


class DestinationRule(msgspec.Struct):
    """The shaping rule a destination matched (0: that limit is off)."""

    name: str
    connections: int
    messages_per_connection: int
    per_minute: int
    per_hour: int


class LastReply(msgspec.Struct):
    """The latest attempt at one of the destination's waiting recipients."""

    at: datetime
    code: int | None
    enhanced_code: str
    response: str
    mx: str


class QueueDestination(msgspec.Struct):
    """One recipient domain's waiting mail and the limits on it now."""

    domain: str
    destination: str
    """The shaping destination whose budget the domain shares: a rule's name, or the
    domain itself when no rule matches."""
    queued: int
    deferred: int
    held: int
    scheduled: int
    rule: DestinationRule | None
    per_minute: int | None
    """Messages per minute allowed now (halved while ``halved``); None: no limit."""
    per_hour: int | None
    halved: bool
    """The destination said "slow down": its rate is cut (``rate_factor``) until
    ``halved_until``."""
    rate_factor: float
    halved_until: datetime | None
    suspended_until: datetime | None
    """Until when a reputation cool-down holds mail to it (repeated policy blocks)."""
    last_reply: LastReply | None


class QueueDestinationList(msgspec.Struct):
    """Recipient domains with waiting mail, halved or suspended, the busiest first."""

    data: list[QueueDestination]
