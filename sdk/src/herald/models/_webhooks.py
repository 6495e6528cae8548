"""Webhook endpoints, their deliveries and the events they receive."""

from __future__ import annotations

from datetime import datetime

import msgspec

from herald.models._events import EventLogEntry

__all__ = [
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDeliveryPage",
    "WebhookEndpoint",
    "WebhookEndpointList",
    "WebhookEvent",
    "WebhookEventData",
    "WebhookSecret",
]


class WebhookEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A URL that receives signed events; ``event_types`` empty means every type.

    ``secret`` (``whsec_...``) is set only in the answer to :meth:`create`: store it then.
    """

    id: str
    url: str
    description: str = ""
    event_types: list[str] = msgspec.field(default_factory=list)
    enabled: bool = True
    disabled_reason: str = ""
    failing_since: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    secret: str | None = None


class WebhookEndpointList(msgspec.Struct, frozen=True):
    """The answer of ``GET /v1/webhooks``."""

    data: list[WebhookEndpoint]


class WebhookSecret(msgspec.Struct, frozen=True, kw_only=True):
    """A new signing secret (shown once); the old one also signs until the given time."""

    secret: str
    previous_secret_expires_at: datetime | None = None


class WebhookAttempt(msgspec.Struct, frozen=True, kw_only=True):
    """One HTTP request of a delivery and what the endpoint answered."""

    at: datetime
    address: str = ""
    status_code: int | None = None
    error: str = ""
    response_body: str = ""
    duration_ms: int = 0


class WebhookDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """One event sent (or being sent) to one endpoint: ``pending``, ``succeeded``, ``failed``."""

    id: str
    event_id: str
    event_type: str
    status: str
    attempt_count: int = 0
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str = ""
    created_at: datetime | None = None
    attempts: list[WebhookAttempt] = msgspec.field(default_factory=list)


class WebhookDeliveryPage(msgspec.Struct, frozen=True):
    """A page of deliveries, newest first; ``next_cursor`` fetches the next (``None``: last)."""

    data: list[WebhookDelivery]
    next_cursor: str | None = None


class WebhookEventData(EventLogEntry, frozen=True, kw_only=True):
    """A webhook's ``data``: the logged event (``webhook_id`` is set on ``webhook.test``)."""

    webhook_id: str = ""


class WebhookEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A verified webhook: its ``webhook-id`` header, event type, time and event data."""

    type: str
    timestamp: datetime
    data: WebhookEventData
    id: str = ""
