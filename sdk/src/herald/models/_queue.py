"""What ``client.queue`` returns."""

from __future__ import annotations

from datetime import datetime

import msgspec


class RetryResult(msgspec.Struct, frozen=True):
    """How many deferred recipients ``queue.retry_deferred`` made due now."""

    retried: int


class DestinationRule(msgspec.Struct, frozen=True):
    """The traffic shaping rule a destination matched (0: that limit is off)."""

    name: str
    connections: int
    messages_per_connection: int
    per_minute: int
    per_hour: int


class DestinationReply(msgspec.Struct, frozen=True):
    """The latest attempt at one of a destination's waiting recipients."""

    at: datetime
    code: int | None
    enhanced_code: str
    response: str
    mx: str


class QueueDestination(msgspec.Struct, frozen=True):
    """One recipient domain's waiting mail, the rate allowed there now and what holds
    it: a halving after a "slow down" reply, a reputation cool-down (suspension)."""

    domain: str
    destination: str
    queued: int
    deferred: int
    held: int
    scheduled: int
    rule: DestinationRule | None
    per_minute: int | None
    per_hour: int | None
    halved: bool
    rate_factor: float
    halved_until: datetime | None
    suspended_until: datetime | None
    last_reply: DestinationReply | None


class QueueDestinationList(msgspec.Struct, frozen=True):
    """``queue.destinations()``: the busiest destination first."""

    data: list[QueueDestination]
