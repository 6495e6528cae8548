"""What the Webhooks pages show of endpoints and deliveries (plain data for the templates)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from herald_service.storage.models import WebhookDelivery, WebhookEndpoint
from herald_service.webhooks.schemas import (
    WebhookAttemptOut,
    WebhookDeliveryOut,
    WebhookOut,
    delivery_out,
    webhook_out,
)

EXCERPT = 500


class DeliveryRow(msgspec.Struct, kw_only=True):
    """A delivery with the body it sends and its latest answer."""

    delivery: WebhookDeliveryOut
    body: str
    last: WebhookAttemptOut | None
    excerpt: str


def endpoint_row(endpoint: WebhookEndpoint) -> WebhookOut:
    """The public view of an endpoint (never its secrets)."""
    return webhook_out(endpoint)


def _pretty(raw: bytes | None) -> str:
    if raw is None:
        return "(the event no longer exists)"
    parsed: Any = json.loads(raw)
    return json.dumps(parsed, indent=2, ensure_ascii=False)


def delivery_rows(
    deliveries: Sequence[WebhookDelivery], bodies: Mapping[str, bytes]
) -> list[DeliveryRow]:
    """Each delivery with its pretty-printed body and an excerpt of the last response."""
    rows = []
    for delivery in deliveries:
        out = delivery_out(delivery)
        last = out.attempts[-1] if out.attempts else None
        excerpt = last.response_body if last else ""
        if len(excerpt) > EXCERPT:
            excerpt = excerpt[:EXCERPT] + "…"
        rows.append(
            DeliveryRow(
                delivery=out, body=_pretty(bodies.get(delivery.id)), last=last, excerpt=excerpt
            )
        )
    return rows
