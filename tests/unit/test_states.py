"""The event type lists the contract names stay in step with each other."""

from __future__ import annotations

from herald_service.core.states import (
    EVENT_TYPES,
    PENDING_STATUSES,
    WEBHOOK_EVENT_TYPES,
    DomainEventType,
    IpEventType,
    RecipientStatus,
    summarize,
)


def test_webhooks_subscribe_to_every_message_domain_and_ip_event_type() -> None:
    domain_types = tuple(t.value for t in DomainEventType)
    ip_types = tuple(t.value for t in IpEventType)
    assert EVENT_TYPES + domain_types + ip_types == WEBHOOK_EVENT_TYPES


def test_held_is_pending_and_wins_over_scheduled_but_not_over_queued() -> None:
    assert RecipientStatus.HELD in PENDING_STATUSES
    assert not RecipientStatus.HELD.is_final
    assert summarize(["held", "scheduled"]) == "held"
    assert summarize(["held", "queued"]) == "queued"
    assert summarize(["held", "delivered"]) == "held"
