"""What the public tracking endpoints do: resolve a token, record the event, answer.

Recipients hit these at scale, so each costs one primary-key read (cached: a message's
links never change; the misses of concurrent requests are read by one query) and one
batched write: events of concurrent requests share a
transaction (and, on PostgreSQL, one statement with their webhook deliveries), as
accepted messages do. Opens count once per recipient per hour (a Redis key); a repeat
within the hour is answered the same and recorded nowhere.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from herald_service.core.machine_activity import is_machine, kept_ip
from herald_service.core.states import EventType, RecipientStatus
from herald_service.core.tracking_tokens import TokenRef, read_token
from herald_service.events.service import (
    EndpointSource,
    NewEvent,
    event_rows,
    new_event,
    sender_domain,
)
from herald_service.storage.batched_writes import BatchedWriter, one_statement_connections
from herald_service.storage.bulk_insert import insert_rows
from herald_service.storage.models import Message, Recipient
from herald_service.storage.types import utcnow

log = logging.getLogger("herald.tracking")
OPEN_WINDOW_SECONDS = 3600
_CACHE_SECONDS = 60.0
_CACHE_SIZE = 20_000


class Visit(msgspec.Struct, frozen=True):
    """Who followed a link or loaded a pixel, as the request tells."""

    method: str
    user_agent: str
    ip: str


class TrackedMessage(msgspec.Struct, frozen=True):
    """What the endpoints need of a message: owner, tracked links, its one recipient."""

    id: str
    account_id: str
    links: tuple[str, ...]
    recipient: str
    """The recipient when there is one; empty for a message to several."""
    delivered_at: datetime | None
    tracking: dict[str, Any]
    domain: str = ""
    """The sending domain its stats count under."""
    tags: tuple[str, ...] = ()


async def read_tracked_messages(
    executor: AsyncConnection | AsyncSession, message_ids: Sequence[str]
) -> list[TrackedMessage | None]:
    """What the tracking endpoints need of each of ``message_ids``, in their order, by two
    indexed reads (the messages by primary key, their recipients by ``message_id``); None:
    no such message, or nothing of it tracked."""
    wanted = set(message_ids)
    messages = (
        await executor.execute(
            select(
                Message.id, Message.account_id, Message.tracking, Message.from_email, Message.tags
            ).where(Message.id.in_(wanted), Message.tracking.is_not(None))
        )
    ).all()
    tracked = [m for m in messages if m.tracking]
    recipients: dict[str, list[Any]] = {m.id: [] for m in tracked}
    if tracked:
        rows = await executor.execute(
            select(
                Recipient.message_id, Recipient.email, Recipient.status, Recipient.updated_at
            ).where(Recipient.message_id.in_(list(recipients)))
        )
        for row in rows:
            recipients[row.message_id].append(row)
    found = {m.id: _tracked(m, recipients[m.id]) for m in tracked}
    return [found.get(message_id) for message_id in message_ids]


def _tracked(message: Any, recipients: list[Any]) -> TrackedMessage:
    """A tracked message from its row and its recipients' rows."""
    single = recipients[0] if len(recipients) == 1 else None
    delivered = single is not None and single.status == RecipientStatus.DELIVERED
    return TrackedMessage(
        id=message.id,
        account_id=message.account_id,
        links=tuple(message.tracking.get("links") or ()),
        recipient=single.email if single is not None else "",
        delivered_at=single.updated_at if delivered and single is not None else None,
        tracking=dict(message.tracking),
        domain=sender_domain(message.from_email),
        tags=tuple(message.tags or ()),
    )


async def load_tracked_message(
    sessions: async_sessionmaker[AsyncSession], message_id: str
) -> TrackedMessage | None:
    """What the tracking endpoints need of ``message_id`` (see :func:`read_tracked_messages`)."""
    async with sessions() as session:
        return (await read_tracked_messages(session, [message_id]))[0]


