"""Reading the capture inbox: what the capture SMTP server stored, newest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald_service.errors import NotFound
from herald_service.storage.models import CapturedMessage


async def list_captured(session: AsyncSession, limit: int) -> list[CapturedMessage]:
    """The newest ``limit`` captured messages first."""
    rows = await session.execute(
        select(CapturedMessage).order_by(CapturedMessage.id.desc()).limit(limit)
    )
    return list(rows.scalars())


async def get_captured(session: AsyncSession, captured_id: int) -> CapturedMessage:
    """One captured message, or :class:`NotFound`."""
    message = await session.get(CapturedMessage, captured_id)
    if message is None:
        raise NotFound(f"no captured message {captured_id}")
    return message
