"""What a pruning round reports and how the retention settings read, shared by ``herald
prune``, the workers' log line and the console."""

from __future__ import annotations

from msgspec import Struct

from herald_service.core.retention import HOUR_COUNTERS_KEPT, Ages, Kind, describe_age
from herald_service.settings import Settings

KIND_LABELS = {
    Kind.BODIES: "message sources",
    Kind.EVENTS: "events",
    Kind.ATTEMPTS: "delivery attempts",
    Kind.WEBHOOK_DELIVERIES: "webhook deliveries",
    Kind.CAPTURED: "captured messages",
    Kind.HOUR_COUNTERS: "hour stats counters",
}
"""What each kind is called where people read it (``herald prune``, the console)."""


class RetentionRow(Struct, frozen=True):
    """One kind as the console's retention table shows it."""

    label: str
    kept_for: str
    setting: str
    """The variable that sets it (``""``: fixed)."""


class PruneReport(Struct, frozen=True, kw_only=True):
    """Rows pruned per kind (``dry_run``: that would be), and how long each is kept."""

    dry_run: bool
    pruned: dict[str, int]
    kept_for: dict[str, str]
    """``30d``, ``48h``, ``forever``: the age each kind is kept."""
    batches: int
    """Transactions the round took (``dry_run``: would take at least)."""

    @property
    def total(self) -> int:
        """Rows pruned, every kind together."""
        return sum(self.pruned.values())


def retention_ages(settings: Settings) -> Ages:
    """The ``HERALD_RETENTION_*`` ages."""
    return Ages(
        bodies=settings.retention_bodies,
        events=settings.retention_events,
        attempts=settings.retention_attempts,
        webhook_deliveries=settings.retention_webhook_deliveries,
        captured=settings.retention_captured,
    )


def kept_for(settings: Settings) -> dict[str, str]:
    """How long each kind is kept, as the settings write it, in pruning order."""
    ages = retention_ages(settings)
    shown = {kind.value: describe_age(getattr(ages, kind.value, 0.0)) for kind in Kind}
    shown[Kind.HOUR_COUNTERS.value] = describe_age(HOUR_COUNTERS_KEPT.total_seconds())
    return shown


def retention_rows(settings: Settings) -> list[RetentionRow]:
    """Every kind, how long it is kept and the variable that says so."""
    ages = kept_for(settings)
    return [
        RetentionRow(
            KIND_LABELS[kind],
            ages[kind.value],
            "" if kind is Kind.HOUR_COUNTERS else f"HERALD_RETENTION_{kind.value.upper()}",
        )
        for kind in Kind
    ]