class TrackingRecorder:
    """Resolves tokens and records opens and clicks for one API process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis,
        key: bytes,
        ip_privacy: str,
        endpoints: EndpointSource | None = None,
    ) -> None:
        self._sessions = sessions
        self._redis = redis
        self.key = key
        self._ip_privacy = ip_privacy
        self._endpoints = endpoints
        self._cache: OrderedDict[str, tuple[float, TrackedMessage | None]] = OrderedDict()
        engine: AsyncEngine = sessions.kw["bind"]
        parallel = 1 if engine.dialect.name == "sqlite" else 2
        self._writer: BatchedWriter[AsyncConnection, NewEvent, None] = BatchedWriter(
            one_statement_connections(engine), self._write, parallel=parallel
        )
        # Messages not in the cache, asked for by concurrent requests, read by one query.
        self._reader: BatchedWriter[AsyncConnection, str, TrackedMessage | None] = BatchedWriter(
            one_statement_connections(engine), read_tracked_messages
        )

    async def _write(self, connection: AsyncConnection, events: list[NewEvent]) -> list[None]:
        await insert_rows(connection, *await event_rows(connection, events, self._endpoints))
        return [None] * len(events)

    def token(self, token: str, kind: str) -> TokenRef | None:
        """The reference of a valid ``token`` of ``kind``, else None."""
        ref = read_token(self.key, token)
        return ref if ref is not None and ref.kind == kind else None

    async def message(self, message_id: str) -> TrackedMessage | None:
        """The tracked message, cached for a minute (None: gone, or nothing tracked)."""
        now = time.monotonic()
        cached = self._cache.get(message_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self._load(message_id)
        self._cache[message_id] = (now + _CACHE_SECONDS, found)
        self._cache.move_to_end(message_id)
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return found

    async def _load(self, message_id: str) -> TrackedMessage | None:
        return await self._reader.submit(message_id)

    def _event(
        self, message: TrackedMessage, type_: EventType, kind: str, visit: Visit, **data: Any
    ) -> NewEvent:
        since = None
        if message.delivered_at is not None:
            since = (utcnow() - message.delivered_at).total_seconds()
        machine = is_machine(kind, visit.method, visit.user_agent, since)
        details = {
            **data,
            "user_agent": visit.user_agent[:500],
            "ip": kept_ip(visit.ip, self._ip_privacy),
            "machine": machine,
        }
        return new_event(
            account_id=message.account_id,
            message_id=message.id,
            type=type_,
            recipient=message.recipient,
            data=details,
            domain=message.domain,
            tags=message.tags,
        )

    async def click(self, token: str, visit: Visit) -> str | None:
        """The original URL of a tracked link (its click recorded), or None: not found."""
        ref = self.token(token, "c")
        message = await self.message(ref.message_id) if ref is not None else None
        if ref is None or message is None or ref.link >= len(message.links):
            return None
        url = message.links[ref.link]
        await self._writer.submit(
            self._event(message, EventType.CLICKED, "click", visit, url=url, link=ref.link)
        )
        return url

    async def open(self, token: str, visit: Visit) -> bool:
        """Record an open (at most once per recipient per hour); False: not found."""
        ref = self.token(token, "o")
        message = await self.message(ref.message_id) if ref is not None else None
        if message is None:
            return False
        if await self._first_open_this_hour(message):
            await self._writer.submit(self._event(message, EventType.OPENED, "open", visit))
        return True

    async def _first_open_this_hour(self, message: TrackedMessage) -> bool:
        key = f"herald:opened:{message.id}:{message.recipient}"
        try:
            return bool(await self._redis.set(key, b"1", nx=True, ex=OPEN_WINDOW_SECONDS))
        except RedisError:
            log.warning("open recorded without the hourly check: Redis unavailable")
            return True

    async def close(self) -> None:
        """Write the events under way."""
        await self._reader.close()
        await self._writer.close()
