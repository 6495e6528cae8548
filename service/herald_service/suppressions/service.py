"""The per-account suppression list: addresses Herald will not send to.

Addresses are compared case-insensitively (stored lower case). Hard bounces and complaints
add entries automatically; callers add, list and remove them through the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.core.ids import new_id
from herald_service.errors import Collector, FieldError, InvalidRequest, NotFound
from herald_service.mail.addresses import check_bare_address
from herald_service.pagination import decode_cursor, encode_cursor
from herald_service.storage.models import Suppression
from herald_service.storage.types import utcnow
from herald_service.suppressions.at_send import Reasons as Reasons
from herald_service.suppressions.at_send import suppression_reasons as suppression_reasons

Reason = Literal["bounce", "complaint", "unsubscribe", "manual"]
REASONS: tuple[str, ...] = get_args(Reason)
MAX_PAGE = 1000


def normalize(email: str) -> str:
    """The form addresses are stored and compared in."""
    return email.strip().lower()


def checked_email(field: str, email: str) -> str:
    """A valid address, normalized, or a 422 naming ``field``."""
    errors = Collector()
    address = check_bare_address(errors, field, email)
    errors.raise_if_any()
    assert address is not None
    return normalize(address.email)


def checked_reason(field: str, reason: str) -> str:
    """``reason`` when it is one Herald knows, else a 422 naming ``field``."""
    if reason not in REASONS:
        raise InvalidRequest(
            f"unknown suppression reason {reason!r}",
            [FieldError(field, f"must be one of {', '.join(REASONS)}")],
        )
    return reason


async def add_suppression(
    session: AsyncSession,
    account_id: str,
    email: str,
    reason: str,
    *,
    detail: str = "",
    message_id: str | None = None,
    at: datetime | None = None,
) -> tuple[Suppression, bool]:
    """Suppress ``email`` for the account; returns the entry and whether it is new.

    Safe when two workers suppress the same address at once: the loser finds the winner's row.
    """
    key = normalize(email)
    existing = await get_suppression(session, account_id, key, missing_ok=True)
    if existing is not None:
        return existing, False
    row = Suppression(
        id=new_id("sup"),
        account_id=account_id,
        email=key,
        reason=reason,
        detail=detail[:2000],
        message_id=message_id,
        created_at=at or utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = await get_suppression(session, account_id, key, missing_ok=True)
        assert found is not None
        return found, False
    return row, True


async def get_suppression(
    session: AsyncSession, account_id: str, email: str, *, missing_ok: bool = False
) -> Suppression | None:
    """The account's entry for ``email``; :class:`NotFound` unless ``missing_ok``."""
    row = (
        await session.execute(
            select(Suppression).where(
                Suppression.account_id == account_id, Suppression.email == normalize(email)
            )
        )
    ).scalar()
    if row is None and not missing_ok:
        raise NotFound(f"{email} is not suppressed")
    return row


async def remove_suppression(session: AsyncSession, account_id: str, email: str) -> None:
    """Take ``email`` off the account's list, or :class:`NotFound`."""
    result = await session.execute(
        delete(Suppression).where(
            Suppression.account_id == account_id, Suppression.email == normalize(email)
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"{email} is not suppressed")


async def suppressed_among(
    session: AsyncSession, account_id: str, emails: Iterable[str]
) -> dict[str, Suppression]:
    """Entries for those of ``emails`` that are suppressed, keyed by normalized address."""
    keys = sorted({normalize(e) for e in emails})
    if not keys:
        return {}
    rows = await session.execute(
        select(Suppression).where(Suppression.account_id == account_id, Suppression.email.in_(keys))
    )
    return {row.email: row for row in rows.scalars()}


async def list_suppressions(
    session: AsyncSession,
    account_id: str,
    *,
    reason: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[Sequence[Suppression], str | None]:
    """A page of entries, newest first, and the cursor of the next page (None at the end)."""
    query = select(Suppression).where(Suppression.account_id == account_id)
    if reason is not None:
        query = query.where(Suppression.reason == reason)
    if cursor:
        after, after_id = decode_cursor(cursor)
        query = query.where(
            or_(
                Suppression.created_at < after,
                and_(Suppression.created_at == after, Suppression.id < after_id),
            )
        )
    newest_first = query.order_by(Suppression.created_at.desc(), Suppression.id.desc())
    rows = list((await session.execute(newest_first.limit(limit + 1))).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None)
