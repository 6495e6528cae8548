"""What the reputation endpoints answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class ReputationWindow(msgspec.Struct):
    """One rolling window of a domain's outcomes."""

    window: str
    """``24h``, ``7d``, or ``since resume`` (the first 7 days after a resume)."""
    delivered: int
    bounced_hard: int
    bounced_soft: int
    complained: int
    volume: int
    """Recipients with an outcome (delivered + bounced): judged from the minimum volume on."""
    bounce_rate: float | None
    complaint_rate: float | None


class ReputationThresholds(msgspec.Struct):
    """The configured thresholds (``HERALD_REPUTATION_*``), rates as fractions."""

    min_volume: int
    bounce_warn: float
    bounce_pause: float
    complaint_warn: float
    complaint_pause: float


class DomainEventOut(msgspec.Struct):
    """A warning, pause, resume or destination cool-down, and who or what caused it."""

    id: str
    type: str
    at: datetime
    actor: str
    details: dict[str, Any]


class DomainReputation(msgspec.Struct):
    """A sending domain's standing now."""

    domain_id: str
    domain: str
    status: str
    level: str
    """``ok``, ``warn`` or ``pause``: what the windows call for now."""
    reasons: list[str]
    windows: list[ReputationWindow]
    thresholds: ReputationThresholds
    events: list[DomainEventOut]
    """The latest domain events, newest first."""
    paused_at: datetime | None = None
    pause_reason: str | None = None


class ResumeResult(msgspec.Struct):
    """A resumed domain and how many held recipients went back to the queue."""

    domain_id: str
    domain: str
    status: str
    released: int
