"""Drop suppressed recipients when a message is accepted, so that the ``202`` says so.

The recipients of a batch of prepared messages are looked up at once
(:func:`~herald_service.suppressions.service.suppression_reasons`), on the connection that
then stores the batch. A recipient found there is stored ``suppressed`` with its
``message.dropped`` event next to ``message.accepted``, and never queued. The delivery
worker still checks again before each attempt, for addresses suppressed after the message
was accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from herald_service.core.states import EventType, RecipientStatus
from herald_service.events.service import new_event, sender_domain
from herald_service.messages.store import PreparedMessage
from herald_service.suppressions.service import Reasons, suppression_reasons

# The dropped event sorts after the accepted one it follows (same request, same instant).
_AFTER_ACCEPTED = timedelta(microseconds=1)


async def drop_suppressed(
    connection: AsyncConnection, prepared: Sequence[PreparedMessage]
) -> list[PreparedMessage]:
    """``prepared`` with every suppressed recipient dropped (new objects where changed;
    the originals are left as they were, so a failed batch can be written again)."""
    pairs = {
        (p.message_row["account_id"], row["email"].lower())
        for p in prepared
        for row in p.recipient_rows
    }
    if not pairs:
        return list(prepared)
    reasons = await suppression_reasons(connection, pairs)
    if not reasons:
        return list(prepared)
    return [_dropped(p, reasons) for p in prepared]


def _dropped(prepared: PreparedMessage, reasons: Reasons) -> PreparedMessage:
    account_id = prepared.message_row["account_id"]
    rows: list[dict[str, Any]] = []
    dropped_events = []
    for row in prepared.recipient_rows:
        reason = reasons.get((account_id, row["email"].lower()))
        if reason is None:
            rows.append(row)
            continue
        rows.append({**row, "status": RecipientStatus.SUPPRESSED.value, "next_attempt_at": None})
        dropped_events.append(
            new_event(
                account_id=account_id,
                message_id=row["message_id"],
                recipient=row["email"],
                type=EventType.DROPPED,
                data={"reason": "suppressed", "suppression_reason": reason},
                at=row["updated_at"] + _AFTER_ACCEPTED,
                domain=sender_domain(prepared.message_row["from_email"]),
                tags=prepared.message_row["tags"],
            )
        )
    if not dropped_events:
        return prepared
    stored = msgspec.structs.replace(
        prepared.stored, recipient_statuses=tuple(row["status"] for row in rows)
    )
    return msgspec.structs.replace(
        prepared, stored=stored, recipient_rows=rows, events=prepared.events + dropped_events
    )
