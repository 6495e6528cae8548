"""Sending domains: DNS records to publish, verification results and DKIM keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ["DkimKey", "DmarcStage", "DnsRecord", "Domain", "DomainList", "DomainTracking"]


class DnsRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A record to publish and, after a verification, what DNS answered.

    ``status`` is ``pending`` (not checked yet), ``verified``, ``missing`` or ``mismatch``.
    """

    host: str
    type: str
    value: str
    purpose: str
    required: bool = True
    status: str = "pending"
    detail: str = ""
    found: list[str] = msgspec.field(default_factory=list)
    strings: list[str] = msgspec.field(default_factory=list)


class DkimKey(msgspec.Struct, frozen=True, kw_only=True):
    """A DKIM key's public facts: ``pending``, ``active`` or ``retiring``."""

    selector: str
    algorithm: str
    status: str
    created_at: datetime
    activated_at: datetime | None = None
    retire_at: datetime | None = None


class DmarcStage(msgspec.Struct, frozen=True, kw_only=True):
    """One step of the suggested DMARC roll-out (``none`` → ``quarantine`` → ``reject``)."""

    stage: str
    value: str
    when: str


class DomainTracking(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the domain's messages have opens and clicks tracked unless they say otherwise."""

    opens: bool = False
    clicks: bool = False
    host: str | None = None
    """The domain's own tracking host (used once its CNAME verifies), or ``None``."""


class Domain(msgspec.Struct, frozen=True, kw_only=True):
    """A sending domain with its records, DKIM keys and verification status."""

    id: str
    name: str
    status: str
    allow_subdomains: bool = False
    return_path_host: str = ""
    created_at: datetime | None = None
    verified_at: datetime | None = None
    last_checked_at: datetime | None = None
    records: list[DnsRecord] = msgspec.field(default_factory=list)
    dkim_keys: list[DkimKey] = msgspec.field(default_factory=list)
    dmarc_progression: list[DmarcStage] = msgspec.field(default_factory=list)
    tracking: DomainTracking = msgspec.field(default_factory=DomainTracking)
    unsubscribe: bool = False
    """Whether its messages with one recipient get Herald's one-click unsubscribe."""
    paused_at: datetime | None = None
    """Set while the reputation guard has it paused (``status`` ``paused``)."""
    pause_reason: str | None = None
    ip_pool: str | None = None
    """The IP pool its mail leaves from; ``None``: the default pool."""


class DomainList(msgspec.Struct, frozen=True):
    """The answer of ``GET /v1/domains``."""

    data: list[Domain]


class ReputationWindow(msgspec.Struct, frozen=True, kw_only=True):
    """One rolling window (``24h``, ``7d`` or ``since resume``) of a domain's outcomes."""

    window: str
    delivered: int = 0
    bounced_hard: int = 0
    bounced_soft: int = 0
    complained: int = 0
    volume: int = 0
    bounce_rate: float | None = None
    complaint_rate: float | None = None


class ReputationThresholds(msgspec.Struct, frozen=True, kw_only=True):
    """The server's reputation thresholds, rates as fractions (0.05 is 5 %)."""

    min_volume: int
    bounce_warn: float
    bounce_pause: float
    complaint_warn: float
    complaint_pause: float


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A reputation warning, pause, resume or destination cool-down of a domain."""

    id: str
    type: str
    at: datetime
    actor: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class DomainReputation(msgspec.Struct, frozen=True, kw_only=True):
    """A domain's bounce and complaint rates against the thresholds, and its standing."""

    domain_id: str
    domain: str
    status: str
    level: str
    """``ok``, ``warn`` or ``pause``."""
    reasons: list[str] = msgspec.field(default_factory=list)
    windows: list[ReputationWindow] = msgspec.field(default_factory=list)
    thresholds: ReputationThresholds | None = None
    events: list[DomainEvent] = msgspec.field(default_factory=list)
    paused_at: datetime | None = None
    pause_reason: str | None = None


class ResumeResult(msgspec.Struct, frozen=True, kw_only=True):
    """A resumed domain and how many held recipients went back to the queue."""

    domain_id: str
    domain: str
    status: str
    released: int
