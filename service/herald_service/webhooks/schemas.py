"""The shapes of ``/v1/webhooks`` (unknown request fields refused) and their presenters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from herald_service.core.states import WebhookDeliveryStatus, WebhookEventType
from herald_service.request_fields import Description, Url
from herald_service.storage.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class CreateWebhookRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/webhooks``: where to send events, and which ones (empty: all)."""

    url: Url
    event_types: list[WebhookEventType] = msgspec.field(default_factory=list)
    description: Description = ""
    enabled: bool = True


class UpdateWebhookRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``PATCH /v1/webhooks/{id}``: the fields given (not null) change."""

    url: Url | None = None
    event_types: list[WebhookEventType] | None = None
    description: Description | None = None
    enabled: bool | None = None


class RotateSecretRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/webhooks/{id}/rotate-secret``: how long the old secret keeps signing."""

    overlap_seconds: Annotated[float, msgspec.Meta(ge=0, le=7 * 86400)] | None = None


class WebhookOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A webhook endpoint; ``secret`` is present only in the answer that created it."""

    id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime
    secret: str | None = None


class WebhookList(msgspec.Struct):
    """The account's webhook endpoints."""

    data: list[WebhookOut]


class SecretOut(msgspec.Struct):
    """A new signing secret, shown once; the previous one signs until the given time."""

    secret: str
    previous_secret_expires_at: datetime | None


class WebhookAttemptOut(msgspec.Struct):
    """One HTTP request of a delivery."""

    at: datetime
    address: str
    status_code: int | None
    error: str
    response_body: str
    duration_ms: int


class WebhookDeliveryOut(msgspec.Struct, kw_only=True):
    """One event sent (or being sent) to one endpoint, with every attempt."""

    id: str
    event_id: str
    event_type: str
    status: str
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    attempts: list[WebhookAttemptOut]


class WebhookDeliveryList(msgspec.Struct):
    """A page of deliveries, newest first; pass ``next_cursor`` as ``cursor`` for more."""

    data: list[WebhookDeliveryOut]
    next_cursor: str | None


def webhook_out(endpoint: WebhookEndpoint, secret: str | None = None) -> WebhookOut:
    """The public view of an endpoint (never its stored secrets)."""
    return WebhookOut(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        event_types=list(endpoint.event_types),
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        failing_since=endpoint.failing_since,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
        secret=secret,
    )


def _attempt_out(attempt: WebhookAttempt) -> WebhookAttemptOut:
    return WebhookAttemptOut(
        at=attempt.at,
        address=attempt.address,
        status_code=attempt.status_code,
        error=attempt.error,
        response_body=attempt.response_body,
        duration_ms=attempt.duration_ms,
    )


def delivery_out(delivery: WebhookDelivery) -> WebhookDeliveryOut:
    """The public view of a delivery and its attempts."""
    pending = delivery.status == WebhookDeliveryStatus.PENDING
    return WebhookDeliveryOut(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempt_count=delivery.attempt_count,
        next_attempt_at=delivery.next_attempt_at if pending else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        attempts=[_attempt_out(a) for a in delivery.attempts],
    )
