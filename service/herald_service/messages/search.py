"""Search an account's messages: by recipient, status, tag and time, newest first."""

from __future__ import annotations

import json
from datetime import datetime

from msgspec import Struct
from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.pagination import decode_cursor, encode_cursor
from herald_service.storage.models import Message, Recipient


class MessageFilter(Struct, frozen=True, kw_only=True):
    """What ``GET /v1/messages`` narrows by; every field is optional."""

    recipient: str | None = None
    status: str | None = None
    tag: str | None = None
    sender: str | None = None
    sender_domain: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def has_tag(tag: str) -> ColumnElement[bool]:
    """Messages whose JSON ``tags`` list holds exactly ``tag`` (not a longer tag)."""
    escaped = json.dumps(tag).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(Message.tags, String).like(f"%{escaped}%", escape="\\")


async def search_messages(
    session: AsyncSession,
    account_id: str,
    filters: MessageFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Message], str | None]:
    """Matching messages (with recipients loaded) newest first, and the next cursor."""
    query = select(Message).where(Message.account_id == account_id)
    if filters.recipient or filters.status:
        match = select(Recipient.message_id).where(Recipient.message_id == Message.id)
        if filters.recipient:
            match = match.where(func.lower(Recipient.email) == filters.recipient.strip().lower())
        if filters.status:
            match = match.where(Recipient.status == filters.status)
        query = query.where(match.exists())
    if filters.sender:
        query = query.where(func.lower(Message.from_email) == filters.sender.strip().lower())
    if filters.sender_domain:
        domain = filters.sender_domain.strip().lower().replace("\\", "\\\\")
        domain = domain.replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(Message.from_email).like(f"%@{domain}", escape="\\"))
    if filters.tag:
        query = query.where(has_tag(filters.tag))
    if filters.since is not None:
        query = query.where(Message.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Message.created_at < filters.until)
    if cursor:
        at, message_id = decode_cursor(cursor)
        query = query.where(
            or_(Message.created_at < at, and_(Message.created_at == at, Message.id < message_id))
        )
    query = query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit + 1)
    rows = list((await session.execute(query)).scalars())
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return page, (encode_cursor(last.created_at, last.id) if last is not None else None)
