"""``ip.listed`` and ``ip.delisted``: the log line and the webhook deliveries of a change
of an IP's standing on a zone, written in the caller's transaction.

Sending IPs belong to the server, not to an account, so the operator accounts
(``HERALD_OPERATOR_ACCOUNTS``) are told: their enabled endpoints that subscribe to the
type (or to every type). Like domain events, a delivery carries its own payload.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.ids import new_id
from herald_service.core.states import IpEventType, WebhookDeliveryStatus
from herald_service.events.service import enabled_endpoints
from herald_service.settings import Settings
from herald_service.storage.models import WebhookDelivery

log = logging.getLogger("herald.blocklists")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


async def announce(
    session: AsyncSession,
    settings: Settings,
    *,
    type: IpEventType,
    at: datetime,
    details: dict[str, Any],
) -> str:
    """Log the event and queue it to the operator accounts' matching endpoints; its id."""
    event_id = new_id("evt")
    payload = {"id": event_id, "type": type.value, "at": _iso(at), **details}
    accounts = list(settings.operator_accounts)
    for endpoint in await enabled_endpoints(session, accounts) if accounts else ():
        if endpoint.event_types and type.value not in endpoint.event_types:
            continue
        session.add(
            WebhookDelivery(
                id=new_id("whd"),
                endpoint_id=endpoint.id,
                account_id=endpoint.account_id,
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
    level = logging.WARNING if type is IpEventType.LISTED else logging.INFO
    found = " ".join(filter(None, [details["answer"] or "no record", details["meaning"]]))
    log.log(level, "%s %s on %s: %s", type.value, details["ip"], details["zone"], found)
    return event_id
