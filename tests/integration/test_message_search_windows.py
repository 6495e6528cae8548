"""Message search strategies that keep Activity fast with many messages (by tag or domain:
window by window back in time; by a rare status: its recipients first) give the same pages
as one search over everything would: newest first, none lost or repeated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from herald_service.core.ids import new_id
from herald_service.messages import search
from herald_service.messages.service import MessageFilter, search_messages
from herald_service.storage.database import async_session_factory, make_async_engine
from herald_service.storage.models import Message
from support.harness import Herald, Tenant
from support.stored import message_row, store_message

AGES = [
    timedelta(minutes=10),
    timedelta(hours=3),
    timedelta(days=2),
    timedelta(days=10),
    timedelta(days=60),
    timedelta(days=400),
]


def row(
    tenant: Tenant, message_id: str, at: datetime, tags: list[str], sender: str = "a@mine.example"
) -> dict[str, object]:
    """The columns of a stored message."""
    return message_row(message_id, tenant.account_id, tenant.domain_id, at, tags, sender)


async def test_pages_cross_every_window(herald: Herald) -> None:
    tenant = await herald.create_tenant("mine.example")
    now = datetime.now(UTC)
    rows, wanted = [], []
    for age in AGES:
        for tagged in (True, False):
            message_id = new_id("msg")
            at = now - age - timedelta(seconds=1 if tagged else 2)
            sender = "app@news.example" if tagged else "app@mine.example"
            rows.append(row(tenant, message_id, at, ["wanted" if tagged else "other"], sender))
            if tagged:
                wanted.append(message_id)
    engine = make_async_engine(herald.settings.database_url)
    try:
        async with engine.begin() as db:
            await db.execute(insert(Message), rows)
        async with async_session_factory(engine)() as db:
            for filters in (
                MessageFilter(tag="wanted"),
                MessageFilter(sender_domain="news.example"),
            ):
                seen, cursor = [], None
                for _ in range(4):
                    page, cursor = await search_messages(
                        db, tenant.account_id, filters, cursor=cursor, limit=2
                    )
                    seen += [m.id for m in page]
                    if cursor is None:
                        break
                assert seen == wanted, filters
                assert cursor is None

            since = MessageFilter(tag="wanted", since=now - timedelta(days=5))
            page, cursor = await search_messages(db, tenant.account_id, since, limit=10)
            assert [m.id for m in page] == wanted[:3] and cursor is None

            until = MessageFilter(tag="wanted", until=now - timedelta(days=1))
            page, cursor = await search_messages(db, tenant.account_id, until, limit=2)
            assert [m.id for m in page] == wanted[2:4] and cursor is not None
            page, cursor = await search_messages(
                db, tenant.account_id, until, cursor=cursor, limit=2
            )
            assert [m.id for m in page] == wanted[4:] and cursor is None
    finally:
        await engine.dispose()


@pytest.mark.parametrize("rare", [0, 2_000], ids=["walk", "lookup"])
async def test_status_filter_by_walk_or_lookup(
    herald: Herald, monkeypatch: pytest.MonkeyPatch, rare: int
) -> None:
    """A status few recipients have is looked up first, a common one checked message by
    message: the same messages either way, newest first, only the account's."""
    monkeypatch.setattr(search, "RARE_STATUS", rare)
    mine = await herald.create_tenant("mine.example")
    theirs = await herald.create_tenant("theirs.example")
    now = datetime.now(UTC)
    statuses = [("bounced",), ("delivered",), ("delivered", "bounced"), ("queued",)]
    ids = [
        await store(herald, mine, now - timedelta(minutes=n), *s) for n, s in enumerate(statuses)
    ]
    await store(herald, theirs, now, "bounced")
    engine = make_async_engine(herald.settings.database_url)
    try:
        async with async_session_factory(engine)() as db:
            for status, expected in (("bounced", [0, 2]), ("delivered", [1, 2]), ("failed", [])):
                page, cursor = await search_messages(
                    db, mine.account_id, MessageFilter(status=status), limit=1
                )
                rest, _ = await search_messages(
                    db, mine.account_id, MessageFilter(status=status), cursor=cursor, limit=5
                )
                assert [m.id for m in page + rest] == [ids[i] for i in expected], status
    finally:
        await engine.dispose()


async def store(herald: Herald, tenant: Tenant, at: datetime, *statuses: str) -> str:
    """A message created ``at`` with a recipient in each of ``statuses``."""
    url = herald.settings.database_url
    return await store_message(url, tenant.account_id, tenant.domain_id, at, *statuses)
