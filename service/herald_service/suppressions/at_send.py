"""Which recipients of a batch of new messages are suppressed, in one query.

The send path asks for a whole batch of prepared messages at once: one indexed query (the
``(account_id, email)`` unique index) on the connection that then stores the batch, so one
round trip per batch of concurrent sends, not per recipient or per request. What it does
with the answer is the messages slice's business
(:mod:`herald_service.messages.suppressed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from herald_service.storage.models import Suppression
from herald_service.storage.models.base import Base

_SUPPRESSIONS = Base.metadata.tables[Suppression.__tablename__]
# One statement whatever the batch size, so PostgreSQL prepares it once per connection.
_PG_LOOKUP = (
    "SELECT account_id, email, reason FROM suppressions"
    " WHERE account_id = ANY($1) AND email = ANY($2)"
)

Reasons = dict[tuple[str, str], str]
"""The suppression reason by ``(account_id, lower-case email)``."""


async def suppression_reasons(connection: AsyncConnection, pairs: set[tuple[str, str]]) -> Reasons:
    """The reason each suppressed pair of ``(account_id, lower-case email)`` is suppressed;
    pairs that are not suppressed are absent."""
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
