"""Domain events: the audit row, the log line and the webhook deliveries of a warning, a
pause, a resume or a destination cool-down, written in the caller's transaction.

They are not message events (no message, no recipient), so they are stored in
``domain_events`` and their webhook deliveries carry their own payload, as test events do.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.ids import new_id
from herald_service.core.states import DomainEventType, WebhookDeliveryStatus
from herald_service.events.service import enabled_endpoints
from herald_service.storage.models import DomainEvent, WebhookDelivery

log = logging.getLogger("herald.reputation")


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def announce(
    session: AsyncSession,
    *,
    account_id: str,
    domain_id: str,
    domain: str,
    type: DomainEventType,
    actor: str,
    at: datetime,
    data: dict[str, Any],
) -> str:
    """Record a domain event, log it and queue it to the account's matching endpoints;
    its id."""
    event_id = new_id("evt")
    session.add(
        DomainEvent(
            id=event_id,
            account_id=account_id,
            domain_id=domain_id,
            type=type.value,
            at=at,
            actor=actor,
            data=data,
        )
    )
    payload = {
        "id": event_id,
        "type": type.value,
        "at": _iso(at),
        "domain_id": domain_id,
        "domain": domain,
        "actor": actor,
        "details": data,
    }
    for endpoint in await enabled_endpoints(session, [account_id]):
        if endpoint.event_types and type.value not in endpoint.event_types:
            continue
        session.add(
            WebhookDelivery(
                id=new_id("whd"),
                endpoint_id=endpoint.id,
                account_id=account_id,
                event_id=event_id,
                event_type=type.value,
                payload=payload,
                status=WebhookDeliveryStatus.PENDING,
                attempt_count=0,
                next_attempt_at=at,
                last_error="",
                created_at=at,
                updated_at=at,
            )
        )
    level = logging.INFO if type is DomainEventType.RESUMED else logging.WARNING
    log.log(level, "%s %s (%s) by %s: %s", type.value, domain, domain_id, actor, data)
    await session.flush()
    return event_id
