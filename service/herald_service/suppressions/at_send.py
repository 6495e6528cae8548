"""Drop suppressed recipients when a message is accepted, so that the ``202`` says so.

The recipients of a batch of prepared messages are looked up in one indexed query (the
``(account_id, email)`` unique index), on the connection that then stores the batch: one
round trip per batch of concurrent sends, not per recipient or per request. A recipient
found there is stored ``suppressed`` with its ``message.dropped`` event next to
``message.accepted``, and never queued. The delivery worker still checks again before each
attempt, for addresses suppressed after the message was accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import msgspec
import psycopg
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from herald_service.core.states import EventType, RecipientStatus
from herald_service.events.service import new_event
from herald_service.messages.store import PreparedMessage
from herald_service.storage.models import Suppression
from herald_service.storage.models.base import Base

_SUPPRESSIONS = Base.metadata.tables[Suppression.__tablename__]
# One statement whatever the batch size, so PostgreSQL prepares it once per connection.
_PG_LOOKUP = (
    "SELECT account_id, email, reason FROM suppressions"
    " WHERE account_id = ANY($1) AND email = ANY($2)"
)
# The dropped event sorts after the accepted one it follows (same request, same instant).
_AFTER_ACCEPTED = timedelta(microseconds=1)

Reasons = dict[tuple[str, str], str]


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
    reasons = await _suppression_reasons(connection, pairs)
    if not reasons:
        return list(prepared)
    return [_dropped(p, reasons) for p in prepared]


async def _suppression_reasons(connection: AsyncConnection, pairs: set[tuple[str, str]]) -> Reasons:
    accounts = sorted({account for account, _ in pairs})
    emails = sorted({email for _, email in pairs})
    if connection.dialect.name == "postgresql":
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        cursor = psycopg.AsyncRawCursor(driver)
        try:
            await cursor.execute(_PG_LOOKUP, [accounts, emails])
            rows: Sequence[Any] = await cursor.fetchall()
        except psycopg.Error as exc:  # as SQLAlchemy would raise it
            raise DBAPIError.instance(_PG_LOOKUP, None, exc, psycopg.Error) from exc
    else:
        s = _SUPPRESSIONS.c
        query = select(s.account_id, s.email, s.reason).where(
            s.account_id.in_(accounts), s.email.in_(emails)
        )
        rows = (await connection.execute(query)).all()
    return {(a, e): r for a, e, r in rows if (a, e) in pairs}


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
