"""Searching by tag or sending domain reads back in time window by window; the pages are
the same as one search over everything would give: newest first, none lost or repeated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from herald_service.core.ids import new_id
from herald_service.messages.service import MessageFilter, search_messages
from herald_service.storage.database import async_session_factory, make_async_engine
from herald_service.storage.models import Message
from support.harness import Herald

AGES = [
    timedelta(minutes=10),
    timedelta(hours=3),
    timedelta(days=2),
    timedelta(days=10),
    timedelta(days=60),
    timedelta(days=400),
]


async def test_pages_cross_every_window(herald: Herald) -> None:
    tenant = await herald.create_tenant("mine.example")
    now = datetime.now(UTC)
    rows, wanted = [], []
    for n, age in enumerate(AGES):
        for tagged in (True, False):
            message_id = new_id("msg")
            rows.append(
                {
                    "id": message_id,
                    "account_id": tenant.account_id,
                    "domain_id": tenant.domain_id,
                    "from_email": f"app@{'news.example' if tagged else 'mine.example'}",
                    "subject": f"{n}",
                    "message_id_header": f"<{message_id}@example.com>",
                    "raw": b"Subject: s\r\n\r\nbody\r\n",
                    "tags": ["wanted"] if tagged else ["other"],
                    "metadata_": {},
                    "created_at": now - age - timedelta(seconds=1 if tagged else 2),
                }
            )
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
