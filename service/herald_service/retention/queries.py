"""The SQL of pruning: one bounded batch at a time, each found by an index range.

Every kind but the hour counters is walked in primary-key order, which is time order
(``msg_``/``evt_``/``whd_`` ids start with their millisecond, the others are
autoincrement): a batch reads the next ``limit`` keys after the last one it saw, prunes
those older than the cutoff, and the walk ends at the first row that is not. So a batch
reads one short range of an index, never the table, and a row kept for a reason (a
message still in flight, a webhook delivery still pending) is stepped over, not re-read
by every batch. Messages are walked through a partial index of the unpruned ones only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, delete, exists, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from herald_service.core.retention import Kind
from herald_service.core.states import RecipientStatus, WebhookDeliveryStatus
from herald_service.core.stats import HOUR
from herald_service.storage.models import (
    CapturedMessage,
    DeliveryAttempt,
    Event,
    Message,
    Recipient,
    StatsCounter,
    WebhookAttempt,
    WebhookDelivery,
)

FINAL_STATUSES = tuple(status.value for status in RecipientStatus if status.is_final)


@dataclass(frozen=True)
class Walk:
    """How one kind is pruned: its key, its age column, what it may and may not touch."""

    key: InstrumentedAttribute[Any]
    """The primary key, which grows with time."""
    at: InstrumentedAttribute[datetime]
    scope: ColumnElement[bool] | None = None
    """Which rows the walk reads (the condition of the partial index it reads)."""
    prunable: ColumnElement[bool] | None = None
    """Which old rows may go; the others are kept (checked again in the write itself)."""
    children: tuple[InstrumentedAttribute[Any], ...] = ()
    """Foreign keys of rows deleted first, with their parent."""
    blank: Callable[[datetime], dict[str, Any]] | None = None
    """The columns set on the row (given the time) instead of deleting it."""


_IN_FLIGHT = exists().where(
    Recipient.message_id == Message.id, Recipient.status.not_in(FINAL_STATUSES)
)

WALKS: dict[Kind, Walk] = {
    Kind.BODIES: Walk(
        Message.id,
        Message.created_at,
        scope=Message.body_pruned_at.is_(None),
        prunable=Message.body_pruned_at.is_(None) & ~_IN_FLIGHT,
        blank=lambda now: {"raw": b"", "body_pruned_at": now},
    ),
    Kind.EVENTS: Walk(Event.id, Event.at),
    Kind.ATTEMPTS: Walk(DeliveryAttempt.id, DeliveryAttempt.at),
    Kind.WEBHOOK_DELIVERIES: Walk(
        WebhookDelivery.id,
        WebhookDelivery.created_at,
        prunable=WebhookDelivery.status != WebhookDeliveryStatus.PENDING.value,
        children=(WebhookAttempt.delivery_id,),
    ),
    Kind.CAPTURED: Walk(CapturedMessage.id, CapturedMessage.received_at),
}


@dataclass(frozen=True)
class Step:
    """What one batch did and where the next one starts."""

    pruned: int
    after: Any
    """The last key read; the next batch reads after it."""
    finished: bool
    """The walk reached rows newer than the cutoff, or the end of the table."""


async def prune_batch(
    session: AsyncSession,
    walk: Walk,
    *,
    cutoff: datetime,
    after: Any,
    limit: int,
    now: datetime,
    dry_run: bool = False,
) -> Step:
    """Prune (or with ``dry_run`` count) the old rows among the ``limit`` keys after
    ``after``."""
    read = select(walk.key, walk.at).order_by(walk.key).limit(limit)
    if after is not None:
        read = read.where(walk.key > after)
    if walk.scope is not None:
        read = read.where(walk.scope)
    rows = (await session.execute(read)).all()
    old = [key for key, at in rows if at < cutoff]
    finished = len(rows) < limit or len(old) < len(rows)
    last = rows[-1][0] if rows else after
    if not old:
        return Step(0, last, finished)
    chosen: list[ColumnElement[bool]] = [walk.key.in_(old)]
    if walk.prunable is not None:
        chosen.append(walk.prunable)
    table = walk.key.class_
    if dry_run:
        count = select(func.count()).select_from(table).where(*chosen)
        return Step((await session.execute(count)).scalar_one(), last, finished)
    for child in walk.children:
        parents = select(walk.key).where(*chosen)
        await session.execute(delete(child.class_).where(child.in_(parents)))
    if walk.blank is not None:
        write: Any = update(table).where(*chosen).values(**walk.blank(now))
    else:
        write = delete(table).where(*chosen)
    result = await session.execute(write.execution_options(synchronize_session=False))
    return Step(cast(CursorResult[Any], result).rowcount, last, finished)


async def prune_hour_counters(
    session: AsyncSession, *, cutoff: datetime, limit: int, dry_run: bool = False
) -> int:
    """Delete up to ``limit`` hour counter rows older than ``cutoff`` (with ``dry_run``,
    count all of them); how many. Deleted rows leave the index range, so each batch
    reads from its start."""
    c = StatsCounter
    old = (c.granularity == HOUR, c.bucket < cutoff)
    if dry_run:
        return (await session.execute(select(func.count()).where(*old))).scalar_one()
    columns = (c.account_id, c.granularity, c.tag, c.bucket, c.domain, c.stripe)
    keys = [tuple(row) for row in await session.execute(select(*columns).where(*old).limit(limit))]
    if not keys:
        return 0
    result = await session.execute(
        delete(c).where(tuple_(*columns).in_(keys)).execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount
